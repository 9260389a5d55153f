/** When a browser closes, leaves or vanishes, the gateway frees its session; SIGTERM ends all. */
import { closeConnection, connect } from '../fixtures/inPage.js';
import { startGateway } from '../fixtures/processes.js';
import { expect, test } from '../fixtures/test.js';

test('the browser closing its connection (bye) frees the gateway session', async ({
  rtcPage,
  stack,
  gatewayView,
}) => {
  const { peerId } = await connect(rtcPage, { room: stack.room, transport: 'ws', offerer: 'browser' });
  expect(await gatewayView.session(peerId)).toBeDefined();
  await closeConnection(rtcPage);
  await expect.poll(() => gatewayView.session(peerId), { timeout: 10_000 }).toBeUndefined();
});

test('a page that goes away without a bye has its gateway session freed', async ({
  rtcPage,
  stack,
  gatewayView,
}) => {
  const { peerId } = await connect(rtcPage, { room: stack.room, transport: 'socket.io', offerer: 'gateway' });
  expect(await gatewayView.session(peerId)).toBeDefined();
  await rtcPage.close();
  await expect.poll(() => gatewayView.session(peerId), { timeout: 15_000 }).toBeUndefined();
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to the gateway says bye to every browser and exits 0`, async ({ rtcPage, stack }) => {
    const room = `${stack.room}-${signal.toLowerCase()}`;
    const gateway = await startGateway(stack.signalUrl, room);
    try {
      await connect(rtcPage, { room, transport: 'ws', offerer: 'browser' });
      const closed = rtcPage.evaluate(
        () => new Promise<string>((resolve) => globalThis.conns!.main!.onClose(resolve)),
      );
      expect(await gateway.proc.stop(signal)).toBe(0);
      // The bye goes out before the gateway leaves signaling, on the same socket.
      expect(await closed).toBe('gateway said bye: gateway shutting down');
    } finally {
      await gateway.proc.stop('SIGKILL');
    }
  });
}
