// @ts-check
/**
 * Deterministic message streams for integrity tests, the same code in three places: the gateway
 * harness (Node), the page (injected by the fixtures) and the test runner, which computes the
 * expected SHA-256 itself. Message `seq` of a stream is a pure function of (spec, seq).
 *
 * Wire form: a binary message starts with its seq as a big-endian u32; a text message starts with
 * "<seq>|". The stream's hash is SHA-256 over every message's bytes (text as UTF-8) in seq order.
 */

/**
 * @typedef {object} StreamSpec
 * @property {number} seed
 * @property {number} count
 * @property {'mixed' | 'binary'} kind  mixed: text and binary, sizes from 0 to maxSize; binary: all `size`
 * @property {number} [size]     bytes per message for kind "binary" (at least 4)
 * @property {number} [maxSize]  largest message for kind "mixed" (default 16 KiB)
 */

/**
 * mulberry32: a small fast PRNG, good enough to vary sizes and contents.
 * @param {number} seed
 */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Code points to build text from, with their UTF-8 lengths (1 to 4 bytes). */
const TEXT = Array.from('abcdefghij ABCDEFGHIJ 0123456789 é ß ø ж 中文 🚀');
const TEXT_BYTES = TEXT.map((c) => new TextEncoder().encode(c).length);
const encoder = new TextEncoder();

/**
 * Message `seq` of the stream.
 * @param {StreamSpec} spec
 * @param {number} seq
 * @returns {string | Uint8Array}
 */
function makeMessage(spec, seq) {
  const rand = prng(spec.seed * 1000003 + seq);
  if (spec.kind === 'binary') {
    const size = Math.max(4, spec.size ?? 16384);
    const bytes = new Uint8Array(size);
    new DataView(bytes.buffer).setUint32(0, seq);
    // Cheap filler that still differs per message and position.
    const salt = Math.floor(rand() * 256);
    for (let i = 4; i < size; i++) bytes[i] = (i * 31 + salt + seq) & 0xff;
    return bytes;
  }
  const maxSize = spec.maxSize ?? 16384;
  const r = rand();
  // 60% small, 30% medium, 10% up to maxSize.
  const size = Math.floor(
    r < 0.6 ? rand() * 200 : r < 0.9 ? 200 + rand() * 3900 : 4096 + rand() * Math.max(0, maxSize - 4096),
  );
  if (rand() < 0.4) {
    const head = `${seq}|`;
    const parts = [head];
    let bytes = head.length;
    for (let k = Math.floor(rand() * TEXT.length); bytes < size; k = (k + 1) % TEXT.length) {
      parts.push(TEXT[k] ?? 'x');
      bytes += TEXT_BYTES[k] ?? 1;
    }
    return parts.join('');
  }
  const bytes = new Uint8Array(Math.max(4, size));
  new DataView(bytes.buffer).setUint32(0, seq);
  for (let i = 4; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

/**
 * @param {string | ArrayBuffer | Uint8Array} message
 * @returns {number}
 */
function seqOf(message) {
  if (typeof message === 'string') return Number(message.slice(0, message.indexOf('|')));
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/**
 * @param {string | ArrayBuffer | Uint8Array} message
 * @returns {Uint8Array}
 */
function bytesOf(message) {
  if (typeof message === 'string') return encoder.encode(message);
  return message instanceof Uint8Array ? message : new Uint8Array(message);
}

/**
 * Receives a stream in any order and hashes it in seq order, holding only the messages that
 * arrived ahead of a gap. `digest` is a streaming SHA-256 (Node's createHash), or absent in a page
 * (WebCrypto has no streaming hash: the page keeps the bytes and hashes them at the end).
 * @param {number} count
 * @param {{ update(bytes: Uint8Array): void } | undefined} digest
 */
function createReceiver(count, digest) {
  /** @type {Map<number, Uint8Array>} */
  const ahead = new Map();
  /** @type {Uint8Array[]} */
  const kept = [];
  const state = {
    count,
    received: 0,
    bytes: 0,
    next: 0,
    inOrder: true,
    duplicates: 0,
    outOfRange: 0,
    lastSeq: -1,
    kept,
  };
  /** @param {Uint8Array} b */
  const take = (b) => {
    if (digest) digest.update(b);
    else kept.push(b);
  };
  return {
    state,
    /** @param {string | ArrayBuffer | Uint8Array} message */
    push(message) {
      const seq = seqOf(message);
      const bytes = bytesOf(message);
      if (!Number.isInteger(seq) || seq < 0 || seq >= count) {
        state.outOfRange++;
        return;
      }
      if (seq < state.next || ahead.has(seq)) {
        state.duplicates++;
        return;
      }
      if (seq < state.lastSeq) state.inOrder = false;
      state.lastSeq = seq;
      state.received++;
      state.bytes += bytes.byteLength;
      if (seq !== state.next) {
        ahead.set(seq, bytes);
        return;
      }
      take(bytes);
      state.next++;
      for (let b = ahead.get(state.next); b !== undefined; b = ahead.get(state.next)) {
        ahead.delete(state.next);
        take(b);
        state.next++;
      }
    },
    get done() {
      return state.received === count;
    },
    /** Messages that never came (seq numbers below `count` not received). */
    missing() {
      return count - state.received;
    },
  };
}

export const streams = { makeMessage, seqOf, bytesOf, createReceiver };
