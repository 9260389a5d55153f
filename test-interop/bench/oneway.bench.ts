/**
 * One direction at a time, to find where the bridge loses against the gateway (bridge.bench.ts
 * measures both at once): 16 MiB in 16 KiB messages
 * - upload: the page sends through `bridge()`; the reference ends in the harness gateway's own sink
 *   (a `sink…` channel, unmetered), the bridge in a WebSocket sink backend. Done when the gateway
 *   says it has all of it: the harness sink's result, or for the bridge the credit that only comes
 *   once the backend's socket has taken every byte;
 * - download: the reference is the harness gateway streaming into a channel with `write()`
 *   (backpressure on its send buffer), the bridge a WebSocket backend that sends as fast as the
 *   gateway takes it (`ws-source:…`). Done when the page has read every byte.
 * Both sides of each pair go through the library's BridgeChannel, and rounds alternate the order.
 * CPU time per MB of each transfer kind is sampled around the counted transfers (cpu.ts).
 */
import { writeFileSync } from 'node:fs';
import { expect, test } from '../fixtures/dc.js';
import { cpuPerMB, exposeCpuMeter } from './cpu.js';
import { median } from './median.js';

/** `npm run bench -- --quick` (and `npm test`): every path once, briefly. */
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 1 : 3;
const COUNT = QUICK ? 64 : 1024;
const SIZE = 16 * 1024;

test('one way at a time: the bridge against the gateway itself', async ({ dc, harness }, testInfo) => {
  // CPU per transfer kind: the page marks the start and end of each counted transfer.
  const cpu = await exposeCpuMeter(dc.page, harness.proc.child.pid!);
  const rounds = await dc.page.evaluate(
    async ({ rounds, count, size }) => {
      const conn = globalThis.conns!.main!;
      const ctl = globalThis.ctls!.main!;
      const bytes = count * size;
      // The harness sink checks sequence numbers: the stream's messages, made before any timing.
      const spec = { seed: 3, count, kind: 'binary' as const, size };
      const messages = Array.from(
        { length: count },
        (_, seq) => streams.makeMessage(spec, seq) as Uint8Array<ArrayBuffer>,
      );
      const deadline = <T>(what: string, p: Promise<T>) =>
        Promise.race([
          p,
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: stuck`)), 30_000)),
        ]);
      /** Every message sent; a sender that waits for credit that never comes fails, not hangs. */
      const sendAll = (ch: Awaited<ReturnType<typeof conn.bridge>>, what: string) =>
        deadline(
          what,
          (async () => {
            for (const m of messages) await ch.send(m);
          })(),
        );
      const mbps = (started: number) => bytes / 1e6 / ((performance.now() - started) / 1000);
      let n = 0;

      const uploadRef = async () => {
        const label = `sink-oneway-${n++}`;
        await ctl('sink', { label, count });
        const ch = await conn.bridge(label);
        const started = performance.now();
        await sendAll(ch, 'sending to the gateway');
        await deadline('upload to the gateway', ctl('sinkResult', { label, waitMs: 30_000 }));
        const result = mbps(started);
        ch.close();
        return result;
      };
      const uploadBridge = async () => {
        const ch = await conn.bridge(`ws-sink-oneway-${n++}`);
        const started = performance.now();
        await sendAll(ch, 'sending through the bridge');
        // The gateway grants up to what the backend's socket took plus its window (1 MiB), in
        // steps of a quarter window: a grant past bytes + 768 KiB means the backend took all but
        // at most the last 256 KiB (1.5% of the transfer).
        await deadline(
          'upload through the bridge',
          (async () => {
            while (ch.info().credit < bytes + 768 * 1024) await new Promise((r) => setTimeout(r, 1));
          })(),
        );
        const result = mbps(started);
        ch.close();
        return result;
      };
      const readAll = async (ch: Awaited<ReturnType<typeof conn.bridge>>) => {
        let got = 0;
        while (got < bytes) {
          const m = await ch.read();
          if (m === null) throw new Error(`${ch.label} closed at ${got} bytes`);
          got += typeof m === 'string' ? m.length : m.byteLength;
        }
      };
      const downloadRef = async () => {
        const label = `oneway-dl-${n++}`;
        const ch = await conn.bridge(label);
        const started = performance.now();
        void ctl('stream', { label, spec });
        await deadline('download from the gateway', readAll(ch));
        const result = mbps(started);
        ch.close();
        return result;
      };
      const downloadBridge = async () => {
        const ch = await conn.bridge(`ws-source:${n++}:${count}:${size}`);
        const started = performance.now();
        await deadline('download through the bridge', readAll(ch));
        return mbps(started);
      };

      const benchCpu = globalThis.benchCpu;
      /** A counted transfer: the test samples CPU time around it (outside the timed part). */
      const counted = (mark: string, transfer: () => Promise<number>) => async () => {
        await benchCpu('start');
        const result = await transfer();
        await benchCpu(mark);
        return result;
      };
      await uploadRef(); // warm-up
      await downloadRef();
      const out = [];
      for (let r = 0; r < rounds; r++) {
        const pair = async (a: () => Promise<number>, b: () => Promise<number>) => {
          if (r % 2 === 0) {
            const x = await a();
            return [x, await b()];
          }
          const y = await b();
          return [await a(), y];
        };
        const [upRef, upBridge] = await pair(
          counted('upload: gateway', uploadRef),
          counted('upload: bridge', uploadBridge),
        );
        const [downRef, downBridge] = await pair(
          counted('download: gateway', downloadRef),
          counted('download: bridge', downloadBridge),
        );
        out.push({ upRef: upRef!, upBridge: upBridge!, downRef: downRef!, downBridge: downBridge! });
      }
      return out;
    },
    { rounds: ROUNDS, count: COUNT, size: SIZE },
  );
  const summary = {
    browser: testInfo.project.name,
    uploadRatio: median(rounds.map((r) => r.upBridge / r.upRef)),
    downloadRatio: median(rounds.map((r) => r.downBridge / r.downRef)),
    upRefMBps: median(rounds.map((r) => r.upRef)),
    upBridgeMBps: median(rounds.map((r) => r.upBridge)),
    downRefMBps: median(rounds.map((r) => r.downRef)),
    downBridgeMBps: median(rounds.map((r) => r.downBridge)),
    /** CPU seconds per MB moved, per transfer kind (cpu.ts). */
    cpu: cpuPerMB(cpu(), (ROUNDS * COUNT * SIZE) / 1e6),
  };
  console.log(JSON.stringify(summary));
  writeFileSync(testInfo.outputPath('oneway.json'), JSON.stringify({ summary, rounds }, null, 2));
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify(summary) });
  // A finding, not a target: every transfer completed and was timed.
  expect(rounds).toHaveLength(ROUNDS);
});
