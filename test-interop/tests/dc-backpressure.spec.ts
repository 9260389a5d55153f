/**
 * Backpressure: 64 MiB each way on one channel, the sender pacing itself with bufferedAmount and
 * bufferedAmountLowThreshold (the browser) or GatewayChannel.write() (the gateway). Both streams
 * must arrive whole (SHA-256), and the gateway's RSS must stay bounded while they flow.
 */
import { streamSha, type Received, type StreamSpec } from '../fixtures/expect-stream.js';
import { expect, test } from '../fixtures/dc.js';

const MiB = 1024 * 1024;
const BULK: Omit<StreamSpec, 'seed'> = { kind: 'binary', size: 16 * 1024, count: (64 * MiB) / (16 * 1024) };
/**
 * The gateway must not hold the stream: its RSS may grow by at most this while 64 MiB flow. A fresh
 * harness grows about 18-37 MiB on its first bulk transfer (heap and buffer pools warming up) and
 * then stays flat: 16, 64 and 256 MiB in a row grew 17.8, 17.9 and 0.8 MiB.
 */
const RSS_GROWTH_LIMIT = 48 * MiB;

interface Rss {
  baseline: number;
  peak: number;
  samples: number;
}

test('64 MiB browser → gateway and 64 MiB gateway → browser, paced by bufferedAmount: whole, and the gateway stays within its memory bound', async ({
  dc,
}) => {
  test.setTimeout(240_000);
  const up: StreamSpec = { ...BULK, seed: 64 };
  const down: StreamSpec = { ...BULK, seed: 65 };

  const upResult = await dc.page.evaluate(async (spec) => {
    const conn = globalThis.conns!.main!;
    const ctl = globalThis.ctls!.main!;
    const ch = await conn.openChannel('sink-bulk');
    await ctl('sink', { label: 'sink-bulk', count: spec.count });
    await ctl('rss', { action: 'start' });
    const started = performance.now();
    const sent = await harness.sendStream(ch, spec, { low: 1024 * 1024, high: 4 * 1024 * 1024 });
    const got = (await ctl('sinkResult', { label: 'sink-bulk', waitMs: 90_000 })) as Received;
    const ms = performance.now() - started;
    return { sent, got, ms, rss: (await ctl('rss', { action: 'stop' })) as Rss };
  }, up);
  const upSha = streamSha(up);
  expect(upResult.sent.bytes).toBe(64 * MiB);
  expect(upResult.got).toMatchObject({ received: up.count, missing: 0, inOrder: true, sha: upSha.sha });
  expect(upResult.sent.waits).toBeGreaterThan(0); // the browser really had to wait for the gateway
  expect(upResult.rss.samples).toBeGreaterThan(0);
  expect(upResult.rss.peak - upResult.rss.baseline).toBeLessThan(RSS_GROWTH_LIMIT);

  const downResult = await dc.page.evaluate(async (spec) => {
    const conn = globalThis.conns!.main!;
    const ctl = globalThis.ctls!.main!;
    const ch = await conn.openChannel('bulk-down');
    await ctl('rss', { action: 'start' });
    const started = performance.now();
    const received = harness.receiveStream(ch, spec.count, 90_000);
    const sent = (await ctl('stream', { label: 'bulk-down', spec, highWaterMark: 1024 * 1024 }, 120_000)) as {
      sha: string;
      bytes: number;
      maxBuffered: number;
    };
    const got = (await received) as Received;
    const ms = performance.now() - started;
    return { sent, got, ms, rss: (await ctl('rss', { action: 'stop' })) as Rss };
  }, down);
  const downSha = streamSha(down);
  expect(downResult.sent).toMatchObject({ bytes: 64 * MiB, sha: downSha.sha });
  expect(downResult.got).toMatchObject({ received: down.count, missing: 0, inOrder: true, sha: downSha.sha });
  expect(downResult.sent.maxBuffered).toBeLessThanOrEqual(1024 * 1024 + BULK.size!);
  expect(downResult.rss.peak - downResult.rss.baseline).toBeLessThan(RSS_GROWTH_LIMIT);

  const mib = (n: number) => (n / MiB).toFixed(1);
  test.info().annotations.push({
    type: 'measured',
    description:
      `browser→gateway 64 MiB in ${(upResult.ms / 1000).toFixed(1)} s, gateway RSS ${mib(upResult.rss.baseline)} → peak ${mib(upResult.rss.peak)} MiB (+${mib(upResult.rss.peak - upResult.rss.baseline)}); ` +
      `gateway→browser 64 MiB in ${(downResult.ms / 1000).toFixed(1)} s, gateway RSS ${mib(downResult.rss.baseline)} → peak ${mib(downResult.rss.peak)} MiB (+${mib(downResult.rss.peak - downResult.rss.baseline)})`,
  });
});
