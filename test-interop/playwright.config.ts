import { defineConfig } from '@playwright/test';
import { chromiumLaunch, firefoxLaunch, SNAP_ARGS } from './browsers.mjs';
import type { DcOptions } from './fixtures/dc.js';

export default defineConfig<DcOptions>({
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
  // The DataChannel suite (tests/dc-*.spec.ts) runs in every browser × offer direction; its
  // @core scenarios also over Socket.IO signaling and in Chromium with SCTP SNAP switched on.
  // The other specs choose their own transports and offer directions.
  projects: [
    ...(['chromium', 'firefox'] as const).flatMap((browser) => {
      const use = {
        browserName: browser,
        launchOptions: browser === 'chromium' ? chromiumLaunch() : firefoxLaunch(),
      };
      return [
        {
          name: browser,
          testIgnore: /lab-.*\.spec\.ts/,
          use: { ...use, offerer: 'browser' as const },
          metadata: { browser, variant: 'ws', offerer: 'browser' },
        },
        {
          name: `${browser} · gateway offers`,
          testMatch: /dc-.*\.spec\.ts/,
          use: { ...use, offerer: 'gateway' as const },
          metadata: { browser, variant: 'ws', offerer: 'gateway' },
        },
        ...(['browser', 'gateway'] as const).map((offerer) => ({
          name: `${browser} · socket.io · ${offerer} offers`,
          testMatch: /dc-.*\.spec\.ts/,
          grep: /@core/,
          use: { ...use, offerer, transport: 'socket.io' as const },
          metadata: { browser, variant: 'socket.io', offerer },
        })),
      ];
    }),
    ...(['browser', 'gateway'] as const).map((offerer) => ({
      name: `chromium · SNAP · ${offerer} offers`,
      testMatch: /dc-.*\.spec\.ts/,
      grep: /@core/,
      use: {
        browserName: 'chromium' as const,
        launchOptions: chromiumLaunch(SNAP_ARGS),
        offerer,
      },
      metadata: { browser: 'chromium', variant: 'snap', offerer },
    })),
    // The network lab (root only: namespaces, iptables, coturn): NAT traversal per topology.
    ...(['chromium', 'firefox'] as const).map((browser) => ({
      name: `${browser} · lab`,
      testMatch: /lab-.*\.spec\.ts/,
      use: {
        browserName: browser,
        launchOptions: browser === 'chromium' ? chromiumLaunch() : firefoxLaunch(),
      },
      metadata: { browser, variant: 'lab', offerer: 'browser' },
    })),
  ],
});
