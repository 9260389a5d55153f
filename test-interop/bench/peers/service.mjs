// @ts-check
/**
 * What every peer of the comparison bench does with the channels the page opens, the same code for
 * every stack: the rtcgate gateway, a bare node-datachannel peer, werift, @roamhq/wrtc (refpeer.mjs)
 * and a second RTCPeerConnection in the page itself (page.mjs). Plain JavaScript that runs in Node
 * and in a browser; the page gets it with its import/export lines stripped.
 *
 * By label:
 * - `echo…`: every message straight back;
 * - `sink…`: binary messages are counted; the text message "end" is answered with
 *   `{"messages":N,"bytes":B}` (ordered reliable, so "end" comes after everything sent before it);
 * - `source…`: the text message `{"count":N,"size":S}` makes the peer send N binary messages of S
 *   bytes as fast as its stack lets it (waiting whenever more than HIGH_WATER bytes are queued),
 *   then the text message "end".
 */

/** Bytes a source lets its stack queue before it waits: the gateway's own write() default. */
export const HIGH_WATER = 1024 * 1024;

/**
 * One channel as the service sees it, whatever the stack.
 * @typedef {object} BenchChannel
 * @property {string} label
 * @property {(listener: (data: string | Uint8Array) => void) => void} onMessage
 * @property {(data: string | Uint8Array) => void} send
 * @property {(data: Uint8Array) => Promise<void> | void} write sends, then waits while more than
 *   HIGH_WATER bytes are queued
 */

/** @param {BenchChannel} ch */
function serve(ch) {
  if (ch.label.startsWith('echo')) {
    ch.onMessage((data) => ch.send(data));
    return;
  }
  if (ch.label.startsWith('sink')) {
    let messages = 0;
    let bytes = 0;
    ch.onMessage((data) => {
      if (typeof data === 'string') {
        if (data === 'end') ch.send(JSON.stringify({ messages, bytes }));
        return;
      }
      messages++;
      bytes += data.byteLength;
    });
    return;
  }
  if (ch.label.startsWith('source')) {
    ch.onMessage((data) => {
      if (typeof data !== 'string') return;
      const { count, size } = JSON.parse(data);
      void (async () => {
        const payload = new Uint8Array(size);
        for (let i = 0; i < count; i++) {
          payload[0] = i & 0xff;
          const waiting = ch.write(payload);
          if (waiting) await waiting;
        }
        ch.send('end');
      })().catch(() => undefined); // the page closed the channel: nothing to finish
    });
  }
}

/**
 * `write` for a stack with a W3C-like send buffer: send, and when more than HIGH_WATER bytes are
 * queued wait until `low` says the buffer fell to `HIGH_WATER / 4`. `poll` also re-reads the
 *  buffer every 5 ms, for Node stacks whose low event can be missed (node-datachannel #204; a
 * werift download of 100-byte messages stalled once without it).
 * @param {(data: Uint8Array) => void} send
 * @param {() => number} buffered
 * @param {(listener: () => void) => void} onLow registers one listener, for good
 * @param {boolean} [poll]
 * @param {number} [high] the stack's own high-water mark (HIGH_WATER unless it needs another)
 * @returns {(data: Uint8Array) => Promise<void> | void}
 */
function bufferedWriter(send, buffered, onLow, poll = false, high = HIGH_WATER) {
  /** @type {(() => void) | undefined} */
  let wake;
  onLow(() => wake?.());
  return (data) => {
    send(data);
    if (buffered() <= high) return;
    return new Promise((resolve) => {
      /** @type {ReturnType<typeof setInterval> | undefined} */
      let timer;
      wake = () => {
        if (buffered() > high / 4) return;
        wake = undefined;
        clearInterval(timer);
        resolve();
      };
      if (poll) timer = setInterval(() => wake?.(), 5);
    });
  };
}

export const benchService = { serve, bufferedWriter, HIGH_WATER };
