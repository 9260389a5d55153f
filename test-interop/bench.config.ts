import { defineConfig } from '@playwright/test';
import { chromiumLaunch, firefoxLaunch } from './browsers.mjs';
import type { DcOptions } from './fixtures/dc.js';

/**
 * `npm run bench`: measurements, not tests. One worker, so that nothing else runs beside a
 * measurement; every figure is a ratio against a reference measured in the same run.
 */
export default defineConfig<DcOptions>({
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  outputDir: './test-results/bench',
  timeout: 300_000,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/bench/results.json' }]],
  projects: (['chromium', 'firefox'] as const).map((browser) => ({
    name: browser,
    use: {
      browserName: browser,
      launchOptions: browser === 'chromium' ? chromiumLaunch() : firefoxLaunch(),
      offerer: 'browser' as const,
    },
  })),
});
