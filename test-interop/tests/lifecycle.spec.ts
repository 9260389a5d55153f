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

for (const [reason, code] of [
  ['connection failed', 'CONNECTION_FAILED'],
  ['gateway shutting down', 'CLOSED'],
] as const) {
  test(`a gateway that says bye ("${reason}") while the page connects: connect() fails with ${code}, naming the bye`, async ({
    rtcPage,
    stack,
  }) => {
    // A stand-in gateway on the real signaling server, alone in its room, that answers the page's
    // offer with a bye, as the gateway does when its ICE or DTLS fails first.
    const result = await rtcPage.evaluate(
      async ({ reason, room }) => {
        const g = await rtcgate.openSignaling('ws');
        const joined = g.next((m) => m.type === 'joined', 5000);
        g.send({ type: 'join', room, role: 'gateway' });
        await joined;
        const off = g.onMessage((m) => {
          if (m.type === 'offer') g.send({ type: 'bye', to: m.from, reason });
        });
        try {
          await rtcgate.GatewayConnection.connect({ room, transport: 'ws', timeoutMs: 10_000 });
          return { code: 'connected', message: '' };
        } catch (err) {
          return { code: (err as { code?: string }).code, message: String(err) };
        } finally {
          off();
          g.close();
        }
      },
      { reason, room: `${stack.room}-bye-${code.toLowerCase()}` },
    );
    expect(result.code).toBe(code);
    expect(result.message).toContain(`gateway said bye: ${reason} while connecting`);
  });
}

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
