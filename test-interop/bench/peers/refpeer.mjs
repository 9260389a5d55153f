// @ts-check
/**
 * A Node peer of the comparison bench (compare.bench.ts): joins a room of the real signaling server
 * as its gateway, answers the page's offers, and serves the bench channels with service.mjs.
 *
 *   node refpeer.mjs --kind gateway|ndc|werift|wrtc --signal-url ws://127.0.0.1:PORT/signal --room R
 *
 * - gateway: the product, rtcgate's Gateway (its signaling, sessions and GatewayChannel), the bench
 *   labels routed to an in-process handler;
 * - ndc: node-datachannel with no rtcgate code, the signaling done here: the cost of our own layer;
 * - werift (pure TypeScript) and wrtc (@roamhq/wrtc, libwebrtc): what a user would pick instead.
 * Benchmark references only: the product never loads werift or wrtc.
 *
 * Prints "refpeer KIND ready, stats on http://127.0.0.1:PORT/" once joined. GET /stats answers
 * `{"rss":BYTES,"sessions":N,"eventLoop":{"p50Ms","p99Ms","maxMs"}}` (the event-loop delay since
 * the last POST /stats/reset, beyond the 10 ms sampling timer), for the concurrency bench.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from 'rtcgate-server';
import { Gateway, SignalClient } from 'rtcgate-peer-node';
import { benchService } from './service.mjs';

const KINDS = ['gateway', 'ndc', 'werift', 'wrtc'];

// libdatachannel's own log (ICE, DTLS, SCTP) with ours, for the two node-datachannel peers:
// NDC_LOG=Verbose|Debug|Info|Warning|Error. Off by default (it costs CPU the bench measures).
if (process.env.NDC_LOG) {
  const { default: ndc } = await import('node-datachannel');
  ndc.initLogger(/** @type {any} */ (process.env.NDC_LOG), (level, message) =>
    process.stdout.write(`ndc ${level} ${message}\n`),
  );
}
/** werift's own send-buffer mark (see its writer below). */
const WERIFT_HIGH_WATER = 64 * 1024;
const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    'signal-url': { type: 'string' },
    room: { type: 'string' },
  },
});
const kind = values.kind ?? '';
const signalUrl = values['signal-url'];
const room = values.room;
if (!KINDS.includes(kind) || !signalUrl || !room) {
  console.error(`usage: refpeer.mjs --kind ${KINDS.join('|')} --signal-url URL --room R`);
  process.exit(2);
}

/** A candidate as the signaling schema takes it (strict: no other fields). */
const candidateInit = (/** @type {any} */ c) => ({
  candidate: String(c.candidate),
  sdpMid: c.sdpMid ?? null,
  sdpMLineIndex: c.sdpMLineIndex ?? null,
});

/** Bytes of a message as a Uint8Array view, whatever the stack handed over. */
const bytes = (/** @type {any} */ d) =>
  d instanceof Uint8Array ? d : new Uint8Array(d instanceof ArrayBuffer ? d : (d.buffer ?? d));

/**
 * @typedef {object} Session
 * @property {(sdp: string) => Promise<void>} offer applies the offer and sends the answer
 * @property {(c: any) => Promise<void> | void} candidate
 * @property {() => void} close
 */

/**
 * The answerer's side of a W3C-shaped RTCPeerConnection (werift, wrtc): apply the offer, answer,
 * add the browser's candidates (those `skip` does not leave out).
 * @param {any} pc
 * @param {(m: any) => void} send
 * @param {(candidate: string) => boolean} [skip]
 * @returns {Session}
 */
function w3cSession(pc, send, skip = () => false) {
  return {
    async offer(sdp) {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: 'answer', sdp: pc.localDescription?.sdp ?? '' });
    },
    async candidate(c) {
      if (c && !skip(c.candidate)) await pc.addIceCandidate(c);
    },
    close: () => void pc.close(),
  };
}

/** @type {Record<string, (send: (m: any) => void) => Promise<Session>>} */
const stacks = {
  async ndc(send) {
    const { default: ndc } = await import('node-datachannel');
    const pc = new ndc.PeerConnection('bench', { iceServers: [] });
    /** Channels stay referenced for the process's life (see peer-node/src/nativeRefs.ts). */
    const held = [];
    pc.onLocalDescription((sdp, type) => {
      if (type === 'answer') send({ type: 'answer', sdp });
    });
    pc.onLocalCandidate((candidate, mid) =>
      send({ type: 'candidate', candidate: { candidate: candidate.replace(/^a=/, ''), sdpMid: mid } }),
    );
    pc.onDataChannel((dc) => {
      held.push(dc);
      /** @type {() => void} */
      let low = () => undefined;
      dc.setBufferedAmountLowThreshold(benchService.HIGH_WATER / 4);
      // A throw out of a node-datachannel callback aborts the process (an echo sent on a channel
      // that closed meanwhile throws): callbacks here catch and log.
      const label = dc.getLabel(); // read once: getLabel() throws on a destroyed channel
      const guarded = (/** @type {() => void} */ f) => {
        try {
          f();
        } catch (err) {
          console.error(`ndc ${label}: ${String(err)}`);
        }
      };
      dc.onBufferedAmountLow(() => guarded(low));
      const sendOne = (/** @type {string | Uint8Array} */ d) =>
        typeof d === 'string' ? dc.sendMessage(d) : dc.sendMessageBinary(d);
      benchService.serve({
        label,
        onMessage: (listener) =>
          dc.onMessage((m) => guarded(() => listener(typeof m === 'string' ? m : bytes(m)))),
        send: sendOne,
        write: benchService.bufferedWriter(
          sendOne,
          () => dc.bufferedAmount(),
          (l) => (low = l),
          true,
        ),
      });
    });
    return {
      async offer(sdp) {
        pc.setRemoteDescription(sdp, 'offer');
      },
      candidate(c) {
        if (c) pc.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
      },
      close: () => pc.close(),
    };
  },

  async werift(send) {
    const { RTCPeerConnection } = await import('werift');
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.onIceCandidate.subscribe((c) => {
      if (c) send({ type: 'candidate', candidate: candidateInit(c) });
    });
    pc.onDataChannel.subscribe((dc) => {
      const ready = () => {
        dc.bufferedAmountLowThreshold = benchService.HIGH_WATER / 4;
        const sendOne = (/** @type {string | Uint8Array} */ d) =>
          dc.send(typeof d === 'string' ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));
        benchService.serve({
          label: dc.label,
          onMessage: (listener) =>
            dc.onMessage.subscribe((m) => listener(typeof m === 'string' ? m : bytes(m))),
          send: sendOne,
          write: benchService.bufferedWriter(
            sendOne,
            () => dc.bufferedAmount,
            (l) => dc.bufferedAmountLow.subscribe(l),
            true,
            // werift's bufferedAmount lags its real queue, and with thousands of small messages
            // queued its sender turns quadratic: 20,000 messages of 100 bytes under the 1 MiB
            // mark ran at about 130 messages/s with a core busy, and the download never ended.
            // 64 KiB is the tuning a werift user needs (3,400 messages/s, 13.7 MB/s at 16 KiB).
            WERIFT_HIGH_WATER,
          ),
        });
      };
      if (dc.readyState === 'open') ready();
      else dc.stateChanged.subscribe((s) => s === 'open' && ready());
    });
    // werift resolves a browser's mDNS host candidate (*.local) itself, and here that lookup takes
    // 10 s or never answers (connects took 10.8 s in Chromium, timed out in Firefox): leave them
    // out; the browser's checks still reach werift, which learns their address as peer-reflexive,
    // the way node-datachannel does.
    return w3cSession(pc, send, (candidate) => /\s\S+\.local\s/.test(candidate));
  },

  async wrtc(send) {
    const { default: wrtc } = await import('@roamhq/wrtc');
    const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    pc.onicecandidate = (/** @type {any} */ e) => {
      if (e.candidate) send({ type: 'candidate', candidate: candidateInit(e.candidate) });
    };
    pc.ondatachannel = (/** @type {any} */ e) => {
      const dc = e.channel;
      dc.binaryType = 'arraybuffer';
      dc.bufferedAmountLowThreshold = benchService.HIGH_WATER / 4;
      const sendOne = (/** @type {string | Uint8Array} */ d) => dc.send(d);
      benchService.serve({
        label: dc.label,
        onMessage: (listener) =>
          dc.addEventListener('message', (/** @type {any} */ m) =>
            listener(typeof m.data === 'string' ? m.data : bytes(m.data)),
          ),
        send: sendOne,
        write: benchService.bufferedWriter(
          sendOne,
          () => dc.bufferedAmount,
          (l) => dc.addEventListener('bufferedamountlow', l),
          true,
        ),
      });
    };
    return w3cSession(pc, send);
  },
};

/** The reference stacks: one session per page, signaling done here. */
async function startReference() {
  const signal = await SignalClient.connect(/** @type {string} */ (signalUrl));
  await signal.join(/** @type {string} */ (room), 'gateway');
  /** @type {Map<string, Promise<Session>>} */
  const sessions = new Map();
  const end = (/** @type {string} */ peerId) => {
    const s = sessions.get(peerId);
    sessions.delete(peerId);
    void s?.then((x) => x.close()).catch(() => undefined);
  };
  signal.on('message', (m) => {
    if (m.type === 'offer') {
      end(m.from);
      const to = m.from;
      // The session resolves once the offer is applied: candidates wait for it (chained below).
      const session = /** @type {NonNullable<(typeof stacks)[string]>} */ (stacks[kind])((msg) =>
        signal.send({ ...msg, to }),
      ).then(async (s) => {
        await s.offer(m.sdp);
        return s;
      });
      sessions.set(to, session);
      session.catch((err) => console.error(`offer from ${to}: ${err}`));
    } else if (m.type === 'candidate') {
      void sessions
        .get(m.from)
        ?.then((s) => s.candidate(m.candidate))
        .catch((err) => console.error(`candidate from ${m.from}: ${err}`));
    } else if (m.type === 'bye') end(m.from);
    else if (m.type === 'peer-left') end(m.peerId);
  });
  return {
    sessions: () => sessions.size,
    stop: async () => {
      for (const peerId of [...sessions.keys()]) end(peerId);
      await signal.close();
    },
  };
}

/** The product: rtcgate's Gateway with the bench labels routed to one in-process handler. */
async function startGateway() {
  const target = { kind: /** @type {const} */ ('handler'), name: 'bench' };
  const gateway = new Gateway({
    signalUrl: /** @type {string} */ (signalUrl),
    room,
    // BENCH_GATEWAY_LOG_LEVEL=info to see why sessions fail (it costs the gateway some CPU).
    log: createLogger('bench-gateway', /** @type {any} */ (process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn')),
    routes: ['echo', 'sink', 'source'].map((prefix) => ({ prefix, target })),
  });
  gateway.handle('bench', (channel) => {
    benchService.serve({
      label: channel.label,
      onMessage: (listener) => channel.on('message', (m) => listener(typeof m === 'string' ? m : bytes(m))),
      send: (d) => channel.send(d),
      write: (d) => channel.write(d, benchService.HIGH_WATER),
    });
  });
  await gateway.start();
  return { sessions: () => gateway.sessionInfo().length, stop: () => gateway.close() };
}

const peer = kind === 'gateway' ? await startGateway() : await startReference();
// The histogram records the whole interval between its timer's runs: the delay is what exceeds the
// timer's own resolution.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
const ms = (/** @type {number} */ ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
const stats = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/stats/reset') {
    delay.reset();
    res.end('{}');
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        rss: process.memoryUsage.rss(),
        sessions: peer.sessions(),
        eventLoop: { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) },
      }),
    );
    return;
  }
  res.statusCode = 404;
  res.end();
});
await new Promise((resolve) => stats.listen(0, '127.0.0.1', () => resolve(undefined)));
const address = stats.address();
const port = typeof address === 'object' && address ? address.port : 0;
console.log(`refpeer ${kind} ready, stats on http://127.0.0.1:${port}/`);
const quit = async () => {
  stats.close();
  await peer.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void quit());
process.on('SIGINT', () => void quit());
