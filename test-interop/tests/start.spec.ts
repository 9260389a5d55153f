/** `npm start` as the README promises: one command, server + gateway + page, Ctrl-C stops it. */
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, echoAll } from '../fixtures/inPage.js';
import { startProcess } from '../fixtures/processes.js';
import { expect, test } from '../fixtures/test.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START = path.join(ROOT, 'scripts/start.mjs');
const CHAT = path.join(ROOT, 'examples/chat/server.mjs');

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

test('npm start with ROUTES and the example chat backend: the page chats through the backend, and a label without a route says NO_ROUTE', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const [port, chatPort] = [await freePort(), await freePort()];
  const chat = await startProcess(CHAT, [], /chat backend on/, { PORT: String(chatPort) });
  const { proc } = await startProcess(
    START,
    [],
    /rtcgate is running/,
    { PORT: String(port), ROUTES: `chat=ws://127.0.0.1:${chatPort}/` },
    90_000,
  );
  try {
    expect(proc.output()).toContain(`chat → ws://127.0.0.1:${chatPort}/`);
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.getByTestId('connect').click();
    await expect(page.getByTestId('connection-state')).toHaveText('connected');
    await page.getByTestId('bridge-open').click();
    const log = page.getByTestId('bridge-log');
    await expect(log).toContainText('opened "chat"');
    await expect(log).toContainText(/p_\S+ joined \(1 here\)/);
    await page.getByTestId('bridge-message').fill('hello through the bridge');
    await page.getByTestId('bridge-send').click();
    await expect(log).toContainText(/p_\S+: hello through the bridge/);

    await page.getByTestId('bridge-label').fill('no-such-route');
    await page.getByTestId('bridge-open').click();
    await expect(log).toContainText(
      'closed "no-such-route": NO_ROUTE no route for the label "no-such-route"',
    );
    expect(await proc.stop('SIGINT')).toBe(0);
  } finally {
    await proc.stop('SIGKILL');
    await chat.proc.stop('SIGKILL');
  }
});
