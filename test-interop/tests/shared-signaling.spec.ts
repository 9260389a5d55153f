/**
 * Many connections of one page over one signaling connection (rtcgate.signal.v2, the library's
 * SharedSignaling): a browser opens WebSockets to one host one at a time, so a page that starts
 * many connections at once shares one instead (docs/protocol.md).
 */
import type { Page } from '@playwright/test';
import { expect, test } from '../fixtures/test.js';

interface HubCounts {
  connections: number;
  peers: number;
}

async function hubCounts(serverUrl: string): Promise<HubCounts> {
  const body = (await (await fetch(`${serverUrl}/healthz`)).json()) as HubCounts;
  return { connections: body.connections, peers: body.peers };
}

/** Opens the page's shared signaling connection and connects `n` gateway connections over it at once. */
function connectShared(
  page: Page,
  args: { room: string; transport: 'ws' | 'socket.io'; n: number },
): Promise<{ peerIds: string[]; echoed: string[] }> {
  return page.evaluate(async ({ room, transport, n }) => {
    const shared = await rtcgate.SharedSignaling.open(transport);
    const conns = await Promise.all(
      Array.from({ length: n }, () => rtcgate.GatewayConnection.connect({ room, signaling: shared })),
    );
    globalThis.shared = shared;
    conns.forEach((conn, i) => (globalThis.conns = { ...globalThis.conns, [`s${i}`]: conn }));
    const echoed = await Promise.all(
      conns.map(
        async (conn, i) => (await rtcgate.echo(await conn.channel('echo'), `hello ${i}`)).reply as string,
      ),
    );
    return { peerIds: conns.map((c) => c.peerId), echoed };
  }, args);
}

for (const transport of ['ws', 'socket.io'] as const) {
  test(`over ${transport}: 8 connections at once share one signaling connection; each echoes, one leaves without the others, and closing it ends the rest`, async ({
    rtcPage,
    stack,
    gatewayView,
  }) => {
    const before = await hubCounts(stack.serverUrl);
    const { peerIds, echoed } = await connectShared(rtcPage, { room: stack.room, transport, n: 8 });
    expect(new Set(peerIds).size).toBe(8);
    expect(echoed).toEqual(Array.from({ length: 8 }, (_, i) => `hello ${i}`));
    // One more connection on the server, eight more peers.
    await expect
      .poll(async () => {
        const now = await hubCounts(stack.serverUrl);
        return { connections: now.connections - before.connections, peers: now.peers - before.peers };
      })
      .toEqual({ connections: 1, peers: 8 });
    for (const id of peerIds) expect(await gatewayView.session(id)).toBeDefined();

    // One connection ends (a leave): its session and its peer go, the socket stays (one connection
    // on the server, seven peers), and it still carries new joins and the other connections.
    await rtcPage.evaluate(() => globalThis.conns!.s0!.close('one leaves'));
    await expect.poll(() => gatewayView.session(peerIds[0]!), { timeout: 10_000 }).toBeUndefined();
    await expect
      .poll(async () => {
        const now = await hubCounts(stack.serverUrl);
        return { connections: now.connections - before.connections, peers: now.peers - before.peers };
      })
      .toEqual({ connections: 1, peers: 7 });
    const after = await rtcPage.evaluate(async (room) => {
      const fresh = await rtcgate.GatewayConnection.connect({ room, signaling: globalThis.shared! });
      globalThis.conns = { ...globalThis.conns, fresh };
      const conn = globalThis.conns.s1!;
      return {
        fresh: (await rtcgate.echo(await fresh.channel('echo'), 'new after a leave')).reply,
        old: (await rtcgate.echo(await conn.channel('echo'), 'after a leave')).reply,
        peers: globalThis.shared!.peers,
        freshId: fresh.peerId,
      };
    }, stack.room);
    expect({ ...after, freshId: undefined }).toEqual({
      fresh: 'new after a leave',
      old: 'after a leave',
      peers: 8,
      freshId: undefined,
    });
    peerIds.push(after.freshId);
    expect(await hubCounts(stack.serverUrl)).toEqual({
      connections: before.connections + 1,
      peers: before.peers + 8,
    });

    // The shared connection ends: every connection over it hears it, and the gateway frees them all
    // (the server tells it peer-left for each).
    await rtcPage.evaluate(() => globalThis.shared!.close());
    await expect
      .poll(
        async () => (await Promise.all(peerIds.map((id) => gatewayView.session(id)))).filter(Boolean).length,
        {
          timeout: 15_000,
        },
      )
      .toBe(0);
    await expect
      .poll(async () => {
        const now = await hubCounts(stack.serverUrl);
        return { connections: now.connections - before.connections, peers: now.peers - before.peers };
      })
      .toEqual({ connections: 0, peers: 0 });
  });
}

test('a refused join over a shared connection rejects with the server code, and joins after it still work', async ({
  rtcPage,
  stack,
}) => {
  const result = await rtcPage.evaluate(async (room) => {
    const shared = await rtcgate.SharedSignaling.open('ws');
    try {
      // Sent together: the server answers joins in order, so each promise gets its own answer
      // (the refused one first: answers matched in any other order would move it).
      const attempts = await Promise.allSettled([
        rtcgate.GatewayConnection.connect({ room: 'not a room name!', signaling: shared }),
        rtcgate.GatewayConnection.connect({ room, signaling: shared }),
        rtcgate.GatewayConnection.connect({ room, signaling: shared }),
      ]);
      return attempts.map((a) =>
        a.status === 'fulfilled'
          ? (a.value.close('done'), 'connected')
          : `${(a.reason as InstanceType<typeof rtcgate.RtcgateError>).code}/${(a.reason as InstanceType<typeof rtcgate.RtcgateError>).signalCode}`,
      );
    } finally {
      shared.close();
    }
  }, stack.room);
  expect(result).toEqual(['SIGNALING_ERROR/INVALID_MESSAGE', 'connected', 'connected']);
});

test('a join on a shared connection that has closed rejects with CLOSED', async ({ rtcPage, stack }) => {
  const code = await rtcPage.evaluate(async (room) => {
    const shared = await rtcgate.SharedSignaling.open('ws');
    shared.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    return rtcgate.GatewayConnection.connect({ room, signaling: shared }).then(
      () => 'connected',
      (err: InstanceType<typeof rtcgate.RtcgateError>) => err.code,
    );
  }, stack.room);
  expect(code).toBe('CLOSED');
});

test('closing the shared connection while a connect waits fails it at once with CLOSED, not at its timeout', async ({
  rtcPage,
  stack,
}) => {
  const { code, ms } = await rtcPage.evaluate(async (room) => {
    const shared = await rtcgate.SharedSignaling.open('ws');
    // A room without a gateway: the connect waits for one (up to its 20 s).
    const pending = rtcgate.GatewayConnection.connect({ room, signaling: shared, timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    shared.close();
    const code = await pending.then(
      () => 'connected',
      (err: InstanceType<typeof rtcgate.RtcgateError>) => err.code,
    );
    return { code, ms: performance.now() - started };
  }, `${stack.room}-no-gateway`);
  expect(code).toBe('CLOSED');
  expect(ms).toBeLessThan(5000);
});
