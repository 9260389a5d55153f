// @ts-check
/**
 * The page side of the comparison bench, injected after service.mjs (import/export lines
 * stripped). The same code measures every peer: it connects with the rtcgate library's
 * GatewayConnection to whatever joined the room as its gateway (a Node peer of refpeer.mjs, or
 * `answerer()` below, a second RTCPeerConnection in this page) and drives plain RTCDataChannels.
 */
import { benchService } from './service.mjs';

const HIGH = 1024 * 1024;
const LOW = 256 * 1024;

/**
 * Browser ↔ browser: joins `room` as its gateway and answers every offer with a new
 * RTCPeerConnection of this page, serving the bench channels like the Node peers.
 * @param {string} room
 * @returns {Promise<() => void>} stops answering and closes every connection
 */
async function answerer(room) {
  const signaling = await rtcgate.openSignaling('ws', undefined, 10_000);
  const joined = signaling.next((m) => m.type === 'joined', 10_000);
  signaling.send({ type: 'join', room, role: 'gateway' });
  await joined;
  /** @type {Map<string, RTCPeerConnection>} */
  const pcs = new Map();
  /** @type {Map<string, RTCIceCandidateInit[]>} candidates that came before their offer */
  const early = new Map();
  const end = (/** @type {string} */ peer) => {
    pcs.get(peer)?.close();
    pcs.delete(peer);
    early.delete(peer);
  };
  signaling.onMessage((m) => {
    if (m.type === 'offer') {
      end(m.from);
      const to = m.from;
      const pc = new RTCPeerConnection();
      pcs.set(to, pc);
      pc.onicecandidate = (e) => {
        const c = e.candidate;
        if (c) {
          signaling.send({
            type: 'candidate',
            to,
            candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex },
          });
        }
      };
      pc.ondatachannel = ({ channel: dc }) => {
        dc.binaryType = 'arraybuffer';
        dc.bufferedAmountLowThreshold = benchService.HIGH_WATER / 4;
        const send = (/** @type {string | Uint8Array} */ d) =>
          typeof d === 'string' ? dc.send(d) : dc.send(/** @type {Uint8Array<ArrayBuffer>} */ (d));
        benchService.serve({
          label: dc.label,
          onMessage: (listener) =>
            dc.addEventListener('message', (e) =>
              listener(typeof e.data === 'string' ? e.data : new Uint8Array(e.data)),
            ),
          send,
          write: benchService.bufferedWriter(
            send,
            () => dc.bufferedAmount,
            (l) => dc.addEventListener('bufferedamountlow', l),
          ),
        });
      };
      void (async () => {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        for (const c of early.get(to) ?? []) await pc.addIceCandidate(c);
        early.delete(to);
        await pc.setLocalDescription();
        signaling.send({ type: 'answer', to, sdp: pc.localDescription?.sdp ?? '' });
      })();
    } else if (m.type === 'candidate' && m.candidate) {
      const pc = pcs.get(m.from);
      if (pc?.remoteDescription) void pc.addIceCandidate(m.candidate);
      else early.set(m.from, [...(early.get(m.from) ?? []), m.candidate]);
    } else if (m.type === 'bye') end(m.from);
    else if (m.type === 'peer-left') end(m.peerId);
  });
  return () => {
    for (const peer of [...pcs.keys()]) end(peer);
    signaling.close();
  };
}

/**
 * Where a connect's time went, in ms from its start: joined (the signaling WebSocket open and the
 * room joined), the offer sent (the RTCPeerConnection made, createOffer and setLocalDescription
 * done), the answer applied, ICE connected (the browser's view). The first channel open is the
 * setup time itself; the library reports DTLS only once the channels are open, so DTLS has no
 * phase of its own here.
 * @typedef {{ joined: number; offerSent: number; answerIn: number; iceConnected: number }} SetupPhases
 */
/**
 * Connects to the room's gateway; resolves with the connection, its open `echo` channel and the
 * setup time: from the call (signaling connect and join included, a few ms on loopback) to the
 * first channel open, and the phases of it. With `shared`, it joins over that signaling
 * connection instead of opening one.
 * @param {string} room
 * @param {number} [timeoutMs]
 * @param {any} [shared] a SharedSignaling
 */
async function connect(room, timeoutMs = 20_000, shared = undefined) {
  const started = performance.now();
  /** @type {SetupPhases} */
  const phases = { joined: NaN, offerSent: NaN, answerIn: NaN, iceConnected: NaN };
  const mark = (/** @type {keyof SetupPhases} */ phase) => {
    if (Number.isNaN(phases[phase])) phases[phase] = performance.now() - started;
  };
  /** The connect's steps, ms from its start: said with the error when it fails. */
  const steps = /** @type {string[]} */ ([]);
  const conn = await rtcgate.GatewayConnection.connect({
    room,
    offerer: 'browser',
    transport: 'ws',
    ...(shared ? { signaling: shared } : {}),
    channels: [{ label: 'echo' }],
    timeoutMs,
    onEvent: (/** @type {any} */ e) => {
      const what = e.kind === 'candidate' ? null : (e.state ?? e.detail ?? e.reason ?? e.label);
      if (what !== null) steps.push(`${Math.round(performance.now() - started)} ${e.kind} ${what}`);
      if (e.kind === 'signaling' && e.detail.startsWith('joined room')) mark('joined');
      if (e.kind === 'signaling' && e.detail === 'sent offer') mark('offerSent');
      if (e.kind === 'signalingState' && e.state === 'stable' && !Number.isNaN(phases.offerSent))
        mark('answerIn');
      if (e.kind === 'iceConnectionState' && (e.state === 'connected' || e.state === 'completed'))
        mark('iceConnected');
    },
  }).catch((/** @type {unknown} */ err) => {
    throw new Error(`${String(err)} [${steps.slice(-12).join('; ')}]`);
  });
  const setupMs = performance.now() - started;
  const echo = /** @type {RTCDataChannel} */ (conn.channels.get('echo'));
  echo.binaryType = 'arraybuffer';
  return { conn, echo, setupMs, phases };
}

/** @param {number} ms @param {string} what */
function deadline(ms, what) {
  /** @type {ReturnType<typeof setTimeout>} */
  let timer;
  const p = /** @type {Promise<never>} */ (
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: stuck`)), ms)))
  );
  return { p, cancel: () => clearTimeout(timer) };
}

/**
 * Page → peer: `count` binary messages of `size` bytes, waiting for bufferedamountlow whenever
 * more than 1 MiB is queued; done when the peer's sink has counted all of them.
 * @param {any} conn a GatewayConnection
 * @param {string} label
 * @param {number} count
 * @param {number} size
 * @param {number} [timeoutMs]
 */
async function upload(conn, label, count, size, timeoutMs = 120_000) {
  const ch = /** @type {RTCDataChannel} */ (await conn.openChannel(label));
  ch.bufferedAmountLowThreshold = LOW;
  const payload = new Uint8Array(size);
  const limit = deadline(timeoutMs, `upload on ${label}`);
  try {
    const reply = new Promise((resolve) =>
      ch.addEventListener('message', (e) => resolve(JSON.parse(String(e.data))), { once: true }),
    );
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      if (ch.bufferedAmount > HIGH) {
        await Promise.race([
          new Promise((resolve) => ch.addEventListener('bufferedamountlow', resolve, { once: true })),
          limit.p,
        ]);
      }
      payload[0] = i & 0xff;
      ch.send(payload);
    }
    ch.send('end');
    const got = /** @type {{ messages: number; bytes: number }} */ (await Promise.race([reply, limit.p]));
    const seconds = (performance.now() - started) / 1000;
    if (got.messages !== count || got.bytes !== count * size) {
      throw new Error(`${label}: the peer counted ${got.messages} messages, ${got.bytes} bytes`);
    }
    return { seconds, mbps: (count * size) / 1e6 / seconds, rate: count / seconds };
  } finally {
    limit.cancel();
    ch.close();
  }
}

/**
 * Peer → page: asks the peer's source for `count` messages of `size` bytes; done when all came.
 * @param {any} conn
 * @param {string} label
 * @param {number} count
 * @param {number} size
 * @param {number} [timeoutMs]
 */
async function download(conn, label, count, size, timeoutMs = 120_000) {
  const ch = /** @type {RTCDataChannel} */ (await conn.openChannel(label));
  ch.binaryType = 'arraybuffer';
  const limit = deadline(timeoutMs, `download on ${label}`);
  try {
    let messages = 0;
    let bytes = 0;
    const done = new Promise((resolve, reject) => {
      ch.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') {
          messages++;
          bytes += /** @type {ArrayBuffer} */ (e.data).byteLength;
        } else if (messages === count && bytes === count * size) resolve(undefined);
        else reject(new Error(`${label}: "end" after ${messages} messages, ${bytes} bytes`));
      });
    });
    const started = performance.now();
    ch.send(JSON.stringify({ count, size }));
    await Promise.race([done, limit.p]);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, mbps: (count * size) / 1e6 / seconds, rate: count / seconds };
  } finally {
    limit.cancel();
    ch.close();
  }
}

/**
 * Round trips of small messages one after another on an echo channel, in blocks of BLOCK: each
 * message's own time (for the tail), and each block's mean. Firefox rounds performance.now() to
 * 1 ms (Chromium to 0.1 ms), below one round trip here: the median is taken over block means.
 * @param {RTCDataChannel} echo
 * @param {number} n messages in all (a multiple of BLOCK)
 */
async function roundTrips(echo, n) {
  const BLOCK = 10;
  const each = [];
  const blockMeans = [];
  const message = 'x'.repeat(32);
  for (let b = 0; b < n / BLOCK; b++) {
    const started = performance.now();
    for (let i = 0; i < BLOCK; i++) each.push((await rtcgate.echo(echo, message, 10_000)).rttMs);
    blockMeans.push((performance.now() - started) / BLOCK);
  }
  return { each, blockMeans };
}

/**
 * Setup times of `n` connections, with their phases: one after another, or all at once. All at
 * once, they join over one signaling connection the page opened beforehand (rtcgate.signal.v2, the
 * library's SharedSignaling: a browser opens WebSockets to one host one at a time), or each over a
 * WebSocket of its own (`'parallel-own-sockets'`, how a page without it fares). Each connection
 * is checked with one echo, then ended.
 * @param {string} room
 * @param {number} n
 * @param {'sequential' | 'parallel' | 'parallel-own-sockets'} mode
 */
async function setups(room, n, mode) {
  const shared = mode === 'parallel' ? await rtcgate.SharedSignaling.open('ws') : undefined;
  const one = async () => {
    const { conn, echo, setupMs, phases } = await connect(room, 20_000, shared);
    await rtcgate.echo(echo, 'ping', 10_000);
    return { conn, setupMs, phases };
  };
  try {
    if (mode !== 'sequential') {
      const made = await Promise.all(Array.from({ length: n }, one));
      for (const { conn } of made) conn.close('bench done');
      return made.map(({ setupMs, phases }) => ({ setupMs, phases }));
    }
    const times = [];
    for (let i = 0; i < n; i++) {
      const { conn, setupMs, phases } = await one();
      conn.close('bench done');
      times.push({ setupMs, phases });
    }
    return times;
  } finally {
    shared?.close();
  }
}

export const benchPage = { answerer, connect, upload, download, roundTrips, setups };
