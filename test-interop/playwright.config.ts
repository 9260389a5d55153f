import { defineConfig } from '@playwright/test';
import { chromiumLaunch, firefoxLaunch } from './browsers.mjs';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: process.env.INTEROP_WORKERS ? Number(process.env.INTEROP_WORKERS) : 2,
  retries: 0,
  forbidOnly: true,
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/results.json' }],
    ['html', { outputFolder: 'playwright-report', open: 'never' }],
  ],
  use: { trace: 'retain-on-failure', screenshot: 'only-on-failure' },
  projects: [
    { name: 'chromium', use: { browserName: 'chromium', launchOptions: chromiumLaunch() } },
    { name: 'firefox', use: { browserName: 'firefox', launchOptions: firefoxLaunch() } },
  ],
});
