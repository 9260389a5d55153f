/**
 * Bridges: browser DataChannels carried by the gateway to real backend servers (fixtures/
 * backends.ts) through the routes the harness gateway is started with. The page uses the
 * library's BridgeChannel (credit-based backpressure and close reasons, docs/bridges.md).
 */
import { readFileSync } from 'node:fs';
import type { SessionInfo } from 'rtcgate-peer-node';
import { streamSha, intact } from '../fixtures/expect-stream.js';
import { connectDc, expect, test } from '../fixtures/dc.js';
import type { StreamSpec } from '../harness/streams.mjs';

const MIB = 1024 * 1024;

/** The most a loopback TCP connection's two sockets may buffer: tcp_wmem's and tcp_rmem's maxima. */
function kernelTcpBufferMax(): number {
  const max = (name: string) =>
    Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2] ?? Number.NaN);
  return max('tcp_wmem') + max('tcp_rmem');
}

test('WebSocket backend: text stays text, binary stays binary, a mixed stream echoes intact and in order', async ({
  dc,
}) => {
  const spec: StreamSpec = { seed: 51, count: 400, kind: 'mixed', maxSize: 60_000 };
  const seen = await dc.page.evaluate(async (spec) => {
    const bridge = await globalThis.conns!.main!.bridge('ws-echo');
    await bridge.send('héllo 🚀');
    await bridge.send(new Uint8Array([0, 1, 2, 255]));
    const text = await bridge.read();
    const binary = await bridge.read();
    const [received] = await Promise.all([
      harness.bridgeReceiveStream(bridge, spec.count),
      harness.bridgeSendStream(bridge, spec),
    ]);
    bridge.close();
    return {
      text,
      binary: binary instanceof ArrayBuffer ? [...new Uint8Array(binary)] : binary,
      received,
      end: await bridge.closed,
    };
  }, spec);
  expect(seen.text).toBe('héllo 🚀');
  expect(seen.binary).toEqual([0, 1, 2, 255]);
  expect(seen.received).toMatchObject(intact(spec, true));
  expect(seen.end.code).toBeNull();
});

test('TCP backend, raw framing: the bytes arrive as one stream, in order', async ({ dc }) => {
  const spec: StreamSpec = { seed: 52, count: 128, kind: 'binary', size: 16_384 };
  const seen = await dc.page.evaluate(async (spec) => {
    const bridge = await globalThis.conns!.main!.bridge('tcp-raw');
    const total = spec.count * spec.size!;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const reading = (async () => {
      while (bytes < total) {
        const m = await bridge.read();
        if (m === null) break;
        const b = typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m);
        chunks.push(b);
        bytes += b.byteLength;
      }
    })();
    await harness.bridgeSendStream(bridge, spec);
    await reading;
    bridge.close();
    return { bytes, messages: chunks.length, sha: await harness.sha256Hex(chunks) };
  }, spec);
  const expected = streamSha(spec);
  expect(seen.bytes).toBe(expected.bytes);
  expect(seen.sha).toBe(expected.sha);
});

test('TCP backend, length-prefixed framing: every message boundary survives the byte stream', async ({
  dc,
}) => {
  const seen = await dc.page.evaluate(async () => {
    const bridge = await globalThis.conns!.main!.bridge('tcp-lp');
    const max = Math.min(globalThis.conns!.main!.pc.sctp?.maxMessageSize ?? 65_536, 256 * 1024);
    const sizes = [1, 0, 5, 1000, 16_384, 65_536, max, 3, 100_000, 7].map((n) => Math.min(n, max));
    for (let round = 0; round < 5; round++) {
      for (const [i, size] of sizes.entries()) {
        const b = new Uint8Array(size);
        for (let k = 0; k < size; k++) b[k] = (k + i + round) & 0xff;
        await bridge.send(b);
      }
    }
    const got: number[] = [];
    let intactCount = 0;
    for (let n = 0; n < sizes.length * 5; n++) {
      const m = await bridge.read();
      if (m === null) break;
      const b = typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m);
      got.push(b.byteLength);
      const i = n % sizes.length;
      const round = Math.floor(n / sizes.length);
      if (b.every((v, k) => v === ((k + i + round) & 0xff))) intactCount++;
    }
    bridge.close();
    return { sizes: Array.from({ length: 5 }, () => sizes).flat(), got, intactCount };
  });
  expect(seen.got).toEqual(seen.sizes);
  expect(seen.intactCount).toBe(seen.sizes.length);
});

test('a label with no route: the gateway closes the channel and the library says NO_ROUTE', async ({
  dc,
}) => {
  const end = await dc.page.evaluate(async () => {
    const bridge = await globalThis.conns!.main!.bridge('unrouted-label');
    return bridge.closed;
  });
  expect(end.code).toBe('NO_ROUTE');
  expect(end.message).toContain('unrouted-label');
});

for (const label of ['ws-down', 'tcp-down']) {
  test(`backend refuses the connection (${label}): BACKEND_UNREACHABLE within 5 s`, async ({ dc }) => {
    const seen = await dc.page.evaluate(async (label) => {
      const started = performance.now();
      const bridge = await globalThis.conns!.main!.bridge(label);
      const end = await bridge.closed;
      return { end, ms: performance.now() - started };
    }, label);
    test.info().annotations.push({
      type: 'measured',
      description: `${label}: closed after ${Math.round(seen.ms)} ms`,
    });
    expect(seen.end.code).toBe('BACKEND_UNREACHABLE');
    expect(seen.ms).toBeLessThan(5000);
  });
}

test('backend closes mid-stream: what it sent first arrives, then BACKEND_CLOSED with its close code', async ({
  dc,
}) => {
  const seen = await dc.page.evaluate(async () => {
    const bridge = await globalThis.conns!.main!.bridge('ws-closer');
    const chunk = new Uint8Array(16_384).fill(7);
    // The backend echoes, and closes once 64 KiB came: after the fourth message.
    for (let i = 0; i < 4; i++) await bridge.send(chunk);
    let echoed = 0;
    for (let m = await bridge.read(); m !== null; m = await bridge.read()) {
      echoed += typeof m === 'string' ? m.length : m.byteLength;
    }
    return { echoed, end: await bridge.closed };
  });
  expect(seen.echoed).toBe(4 * 16_384);
  expect(seen.end.code).toBe('BACKEND_CLOSED');
  expect(seen.end.message).toContain('4001');
});

for (const kind of ['ws', 'tcp'] as const) {
  test(`${kind}: the browser sends 4 MiB and closes at once; the backend gets every byte, then the close`, async ({
    dc,
    backends,
    harness: gateway,
  }) => {
    const spec: StreamSpec = { seed: 53, count: 256, kind: 'binary', size: 16_384 };
    const label = kind === 'ws' ? `ws-sink-close-${test.info().project.name}` : 'tcp-sink';
    const tcpBefore = backends.tcpSinks.length;
    await dc.page.evaluate(
      async ({ spec, label }) => {
        const bridge = await globalThis.conns!.main!.bridge(label);
        await harness.bridgeSendStream(bridge, spec, { close: true });
      },
      { spec, label },
    );
    const expected = streamSha(spec);
    await expect
      .poll(() => {
        if (kind === 'ws') {
          const sink = backends.sinks.get(label);
          return sink?.closed
            ? { bytes: sink.bytes, sha: sink.sha.copy().digest('hex'), closed: true }
            : null;
        }
        const sink = backends.tcpSinks[tcpBefore];
        return sink?.ended ? { bytes: sink.bytes, sha: sink.sha.copy().digest('hex'), closed: true } : null;
      })
      .toEqual({ bytes: expected.bytes, sha: expected.sha, closed: true })
      .catch(async (err: unknown) => {
        const sinks = kind === 'ws' ? [backends.sinks.get(label)] : backends.tcpSinks.slice(tcpBefore);
        const bridges = await fetch(`${gateway.statusUrl}/bridges`).then((r) => r.text());
        throw new Error(
          `${String(err)}\nbackend: ${JSON.stringify(sinks.map((x) => x && { bytes: x.bytes, end: 'ended' in x ? x.ended : x.closed }))}\ngateway /bridges: ${bridges}`,
        );
      });
  });
}

test('the browser leaves with end() right after sending 4 MiB: the backend gets every byte, then the close, and the session is freed', async ({
  dc,
  backends,
  harness: gateway,
  offerer,
  transport,
}) => {
  const spec: StreamSpec = { seed: 56, count: 256, kind: 'binary', size: 16_384 };
  const label = `ws-sink-leave-${test.info().project.name}`;
  // A connection of its own: the test's main one stays for the fixture.
  const leaver = await connectDc(dc.page, { room: gateway.room, offerer, transport, name: 'leaver' });
  const result = await dc.page.evaluate(
    async ({ spec, label }) => {
      const conn = globalThis.conns!.leaver!;
      const bridge = await conn.bridge(label);
      await harness.bridgeSendStream(bridge, spec);
      // What the page had queued when it left: end() must deliver it.
      const queuedAtEnd = bridge.channel.bufferedAmount;
      // If end() gives up, which of the page's channels had not closed (read every 500 ms).
      let stuck: string[] = [];
      const peek = setInterval(() => {
        stuck = [...conn.channels.values()]
          .filter((c) => c.readyState !== 'closed')
          .map((c) => `${c.label}#${c.id}: ${c.readyState}, ${c.bufferedAmount} bytes queued`);
      }, 500);
      const started = performance.now();
      const drained = await conn.end();
      clearInterval(peek);
      return { queuedAtEnd, drained, stuck, tookMs: Math.round(performance.now() - started) };
    },
    { spec, label },
  );
  test.info().annotations.push({
    type: 'measured',
    description: `queued at end(): ${result.queuedAtEnd} bytes; end() took ${result.tookMs} ms`,
  });
  // When end() gives up, what the gateway and the backend saw says which side stopped.
  const view = async () =>
    `page channels not closed: ${result.stuck.join('; ')}\n` +
    `gateway /sessions: ${await fetch(`${gateway.statusUrl}/sessions`).then((r) => r.text(), String)}\n` +
    `gateway /bridges: ${await fetch(`${gateway.statusUrl}/bridges`).then((r) => r.text(), String)}\n` +
    `backend got ${backends.sinks.get(label)?.bytes ?? 0} bytes`;
  expect(result.drained, result.drained ? '' : await view()).toBe(true);
  const expected = streamSha(spec);
  await expect
    .poll(() => {
      const sink = backends.sinks.get(label);
      return sink?.closed
        ? { bytes: sink.bytes, sha: sink.sha.copy().digest('hex'), code: sink.closed.code }
        : null;
    })
    .toEqual({ bytes: expected.bytes, sha: expected.sha, code: 1000 });
  await expect
    .poll(async () => {
      const body = (await fetch(`${gateway.statusUrl}/sessions`).then((r) => r.json())) as {
        sessions: SessionInfo[];
      };
      return body.sessions.some((s) => s.peerId === leaver.peerId);
    })
    .toBe(false);
});

test('the backend sends 4 MiB and closes at once; the browser reads every byte, then BACKEND_CLOSED', async ({
  dc,
}) => {
  const spec: StreamSpec = { seed: 54, count: 256, kind: 'binary', size: 16_384 };
  const seen = await dc.page.evaluate(async (spec) => {
    const bridge = await globalThis.conns!.main!.bridge(`ws-source:${spec.seed}:${spec.count}:${spec.size}`);
    const received = await harness.bridgeReceiveStream(bridge, spec.count);
    return { received, end: await bridge.closed };
  }, spec);
  const view = await dc.control<SessionInfo>('view');
  const gatewaySide = view.channels.find((c) => c.label.startsWith('ws-source:'));
  expect(seen.received, `gateway's view: ${JSON.stringify(gatewaySide)}`).toMatchObject(intact(spec, true));
  expect(seen.end.code).toBe('BACKEND_CLOSED');
});

test('the browser closes the channel: the gateway closes its backend connection', async ({
  dc,
  backends,
}) => {
  const label = `ws-sink-browser-closes-${test.info().project.name}`;
  await dc.page.evaluate(async (label) => {
    const bridge = await globalThis.conns!.main!.bridge(label);
    await bridge.send('one message');
    bridge.close();
  }, label);
  await expect.poll(() => backends.sinks.get(label)?.closed?.code).toBe(1000);
  expect(backends.sinks.get(label)?.messages).toBe(1);
});

// Backpressure: the issue's measurement. 50 MiB as fast as the library lets the page send, into a
// backend that reads 100 KiB/s for its first 10 s; and the other way round.
const FIFTY_MIB: StreamSpec = { seed: 55, count: 3200, kind: 'binary', size: 16_384 };

/** The gateway's count of backpressure pauses on `route` in `direction`, from its /metrics. */
async function pauses(
  statusUrl: string,
  route: string,
  direction: 'to_browser' | 'from_browser',
): Promise<number> {
  const res = await fetch(`${statusUrl}/metrics`);
  expect(res.status).toBe(200);
  const line = (await res.text())
    .split('\n')
    .find(
      (l) =>
        l.startsWith('rtcgate_gateway_bridge_pauses_total{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`direction="${direction}"`),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

test('a slow backend slows the browser: 50 MiB intact, the gateway within 64 MiB of its idle RSS', async ({
  dc,
  backends,
  harness: gateway,
}) => {
  test.setTimeout(180_000);
  const label = `ws-slow-${test.info().project.name}`;
  const heldBefore = await pauses(gateway.statusUrl, 'ws-slow*', 'from_browser');
  const pausedBefore = await pauses(gateway.statusUrl, 'ws-slow*', 'to_browser');
  await dc.control('rss', { action: 'start' });
  const sent = await dc.page.evaluate(
    async ({ spec, label }) => {
      const bridge = await globalThis.conns!.main!.bridge(label);
      const sent = await harness.bridgeSendStream(bridge, spec);
      bridge.close();
      return sent;
    },
    { spec: FIFTY_MIB, label },
  );
  const expected = streamSha(FIFTY_MIB);
  await expect
    .poll(
      () => {
        const sink = backends.sinks.get(label);
        return sink?.closed ? { bytes: sink.bytes, sha: sink.sha.copy().digest('hex') } : null;
      },
      { timeout: 60_000 },
    )
    .toEqual({ bytes: expected.bytes, sha: expected.sha });
  const rss = await dc.control<{ baseline: number; peak: number }>('rss', { action: 'stop' });
  const growthMiB = (rss.peak - rss.baseline) / MIB;
  test.info().annotations.push({
    type: 'measured',
    description: `sent 50 MiB in ${(sent.elapsedMs / 1000).toFixed(1)} s; gateway RSS peak ${growthMiB.toFixed(1)} MiB over idle`,
  });
  // While the backend read 100 KiB/s (10 s), at most a window and the sockets' buffers could pass.
  expect(sent.elapsedMs).toBeGreaterThan(9000);
  expect(growthMiB).toBeLessThan(64);
  // The metric saw the browser held at its credit, and no backend paused (this one sends nothing).
  expect(await pauses(gateway.statusUrl, 'ws-slow*', 'from_browser')).toBeGreaterThan(heldBefore);
  expect(await pauses(gateway.statusUrl, 'ws-slow*', 'to_browser')).toBe(pausedBefore);
});

test('a slow browser reader slows the backend: 50 MiB intact, the gateway within 64 MiB of its idle RSS', async ({
  dc,
  backends,
}) => {
  test.setTimeout(180_000);
  const spec = FIFTY_MIB;
  const label = `ws-source:${spec.seed}:${spec.count}:${spec.size}`;
  await dc.control('rss', { action: 'start' });
  const reading = dc.page.evaluate(async (spec) => {
    const bridge = await globalThis.conns!.main!.bridge(`ws-source:${spec.seed}:${spec.count}:${spec.size}`);
    return harness.bridgeReceiveStream(bridge, spec.count, { rate: 100 * 1024, slowMs: 10_000 });
  }, spec);
  // Six seconds into the slow phase the page has read about 600 KiB. What the source got out is
  // that, the page's window (1 MiB), what waits in the gateway (256 KiB) and what the two loopback
  // TCP sockets between backend and gateway buffer: the kernel autotunes those up to tcp_wmem +
  // tcp_rmem (4 + 32 MiB here; 6 to 12 MiB seen), so that is the bound, and never more than 40 MiB
  // (on a machine with larger buffers the check must still fail for an unmetered source, which
  // sends all 50 MiB in the first second).
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const sentBySource = backends.sources.get(label)?.sent ?? 0;
  const received = await reading;
  const rss = await dc.control<{ baseline: number; peak: number }>('rss', { action: 'stop' });
  const growthMiB = (rss.peak - rss.baseline) / MIB;
  test.info().annotations.push({
    type: 'measured',
    description:
      `after 6 s of reading at 100 KiB/s the backend had sent ${(sentBySource / MIB).toFixed(1)} MiB; ` +
      `gateway RSS peak ${growthMiB.toFixed(1)} MiB over idle`,
  });
  expect(received).toMatchObject(intact(spec, true));
  expect(sentBySource).toBeLessThan(Math.min(kernelTcpBufferMax() + 4 * MIB, 40 * MIB));
  expect(growthMiB).toBeLessThan(64);
});

test('the echo route is metered too: a page that reads slowly can send only a bounded amount ahead, and every byte comes back', async ({
  dc,
}) => {
  test.setTimeout(120_000);
  const spec: StreamSpec = { seed: 57, count: 1024, kind: 'binary', size: 16_384 };
  const seen = await dc.page.evaluate(async (spec) => {
    const echo = await globalThis.conns!.main!.bridge('echo');
    const receiving = harness.bridgeReceiveStream(echo, spec.count, { rate: 100 * 1024, slowMs: 8000 });
    const sending = harness.bridgeSendStream(echo, spec);
    // Six seconds into the slow phase: how far the sender got, against what the page has read.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const { sent, read } = echo.info();
    const received = await receiving;
    await sending;
    echo.close();
    return { sent, read, received };
  }, spec);
  test.info().annotations.push({
    type: 'measured',
    description: `after 6 s of reading at 100 KiB/s the page had sent ${(seen.sent / MIB).toFixed(2)} MiB and read ${(seen.read / MIB).toFixed(2)} MiB`,
  });
  expect(seen.received).toMatchObject(intact(spec, true));
  // Ahead of what was read: at most the page's window (1 MiB) in flight back, 256 KiB waiting in
  // the gateway, the gateway's window (1 MiB) toward the echo, a message each; 4 MiB leaves margin.
  // Unmetered, the page would have sent most of the 16 MiB by then.
  expect(seen.sent - seen.read).toBeLessThan(4 * MIB);
});

test('the library answers the gateway pings on the control channel, so the gateway can tell a stalled association', async ({
  dc,
  harness,
}) => {
  await dc.page.evaluate(() => globalThis.conns!.main!.bridge('echo').then(() => undefined));
  const pings = async () => {
    const body = (await (await fetch(`${harness.statusUrl}/sessions`)).json()) as {
      sessions: {
        peerId: string;
        pings: { sent: number; answered: number; lastRttMs: number | null } | null;
      }[];
    };
    return body.sessions.find((s) => s.peerId === dc.peerId)?.pings ?? null;
  };
  // The gateway pings as soon as the control channel opens, then every 10 s (60 s timeout / 6):
  // within 25 s at least two have gone out.
  await expect
    .poll(async () => (await pings())?.answered ?? 0, { timeout: 25_000 })
    .toBeGreaterThanOrEqual(1);
  expect((await pings())?.lastRttMs).toBeLessThan(5000);
});
