// @ts-check
/**
 * The interop suite's gateway: the real Gateway library, plus a "control" channel through which
 * the test (running in the page) asks the gateway to open, close and send on channels, to report
 * its own view of them, to receive streams and hash them, and to sample its memory. Channels
 * labelled "sink…" receive streams; labels with a route in the --routes file go to their backend;
 * every other label echoes. Test-only: a production gateway has no such channel.
 *
 *   node test-interop/harness/gateway.mjs --signal-url ws://127.0.0.1:PORT/signal --room R [--routes FILE]
 * prints "harness status on http://127.0.0.1:PORT/" (GET /sessions, as the gateway CLI's).
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import nodeDataChannel from 'node-datachannel';
import { CONTROL_LABEL, createLogger } from 'rtcgate-server';
import { Gateway, GatewayError, loadRoutesFile, matchRoute, startStatusServer } from 'rtcgate-peer-node';
import { streams } from './streams.mjs';

// libdatachannel's own log (ICE, DTLS, SCTP), to stdout with ours: NDC_LOG=Verbose|Debug|Info|Warning|Error.
const NDC_LEVELS = ['Verbose', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'];
if (process.env.NDC_LOG) {
  if (!NDC_LEVELS.includes(process.env.NDC_LOG))
    throw new Error(`NDC_LOG must be one of ${NDC_LEVELS.join(', ')}`);
  nodeDataChannel.initLogger(/** @type {any} */ (process.env.NDC_LOG), (level, message) =>
    process.stdout.write(`ndc ${level} ${message}\n`),
  );
}

// usrsctp's settings for every association of this process, for experiments: NDC_SCTP='{"sendBufferSize":262144}'
// (the keys of node-datachannel's SctpSettings; unset keys keep libdatachannel's defaults).
if (process.env.NDC_SCTP) {
  const settings = JSON.parse(process.env.NDC_SCTP);
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw new Error('NDC_SCTP must be a JSON object of SctpSettings');
  nodeDataChannel.setSctpSettings(settings);
  process.stdout.write(`ndc sctp settings ${JSON.stringify(settings)}\n`);
}

/** @typedef {import('rtcgate-peer-node').GatewayChannel} GatewayChannel */
/** @typedef {import('rtcgate-peer-node').PeerSession} PeerSession */

const { values } = parseArgs({
  options: {
    'signal-url': { type: 'string' },
    room: { type: 'string', default: 'default' },
    'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
    routes: { type: 'string' },
  },
});
if (!values['signal-url']) {
  console.error('usage: gateway.mjs --signal-url ws://HOST:PORT/signal [--room R]');
  process.exit(2);
}
const log = createLogger('harness', /** @type {any} */ (values['log-level']));
const routes = values.routes ? loadRoutesFile(values.routes) : [];
const gateway = new Gateway({
  signalUrl: values['signal-url'],
  room: values.room,
  log,
  routes,
  bridge: { connectTimeoutMs: 3000 },
});

/** Everything the harness keeps per session. */
class SessionState {
  /** @param {PeerSession} session */
  constructor(session) {
    this.session = session;
    /** @type {Map<string, GatewayChannel>} latest channel per label */
    this.byLabel = new Map();
    /** @type {{ t: number; label: string; id: number; opener: string; event: string; bytesIn?: number }[]} */
    this.events = [];
    /** @type {Map<string, Sink>} */
    this.sinks = new Map();
    /** @type {Map<string, (string | Buffer)[]>} data that reached a sink channel before its sink */
    this.early = new Map();
    /** @type {Map<string, (() => void)[]>} requests waiting for a channel to be announced */
    this.awaiting = new Map();
  }

  /** @param {GatewayChannel} channel */
  announce(channel) {
    this.byLabel.set(channel.label, channel);
    for (const wake of this.awaiting.get(channel.label) ?? []) wake();
    this.awaiting.delete(channel.label);
  }

  /**
   * The latest channel with this label. SCTP orders messages within a stream only (RFC 4960
   * §6.6), so a request on the control channel can arrive before the DCEP OPEN of a channel the
   * page opened just before it: wait for the announcement, up to `waitMs`.
   * @param {string} label
   * @param {number} [waitMs]
   * @returns {Promise<GatewayChannel>}
   */
  async channel(label, waitMs = 5000) {
    if (!this.byLabel.has(label)) {
      await new Promise((resolve) => {
        const waiting = this.awaiting.get(label) ?? [];
        const wake = () => {
          clearTimeout(timer);
          resolve(undefined);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(wake), 1);
          if (waiting.length === 0) this.awaiting.delete(label);
          resolve(undefined);
        }, waitMs);
        waiting.push(wake);
        this.awaiting.set(label, waiting);
      });
    }
    const channel = this.byLabel.get(label);
    if (!channel)
      throw new Error(`no channel labelled ${JSON.stringify(label)} in this session after ${waitMs} ms`);
    return channel;
  }
}

class Sink {
  /** @param {number} count */
  constructor(count) {
    this.hash = createHash('sha256');
    this.receiver = streams.createReceiver(count, this.hash);
    /** @type {string | null} */
    this.sha = null;
    this.closed = false;
    /** Messages still missing when the channel reported closed (the close overtook data). */
    this.missingAtClose = /** @type {number | null} */ (null);
    /** @type {(() => void)[]} */
    this.waiters = [];
  }

  /** @param {string | Buffer} message */
  push(message) {
    this.receiver.push(message);
    if (this.receiver.done && this.sha === null) this.sha = this.hash.digest('hex');
    if (this.receiver.done) this.#wake();
  }

  onClose() {
    this.closed = true;
    this.missingAtClose = this.receiver.missing();
    this.#wake();
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  result() {
    const { kept: _kept, ...state } = this.receiver.state;
    return {
      ...state,
      missing: this.receiver.missing(),
      sha: this.sha,
      closed: this.closed,
      missingAtClose: this.missingAtClose,
    };
  }
}

/** @type {WeakMap<PeerSession, SessionState>} */
const states = new WeakMap();

/** RSS sampling for the backpressure tests. */
const rss = {
  timer: /** @type {NodeJS.Timeout | undefined} */ (undefined),
  baseline: 0,
  peak: 0,
  samples: 0,
};

gateway.on('session', (session) => {
  const st = new SessionState(session);
  states.set(session, st);
  session.on('channel', (channel) => {
    st.announce(channel);
    const record = (/** @type {string} */ event) =>
      st.events.push({
        t: Date.now(),
        label: channel.label,
        id: channel.id,
        opener: channel.opener,
        event,
        bytesIn: channel.info().bytesIn,
      });
    record(channel.state === 'open' ? 'open' : 'created');
    channel.on('open', () => record('open'));
    channel.on('close', () => {
      record('close');
      st.sinks.get(channel.label)?.onClose();
    });
    // The gateway's own echo handler, its routes (--routes) and the control channel serve these;
    // labels starting with "unrouted" are left to the gateway, which refuses them (NO_ROUTE).
    if (channel.label === 'echo' || channel.label === CONTROL_LABEL || matchRoute(routes, channel.label))
      return;
    if (channel.label.startsWith('unrouted')) return;
    if (channel.label === 'control') {
      channel.on('message', (m) => void control(st, channel, m));
      // The tests' own channel: its close is worth a line (a CI run once found it closed early).
      channel.on('close', () =>
        log.info('control channel closed', { peerId: session.peerId, id: channel.id }),
      );
      return;
    }
    if (channel.label.startsWith('sink')) {
      channel.on('message', (m) => {
        const sink = st.sinks.get(channel.label);
        if (sink) sink.push(m);
        else st.early.set(channel.label, [...(st.early.get(channel.label) ?? []), m]);
      });
      return;
    }
    channel.on('message', (m) => {
      try {
        channel.send(m);
      } catch (err) {
        if (!(err instanceof GatewayError && err.code === 'CHANNEL_NOT_OPEN')) throw err;
      }
    });
  });
});

/**
 * @param {SessionState} st
 * @param {GatewayChannel} channel
 * @param {string | Buffer} raw
 */
async function control(st, channel, raw) {
  /** @type {any} */
  let req;
  try {
    req = JSON.parse(String(raw));
  } catch {
    channel.send(JSON.stringify({ id: null, ok: false, code: 'BAD_JSON', message: 'not JSON' }));
    return;
  }
  let reply;
  try {
    reply = { id: req.id, ok: true, result: await run(st, req) };
  } catch (err) {
    reply = {
      id: req.id,
      ok: false,
      code: err instanceof GatewayError ? err.code : 'HARNESS_ERROR',
      message: err instanceof Error ? err.message : String(err),
    };
  }
  try {
    if (channel.state === 'open') channel.send(JSON.stringify(reply));
  } catch (err) {
    // The test sees the missing reply as its own failure; the harness must not die of it.
    log.warn('control reply not sent', {
      op: req.op,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  if (req.op === 'closeSession')
    setTimeout(() => st.session.close('closed by the test', req.bye === true), 50);
}

/**
 * @param {SessionState} st
 * @param {any} req
 */
async function run(st, req) {
  switch (req.op) {
    case 'view':
      return st.session.info();
    case 'events':
      return st.events;
    case 'open': {
      const channel = st.session.openChannel(req.request);
      return { label: channel.label, id: channel.id };
    }
    case 'close':
      (await st.channel(req.label)).close();
      return null;
    case 'send': {
      const channel = await st.channel(req.label);
      return req.messages.map((/** @type {any} */ m) => {
        try {
          channel.send('text' in m ? m.text : Buffer.alloc(m.size, m.fill ?? 0));
          return 'sent';
        } catch (err) {
          return { code: err instanceof GatewayError ? err.code : 'ERROR', message: String(err) };
        }
      });
    }
    case 'sink': {
      const sink = new Sink(req.count);
      st.sinks.set(req.label, sink);
      for (const m of st.early.get(req.label) ?? []) sink.push(m);
      st.early.delete(req.label);
      return null;
    }
    case 'sinkResult': {
      const sink = st.sinks.get(req.label);
      if (!sink) throw new Error(`no sink ${req.label}`);
      if (!sink.receiver.done && !sink.closed) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, req.waitMs ?? 30_000);
          sink.waiters.push(() => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
      return sink.result();
    }
    case 'stream':
      return stream(await st.channel(req.label), req);
    case 'rss':
      return sampleRss(req.action);
    case 'closeSession':
      return null; // closed by control() once the reply is out
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

/**
 * Sends the stream `req.spec` on the channel: with write() (backpressure, the default) or, with
 * `queueAll`, everything at once followed by close() if `close` is set.
 * @param {GatewayChannel} channel
 * @param {any} req
 */
async function stream(channel, req) {
  const hash = createHash('sha256');
  const started = Date.now();
  let bytes = 0;
  let maxBuffered = 0;
  for (let seq = 0; seq < req.spec.count; seq++) {
    const message = streams.makeMessage(req.spec, seq);
    const data =
      typeof message === 'string'
        ? message
        : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    hash.update(streams.bytesOf(message));
    bytes += streams.bytesOf(message).byteLength;
    if (req.queueAll) channel.send(data);
    else await channel.write(data, req.highWaterMark);
    maxBuffered = Math.max(maxBuffered, channel.bufferedAmount);
  }
  const queuedAfterLast = channel.bufferedAmount;
  if (req.close) channel.close();
  return {
    sent: req.spec.count,
    bytes,
    sha: hash.digest('hex'),
    maxBuffered,
    queuedAfterLast,
    elapsedMs: Date.now() - started,
  };
}

/** @param {'start' | 'stop'} action */
function sampleRss(action) {
  if (action === 'start') {
    clearInterval(rss.timer);
    rss.baseline = process.memoryUsage.rss();
    rss.peak = rss.baseline;
    rss.samples = 0;
    rss.timer = setInterval(() => {
      rss.peak = Math.max(rss.peak, process.memoryUsage.rss());
      rss.samples++;
    }, 10);
    return { baseline: rss.baseline };
  }
  clearInterval(rss.timer);
  rss.peak = Math.max(rss.peak, process.memoryUsage.rss());
  return {
    baseline: rss.baseline,
    peak: rss.peak,
    samples: rss.samples,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
}

await gateway.start();
const status = await startStatusServer(gateway, 0, '127.0.0.1');
console.log(`harness status on http://127.0.0.1:${status.port}/`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(rss.timer);
  await gateway.close();
  await status.close();
  nodeDataChannel.cleanup();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
