/**
 * Messages: text and binary of every size up to the negotiated maximum, the maximum itself and one
 * byte over it on both sides, 10,000 mixed messages each way with order and SHA-256 checked, and
 * 256 channels at once.
 */
import type { SessionInfo } from 'rtcgate-peer-node';
import { streamSha, type Received, type StreamSpec } from '../fixtures/expect-stream.js';
import { expect, test } from '../fixtures/dc.js';

test('@core text (ASCII, multi-byte, empty) and binary (empty to 256 KiB) echo exactly', async ({ dc }) => {
  const result = await dc.page.evaluate(async () => {
    const conn = globalThis.conns?.main;
    if (!conn) throw new Error('not connected');
    const ch = await conn.openChannel('sizes');
    const texts = ['hello', 'héllo wörld — ✓ 日本語 🚀 ж', '', 'x'.repeat(65_536), '€'.repeat(20_000)];
    const sizes = [0, 1, 2, 100, 1_199, 1_200, 16_383, 16_384, 65_535, 65_536, 65_537, 131_072, 262_144];
    const out: { sent: string; ok: boolean }[] = [];
    for (const text of texts) {
      const { reply } = await rtcgate.echo(ch, text);
      out.push({ sent: `text ${text.length} chars`, ok: reply === text });
    }
    for (const size of sizes) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 7 + size) & 0xff;
      const { reply } = await rtcgate.echo(ch, bytes.buffer);
      const back = typeof reply === 'string' ? null : new Uint8Array(reply);
      out.push({
        sent: `binary ${size} bytes`,
        ok: back !== null && back.length === size && back.every((b, i) => b === bytes[i]),
      });
    }
    return out;
  });
  expect(result.filter((r) => !r.ok)).toEqual([]);
  expect(result).toHaveLength(18);
});

test('@core the negotiated maximum message size: both sides agree, the maximum arrives, one byte more is refused by the sender', async ({
  dc,
}) => {
  const view = await dc.control<SessionInfo>('view');
  const browser = await dc.page.evaluate(async () => {
    const conn = globalThis.conns?.main;
    if (!conn) throw new Error('not connected');
    const max = conn.pc.sctp?.maxMessageSize ?? 0;
    const ch = await conn.openChannel('max-size');
    ch.binaryType = 'arraybuffer';
    // Exactly the maximum, echoed back by the gateway (so the gateway can send it too).
    const full = new Uint8Array(max).map((_, i) => i & 0xff);
    const { reply } = await rtcgate.echo(ch, full.buffer, 20_000);
    const back = new Uint8Array(reply as ArrayBuffer);
    const intact = back.length === max && back.every((b, i) => b === (i & 0xff));
    // One byte over: send() must throw a TypeError (webrtc-pc §6.2, send() step 5) and keep the channel.
    let overError = '';
    try {
      ch.send(new Uint8Array(max + 1));
    } catch (err) {
      overError = err instanceof Error ? err.name : String(err);
    }
    const after = await rtcgate.echo(ch, 'still usable');
    return { max, intact, overError, after: after.reply, state: ch.readyState };
  });
  expect(browser.max).toBeGreaterThan(0);
  expect(browser.max).toBe(view.maxMessageSize);
  expect(view.maxMessageSize).toBe(Math.min(view.localMaxMessageSize ?? 0, view.remoteMaxMessageSize ?? 0));
  expect(browser.intact).toBe(true);
  expect(browser.overError).toBe('TypeError');
  expect(browser.after).toBe('still usable');
  test.info().annotations.push({
    type: 'max-message-size',
    description: `browser ${browser.max}; gateway advertised ${view.localMaxMessageSize}, browser advertised ${view.remoteMaxMessageSize}, negotiated ${view.maxMessageSize}`,
  });

  // The gateway side: the maximum goes out, one byte more is refused with a typed error.
  const got = dc.page.evaluate(async (max) => {
    const ch = await globalThis.conns!.main!.channel('max-size');
    const e = (await harness.once(ch, 'message', 20_000)) as MessageEvent<ArrayBuffer>;
    const next = (await harness.once(ch, 'message', 20_000)) as MessageEvent<string>;
    return {
      size: e.data.byteLength,
      allSeven: new Uint8Array(e.data).every((b) => b === 7),
      next: next.data,
      max,
    };
  }, view.maxMessageSize);
  const sent = await dc.control<({ code: string } | 'sent')[]>('send', {
    label: 'max-size',
    messages: [{ size: view.maxMessageSize + 1 }, { size: view.maxMessageSize, fill: 7 }, { text: 'after' }],
  });
  expect(sent[0]).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  expect(sent.slice(1)).toEqual(['sent', 'sent']);
  expect(await got).toEqual({
    size: view.maxMessageSize,
    allSeven: true,
    next: 'after',
    max: view.maxMessageSize,
  });
});

const MIXED: Omit<StreamSpec, 'seed'> = { kind: 'mixed', count: 10_000, maxSize: 16_384 };

for (const ordered of [true, false]) {
  const kind = ordered ? 'ordered' : 'unordered';
  test(`${ordered ? '@core ' : ''}10,000 mixed messages each way on an ${kind} reliable channel: all arrive${ordered ? ', in order,' : ''} with matching SHA-256`, async ({
    dc,
  }) => {
    // Bounded waits inside, so that a stall reports how far each side got instead of timing out.
    test.setTimeout(150_000);
    const up: StreamSpec = { ...MIXED, seed: ordered ? 1 : 2 };
    const down: StreamSpec = { ...MIXED, seed: ordered ? 3 : 4 };
    const label = `sink-${kind}`;

    // Browser → gateway.
    const sending = await dc.page.evaluate(
      async ({ label, ordered, spec }) => {
        const conn = globalThis.conns!.main!;
        const ctl = globalThis.ctls!.main!;
        const ch = await conn.openChannel(label, { ordered });
        await ctl('sink', { label, count: spec.count });
        const sent = await harness.sendStream(ch, spec);
        return { sent, got: (await ctl('sinkResult', { label, waitMs: 45_000 })) as Received };
      },
      { label, ordered, spec: up },
    );
    const upExpected = streamSha(up);
    expect(sending.sent.bytes).toBe(upExpected.bytes);
    expect(sending.got).toMatchObject({
      received: up.count,
      missing: 0,
      duplicates: 0,
      outOfRange: 0,
      sha: upExpected.sha,
    });
    if (ordered) expect(sending.got.inOrder).toBe(true);

    // Gateway → browser, on a channel the browser opened (the gateway streams with write()).
    const receiving = await dc.page.evaluate(
      async ({ kind, ordered, spec }) => {
        const conn = globalThis.conns!.main!;
        const ctl = globalThis.ctls!.main!;
        const ch = await conn.openChannel(`down-${kind}`, { ordered });
        const received = harness.receiveStream(ch, spec.count, 45_000);
        const sent = await ctl('stream', { label: `down-${kind}`, spec });
        return { sent: sent as { sha: string; bytes: number }, got: (await received) as Received };
      },
      { kind, ordered, spec: down },
    );
    const downExpected = streamSha(down);
    expect(receiving.sent).toMatchObject({ sha: downExpected.sha, bytes: downExpected.bytes });
    expect(receiving.got).toMatchObject({
      received: down.count,
      missing: 0,
      duplicates: 0,
      outOfRange: 0,
      sha: downExpected.sha,
    });
    if (ordered) expect(receiving.got.inOrder).toBe(true);
    test.info().annotations.push({
      type: 'order',
      description: `${kind}: browser→gateway in order ${sending.got.inOrder}, gateway→browser in order ${receiving.got.inOrder}`,
    });
  });
}

test('256 channels open at once on one connection, each echoing its own traffic', async ({ dc }) => {
  const N = 256;
  const result = await dc.page.evaluate(async (n) => {
    const conn = globalThis.conns!.main!;
    const channels = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        rtcgate.waitForOpen(conn.pc.createDataChannel(`many-${i}`), 20_000),
      ),
    );
    // Everything at once: each channel sends three messages of its own and must get exactly those back.
    const results = await Promise.all(
      channels.map(
        (ch, i) =>
          new Promise<boolean>((resolve) => {
            const want = [`${i}:a`, `${i}:b`, `${i}:${'c'.repeat(i)}`];
            const got: string[] = [];
            const timer = setTimeout(() => resolve(false), 30_000);
            ch.addEventListener('message', (e) => {
              got.push(String(e.data));
              if (got.length === want.length) {
                clearTimeout(timer);
                resolve(got.every((g, k) => g === want[k]));
              }
            });
            for (const w of want) ch.send(w);
          }),
      ),
    );
    const open = channels.filter((c) => c.readyState === 'open').length;
    return { ok: results.filter(Boolean).length, open, ids: new Set(channels.map((c) => c.id)).size };
  }, N);
  expect(result).toEqual({ ok: N, open: N, ids: N });
  const view = await dc.control<SessionInfo>('view');
  const many = view.channels.filter((c) => c.label.startsWith('many-'));
  expect(many).toHaveLength(N);
  expect(many.every((c) => c.state === 'open' && c.messagesIn === 3 && c.messagesOut === 3)).toBe(true);
});
