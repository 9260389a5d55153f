/** `npm start` as the README promises: one command, server + gateway + page, Ctrl-C stops it. */
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, echoAll } from '../fixtures/inPage.js';
import { startProcess } from '../fixtures/processes.js';
import { expect, test } from '../fixtures/test.js';

const START = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/start.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

test('npm start serves the page with a gateway in the default room, echoes, and stops on Ctrl-C (SIGINT)', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const port = await freePort();
  const { proc } = await startProcess(START, [], /rtcgate is running/, { PORT: String(port) }, 90_000);
  try {
    expect(proc.output()).toContain(`Open http://localhost:${port}/ in Chrome or Firefox`);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { peers: number };
    expect(health.peers).toBe(1); // the gateway, joined
    await page.goto(`http://127.0.0.1:${port}/`);
    await connect(page, { room: 'default', transport: 'ws', offerer: 'browser' });
    expect(await echoAll(page, [{ text: 'started with npm start' }])).toEqual([
      { text: 'started with npm start' },
    ]);
    expect(await proc.stop('SIGINT')).toBe(0);
  } finally {
    await proc.stop('SIGKILL');
  }
});
