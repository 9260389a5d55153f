// @ts-check
/**
 * Page-side helpers of the DataChannel suite, injected into the page after streams.mjs (the
 * fixtures strip the import/export lines). Everything here is plain browser code on a real
 * RTCDataChannel.
 */
import { streams } from './streams.mjs';

/**
 * JSON request/response over the harness gateway's "control" channel.
 * @param {RTCDataChannel} channel
 * @param {RTCPeerConnection} [pc] the channel's connection (named in a failure's message)
 */
function controller(channel, pc) {
  let next = 1;
  /** @type {Map<number, (reply: any) => void>} */
  const pending = new Map();
  const openedAt = Date.now();
  /** When the channel's state events fired (ms after the controller was made): for a failure's message. */
  const seen = /** @type {string[]} */ ([]);
  for (const type of ['closing', 'close', 'error']) {
    channel.addEventListener(type, (e) => {
      const what = type === 'error' ? `error ${String(/** @type {any} */ (e).error?.message)}` : type;
      seen.push(`${what} at ${Math.round(Date.now() - openedAt)} ms`);
    });
  }
  channel.addEventListener('message', (e) => {
    const reply = JSON.parse(String(e.data));
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  /**
   * @param {string} op
   * @param {Record<string, unknown>} [args]
   * @param {number} [timeoutMs]
   * @returns {Promise<unknown>}
   */
  return (op, args = {}, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      if (channel.readyState !== 'open') {
        // Say what became of the channel: this has happened once in CI with no other trace.
        const since = Math.round(Date.now() - openedAt);
        const events = seen.join(', ') || 'none';
        reject(
          new Error(
            `control ${op}: the control channel (id ${channel.id}) is ${channel.readyState}, ${since} ms ` +
              `after it opened; events: ${events}; connection ${pc?.connectionState}, SCTP ${pc?.sctp?.state}`,
          ),
        );
        return;
      }
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`control ${op}: no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply.result);
        else reject(Object.assign(new Error(`${reply.code}: ${reply.message}`), { code: reply.code }));
      });
      channel.send(JSON.stringify({ id, op, ...args }));
    });
}

/**
 * Sends a stream the way an application should: wait for bufferedamountlow whenever more than
 * `high` bytes are queued. With `backpressure: false` everything is queued at once.
 * @param {RTCDataChannel} channel
 * @param {import('./streams.mjs').StreamSpec} spec
 * @param {{ low?: number; high?: number; backpressure?: boolean; close?: boolean }} [opts]
 */
async function sendStream(channel, spec, opts = {}) {
  const { low = 256 * 1024, high = 1024 * 1024, backpressure = true, close = false } = opts;
  channel.bufferedAmountLowThreshold = low;
  let bytes = 0;
  let maxBuffered = 0;
  let waits = 0;
  for (let seq = 0; seq < spec.count; seq++) {
    if (backpressure && channel.bufferedAmount > high) {
      waits++;
      await new Promise((resolve, reject) => {
        channel.addEventListener('bufferedamountlow', resolve, { once: true });
        channel.addEventListener('close', () => reject(new Error('channel closed while sending')), {
          once: true,
        });
      });
    }
    const message = streams.makeMessage(spec, seq);
    bytes += streams.bytesOf(message).byteLength;
    if (typeof message === 'string') channel.send(message);
    else channel.send(/** @type {Uint8Array<ArrayBuffer>} */ (message));
    maxBuffered = Math.max(maxBuffered, channel.bufferedAmount);
  }
  const queuedAtClose = channel.bufferedAmount;
  if (close) channel.close();
  return { sent: spec.count, bytes, maxBuffered, waits, queuedAtClose };
}

/**
 * SHA-256 of `chunks` in order, as hex (WebCrypto has no streaming hash).
 * @param {Uint8Array[]} chunks
 */
async function sha256Hex(chunks) {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    await new Blob(/** @type {BlobPart[]} */ (chunks)).arrayBuffer(),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What a receiver reports: its counts, the messages missing, and the stream's SHA-256 once whole.
 * @param {ReturnType<typeof streams.createReceiver>} receiver
 */
async function summary(receiver) {
  const { kept, ...state } = receiver.state;
  return { ...state, missing: receiver.missing(), sha: receiver.done ? await sha256Hex(kept) : null };
}

/**
 * Starts receiving a stream of `count` messages now; resolves when all came, the channel closed,
 * or `timeoutMs` passed.
 * @param {RTCDataChannel} channel
 * @param {number} count
 * @param {number} [timeoutMs]
 */
function receiveStream(channel, count, timeoutMs = 60_000) {
  channel.binaryType = 'arraybuffer';
  const receiver = streams.createReceiver(count, undefined);
  let closed = false;
  /** @type {number | null} */
  let missingAtClose = null;
  return new Promise((resolve) => {
    const finish = async () => {
      clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      resolve({ ...(await summary(receiver)), closed, missingAtClose });
    };
    /** @param {MessageEvent} e */
    const onMessage = (e) => {
      receiver.push(e.data);
      if (receiver.done) void finish();
    };
    const timer = setTimeout(() => void finish(), timeoutMs);
    channel.addEventListener('message', onMessage);
    channel.addEventListener(
      'close',
      () => {
        closed = true;
        missingAtClose = receiver.missing();
        void finish();
      },
      { once: true },
    );
  });
}

/**
 * Resolves with the first event of `type` on `target`, or rejects after `timeoutMs`.
 * @param {EventTarget} target
 * @param {string} type
 * @param {number} [timeoutMs]
 */
function once(target, type, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event in ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(
      type,
      (e) => {
        clearTimeout(timer);
        resolve(e);
      },
      { once: true },
    );
  });
}

/**
 * An RTCDataChannel's options as the browser reads them back (webrtc-pc §6.2).
 * @param {RTCDataChannel} ch
 */
function optionsOf(ch) {
  return {
    label: ch.label,
    protocol: ch.protocol,
    ordered: ch.ordered,
    maxRetransmits: ch.maxRetransmits,
    maxPacketLifeTime: ch.maxPacketLifeTime,
  };
}

/**
 * The browser's own RTCDataChannelStats for this channel (messagesSent, state, …), or null when
 * its report has none for it.
 * @param {RTCPeerConnection} pc
 * @param {RTCDataChannel} channel
 * @returns {Promise<Record<string, unknown> | null>}
 */
async function dataChannelStats(pc, channel) {
  /** @type {Record<string, unknown> | null} */
  let found = null;
  (await pc.getStats()).forEach((/** @type {any} */ s) => {
    if (s.type === 'data-channel' && s.dataChannelIdentifier === channel.id && s.label === channel.label)
      found = s;
  });
  return found;
}

/**
 * Echo as the channel's options allow: a reliable channel gets one ping (rtcgate.echo, no retry);
 * one that may lose messages by its options (maxRetransmits or maxPacketLifeTime, webrtc-pc §6.2)
 * is pinged again after a lost ping or reply, up to `attempts` times, `eachMs` apart. Resolves
 * with the reply and how many pings it took.
 *
 * With `pc`, a reliable channel whose ping got no echo is pinged once more only if the browser's
 * own stats say it never sent the first (messagesSent 0): Chromium can drop the first message
 * sent on a channel the gateway announced (docs/interop.md). The result then says
 * `browserNeverSent: true` (and the first text as the reply, once the second came back exactly);
 * if the browser did send it, the timeout stands.
 * @param {RTCDataChannel} channel
 * @param {string} text
 * @param {{ attempts?: number; eachMs?: number; pc?: RTCPeerConnection }} [opts]
 */
async function echoAsOptionsAllow(channel, text, opts = {}) {
  if (channel.maxRetransmits === null && channel.maxPacketLifeTime === null) {
    try {
      return { reply: (await rtcgate.echo(channel, text)).reply, attempts: 1, browserNeverSent: false };
    } catch (err) {
      if (!opts.pc || !(err instanceof Error && /CHANNEL_TIMEOUT/.test(err.message))) throw err;
      if (channel.readyState !== 'open' || (await dataChannelStats(opts.pc, channel))?.messagesSent !== 0)
        throw err;
      // Another text: had the first ping only been held back, its echo would come first and
      // not match.
      const again = `${text} (again)`;
      const { reply } = await rtcgate.echo(channel, again);
      if (reply !== again) throw new Error(`second ping answered with ${JSON.stringify(reply)}`);
      return { reply: text, attempts: 2, browserNeverSent: true };
    }
  }
  const { attempts = 5, eachMs = 2_000 } = opts;
  for (let attempt = 1; ; attempt++) {
    try {
      const { reply } = await rtcgate.echo(channel, text, eachMs);
      return { reply, attempts: attempt, browserNeverSent: false };
    } catch (err) {
      if (attempt >= attempts || !(err instanceof Error && /CHANNEL_TIMEOUT/.test(err.message))) throw err;
    }
  }
}

/**
 * Sends a stream on a bridged channel (the library's BridgeChannel): each send waits for the
 * gateway's credit, so this goes as fast as the backend takes data. Closes the channel after the
 * last message if `close` is set.
 * @param {import('../../client-web/src/lib/index.js').BridgeChannel} bridge
 * @param {import('./streams.mjs').StreamSpec} spec
 * @param {{ close?: boolean }} [opts]
 */
async function bridgeSendStream(bridge, spec, opts = {}) {
  const started = Date.now();
  let bytes = 0;
  for (let seq = 0; seq < spec.count; seq++) {
    const message = streams.makeMessage(spec, seq);
    bytes += streams.bytesOf(message).byteLength;
    await bridge.send(/** @type {string | Uint8Array<ArrayBuffer>} */ (message));
  }
  if (opts.close) bridge.close();
  return { sent: spec.count, bytes, elapsedMs: Date.now() - started };
}

/**
 * Reads a stream from a bridged channel until `count` messages came or the channel ended, at most
 * `rate` bytes/s during the first `slowMs` (a slow reader), then as fast as it can.
 * @param {import('../../client-web/src/lib/index.js').BridgeChannel} bridge
 * @param {number} count
 * @param {{ rate?: number; slowMs?: number }} [opts]
 */
async function bridgeReceiveStream(bridge, count, opts = {}) {
  const { rate = 0, slowMs = 0 } = opts;
  const receiver = streams.createReceiver(count, undefined);
  const started = Date.now();
  while (!receiver.done) {
    const message = await bridge.read();
    if (message === null) break;
    receiver.push(message);
    const elapsed = Date.now() - started;
    if (rate > 0 && elapsed < slowMs) {
      const dueMs = (receiver.state.bytes / rate) * 1000 - elapsed;
      if (dueMs > 5) await new Promise((resolve) => setTimeout(resolve, dueMs));
    }
  }
  return { ...(await summary(receiver)), elapsedMs: Date.now() - started };
}

export const harness = {
  controller,
  sendStream,
  receiveStream,
  bridgeSendStream,
  bridgeReceiveStream,
  sha256Hex,
  once,
  optionsOf,
  echoAsOptionsAllow,
  dataChannelStats,
};
