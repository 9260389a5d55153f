/**
 * The page: connect to the gateway and watch the connection from the inside — signaling, ICE,
 * DTLS, SCTP and the channels live, like chrome://webrtc-internals for this one connection.
 */
import { CONTROL_LABEL } from 'rtcgate-server/protocol';
import * as rtcgate from '../lib/index.js';
import {
  GatewayConnection,
  echo,
  summarizeStats,
  type BridgeChannel,
  type ConnectionEvent,
  type ConnectionStats,
  type Offerer,
  type SignalTransport,
} from '../lib/index.js';
import { formatMs, formatRate, LiveChart } from './charts.js';
import { ERROR_WORDS, codeInReason, pageErrorOf, wordsFor, type PageError } from './errorWords.js';
import {
  candidateText,
  dtlsVersion,
  h,
  renderCandidates,
  renderChannels,
  renderPairs,
  renderSecurity,
  type ChannelRow,
} from './internals.js';

// The interop suite drives the same library the page uses.
(globalThis as unknown as { rtcgate: typeof rtcgate }).rtcgate = rtcgate;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};
const ui = {
  room: $<HTMLInputElement>('room'),
  transport: $<HTMLSelectElement>('transport'),
  offerer: $<HTMLSelectElement>('offerer'),
  timeout: $<HTMLInputElement>('timeout'),
  connect: $<HTMLButtonElement>('connect'),
  disconnect: $<HTMLButtonElement>('disconnect'),
  errors: $('errors'),
  noErrors: $('no-errors'),
  signaling: $('signaling'),
  iceGathering: $('iceGathering'),
  iceConnection: $('iceConnection'),
  connectionState: $('connectionState'),
  pair: $('pair'),
  dtls: $('dtls'),
  sctp: $('sctp'),
  rtt: $('rtt'),
  security: {
    state: $('sec-state'),
    role: $('sec-role'),
    version: $('sec-version'),
    cipher: $('sec-cipher'),
    srtp: $('sec-srtp'),
    iceRole: $('sec-ice-role'),
    localFingerprint: $('sec-local-fp'),
    remoteFingerprint: $('sec-remote-fp'),
  },
  form: $<HTMLFormElement>('send-form'),
  message: $<HTMLInputElement>('message'),
  send: $<HTMLButtonElement>('send'),
  echoes: $('echoes'),
  bridgeOpenForm: $<HTMLFormElement>('bridge-open-form'),
  bridgeLabel: $<HTMLInputElement>('bridge-label'),
  bridgeOpen: $<HTMLButtonElement>('bridge-open'),
  bridgeSendForm: $<HTMLFormElement>('bridge-send-form'),
  bridgeMessage: $<HTMLInputElement>('bridge-message'),
  bridgeSend: $<HTMLButtonElement>('bridge-send'),
  bridgeLog: $('bridge-log'),
  candidates: $('candidates'),
  pairs: $('pairs'),
  channels: $('channels'),
  timeline: $('timeline'),
  glossary: $('glossary'),
  raw: $<HTMLDetailsElement>('raw'),
  rawStats: $('raw-stats'),
};

const charts = {
  throughput: new LiveChart(
    $('chart-throughput'),
    'bytes per second',
    [
      { label: 'received', stroke: '#2563eb' },
      { label: 'sent', stroke: '#d97706' },
    ],
    formatRate,
    100,
  ),
  rtt: new LiveChart(
    $('chart-rtt'),
    'milliseconds',
    [
      { label: 'echo', stroke: '#7c3aed', sparse: true },
      { label: 'ICE', stroke: '#059669' },
    ],
    formatMs,
    1,
  ),
};
// The interop suite reads what the charts were given (uPlot's own data).
(globalThis as unknown as { rtcgatePage: unknown }).rtcgatePage = {
  charts: { throughput: charts.throughput.plot, rtt: charts.rtt.plot },
};

let bridge: BridgeChannel | undefined;
let conn: GatewayConnection | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;
/**
 * Which Connect the view belongs to. An ended connection's close can come up to 15 s after
 * Disconnect (end() delivers what is queued first); once the user pressed Connect again, its late
 * events and callbacks must not touch the new connection's view.
 */
let generation = 0;
/** A stats reading is on its way: the next tick is skipped rather than overlapping it. */
let statsBusy = false;
let echoRttMs: number | undefined;
let signalingText = '';
let started = performance.now();

/** What one connection's view keeps between stats readings; made anew by Connect. */
interface Session {
  /** The previous reading of the selected pair's byte counters, for the rates. */
  last: { at: number; sent: number; received: number } | null;
  /** The selected pair as last shown, to note a change in the timeline. */
  pairKey: string;
  /** The page's RTT probe: its own channel to the echo route, one ping a second. */
  probe: RTCDataChannel | null;
  probeSent: Map<number, number>;
  probeNext: number;
  /** Echo round trips measured since the last chart point. */
  probeRtts: number[];
  /** Last counters seen per channel: a browser may drop a closed channel from its report. */
  counters: Map<string, ConnectionStats['dataChannels'][number]>;
}
let session: Session = newSession();

function newSession(): Session {
  return {
    last: null,
    pairKey: '',
    probe: null,
    probeSent: new Map(),
    probeNext: 1,
    probeRtts: [],
    counters: new Map(),
  };
}

/** Lines the echo and bridge logs keep, the latest ones: a chatty backend does not grow the page. */
const LOG_LINES_KEPT = 500;
for (const list of [ui.echoes, ui.bridgeLog]) list.dataset.linesKept = String(LOG_LINES_KEPT);

function line(list: HTMLElement, text: string): void {
  const li = document.createElement('li');
  li.textContent = text;
  list.append(li);
  while (list.childElementCount > LOG_LINES_KEPT) list.firstElementChild!.remove();
  list.scrollTop = list.scrollHeight;
}

function setState(el: HTMLElement, text: string): void {
  el.textContent = text;
  el.classList.toggle('good', /^(connected|complete|open|joined)/.test(text));
  el.classList.toggle('bad', /^(failed|closed|disconnected|error)/.test(text));
}

// ---- timeline --------------------------------------------------------------------------------

const KIND_WORDS: Record<string, string> = {
  signaling: 'Signaling',
  signalingState: 'Signaling state',
  iceGatheringState: 'ICE gathering',
  iceConnectionState: 'ICE connection',
  connectionState: 'Peer connection',
  dtlsState: 'DTLS',
  sctpState: 'SCTP',
  channel: 'Channel',
  selectedPair: 'Selected pair',
  closed: 'Closed',
  error: 'Error',
};

/** One timeline entry: when (seconds since Connect), what, and the new state or message. */
function note(kind: string, value: string, attrs: Record<string, string> = {}): void {
  const t = (performance.now() - started) / 1000;
  const good = /^(connected|completed|complete|open|stable)$/.test(value);
  const bad = /^(failed|closed|disconnected)$/.test(value) || kind === 'error';
  const li = h(
    'li',
    { 'data-kind': kind, ...attrs, class: good ? 'good' : bad ? 'bad' : undefined },
    h('time', {}, `${t.toFixed(3)} s`),
    h('span', { class: 'what' }, KIND_WORDS[kind] ?? kind),
    h('span', { class: 'value' }, value),
  );
  ui.timeline.append(li);
  ui.timeline.scrollTop = ui.timeline.scrollHeight;
}

// The library tells these steps as signal messages too (kind 'signal'): not shown twice.
const TOLD_AS_MESSAGES =
  /^(sent offer|received answer|asked the gateway to offer|received offer, sent answer)$/;

function onEvent(event: ConnectionEvent): void {
  switch (event.kind) {
    case 'signaling':
      // The field keeps the connection's standing (transport, room, peer id); every step goes to
      // the timeline.
      if (/^(connected over|joined room|signaling closed)/.test(event.detail)) {
        signalingText = event.detail.startsWith('joined')
          ? `${signalingText}; ${event.detail}`
          : event.detail;
        setState(ui.signaling, signalingText);
      }
      if (!TOLD_AS_MESSAGES.test(event.detail)) note('signaling', event.detail);
      return;
    case 'signal':
      note('signal', `${event.direction === 'sent' ? '→' : '←'} ${event.detail}`, {
        'data-direction': event.direction,
        'data-type': event.type,
      });
      return;
    case 'iceGatheringState':
      setState(ui.iceGathering, event.state);
      break;
    case 'iceConnectionState':
      setState(ui.iceConnection, event.state);
      break;
    case 'connectionState':
      setState(ui.connectionState, event.state);
      break;
    case 'dtlsState':
      setState(ui.dtls, event.state);
      break;
    case 'sctpState':
      setState(ui.sctp, `SCTP ${event.state}`);
      break;
    case 'channel':
      setState(ui.sctp, `channel "${event.label}" ${event.state}`);
      note('channel', `"${event.label}" ${event.state}`, {
        'data-state': event.state,
        'data-label': event.label,
      });
      return;
    case 'signalingState':
      break;
    case 'candidate':
      // Sent and received candidates are in the timeline as signal messages.
      return;
    case 'closed': {
      setState(ui.connectionState, 'closed');
      note('closed', event.reason);
      // A failure after the connection was up is an error to explain; a bye is not, unless its
      // reason is a code (SESSION_STALLED …). A failed connect is reported by its rejection.
      if (conn) {
        const code = event.reason === 'connection failed' ? 'CONNECTION_FAILED' : codeInReason(event.reason);
        if (code) showError({ code, detail: event.reason });
      }
      setConnected(false);
      return;
    }
  }
  note(event.kind, event.state, { 'data-state': event.state });
}

// ---- errors ----------------------------------------------------------------------------------

function showError(err: PageError, context = ''): void {
  ui.noErrors.hidden = true;
  const words = err.code ? wordsFor(err.code) : undefined;
  const li = h(
    'li',
    { 'data-testid': 'error', 'data-code': err.code ?? '' },
    h('code', { class: 'code' }, err.code ?? 'no code'),
    h('span', { class: 'words', 'data-testid': 'error-words' }, words ?? 'An error without an rtcgate code.'),
  );
  if (err.signalCode) {
    li.append(
      h(
        'span',
        { class: 'words', 'data-testid': 'error-signal' },
        h('code', { class: 'code' }, err.signalCode),
        ` ${wordsFor(err.signalCode) ?? ''}`,
      ),
    );
  }
  li.append(h('span', { class: 'detail', 'data-testid': 'error-detail' }, `${context}${err.detail}`));
  ui.errors.append(li);
  note('error', `${err.code ?? 'no code'}${err.signalCode ? ` (${err.signalCode})` : ''}: ${err.detail}`, {
    'data-code': err.code ?? '',
  });
}

ui.glossary.replaceChildren(
  ...ERROR_WORDS.map((w) =>
    h(
      'tr',
      { 'data-code': w.code },
      h('td', {}, h('code', {}, w.code)),
      h('td', {}, w.source),
      h('td', { 'data-col': 'words' }, w.words),
    ),
  ),
);

// ---- connection ------------------------------------------------------------------------------

function setConnected(connected: boolean): void {
  ui.connect.disabled = connected;
  ui.disconnect.disabled = !connected;
  ui.message.disabled = !connected;
  ui.send.disabled = !connected;
  ui.bridgeLabel.disabled = !connected;
  ui.bridgeOpen.disabled = !connected;
  if (!connected) bridge = undefined;
  setBridgeOpen(bridge !== undefined);
  if (!connected && statsTimer) {
    clearInterval(statsTimer);
    statsTimer = undefined;
  }
}

/** The page's RTT probe: pings on a channel of its own, so the echo channel's counts are the user's. */
function openProbe(c: GatewayConnection): void {
  const probe = c.pc.createDataChannel('echo');
  session.probe = probe;
  const own = session;
  probe.addEventListener('message', (e: MessageEvent) => {
    const n = Number(/^rtt (\d+)$/.exec(String(e.data))?.[1]);
    const sentAt = own.probeSent.get(n);
    if (sentAt === undefined) return;
    own.probeSent.delete(n);
    const rtt = performance.now() - sentAt;
    own.probeRtts.push(rtt);
    if (own === session) echoRttMs = rtt;
  });
}

function probePing(): void {
  const { probe } = session;
  if (probe?.readyState !== 'open') return;
  const n = session.probeNext++;
  session.probeSent.set(n, performance.now());
  // A ping that never comes back is forgotten after a few seconds.
  for (const old of session.probeSent.keys()) if (old < n - 5) session.probeSent.delete(old);
  probe.send(`rtt ${n}`);
}

/** Every channel of the connection: the library's (its control channel too), the probe, and any
 *  the browser reports that the page has no object for. */
function channelRows(c: GatewayConnection, s: ConnectionStats): ChannelRow[] {
  for (const d of s.dataChannels) session.counters.set(d.id, d);
  const unclaimed = [...session.counters.values()];
  const claim = (channel: RTCDataChannel) => {
    const same = unclaimed.filter((d) => d.label === channel.label && d.channelId === channel.id);
    const match = same.find((d) => d.state === channel.readyState) ?? same[same.length - 1] ?? null;
    if (match) unclaimed.splice(unclaimed.indexOf(match), 1);
    return match;
  };
  const rows: ChannelRow[] = [];
  for (const channel of c.allChannels) {
    const role = channel.label === CONTROL_LABEL ? 'control' : undefined;
    rows.push({ channel, stats: claim(channel), ...(role ? { role } : {}) });
  }
  if (session.probe) rows.push({ channel: session.probe, stats: claim(session.probe), role: 'probe' });
  // A closed one the page has no object for is one the library no longer lists (allChannels keeps
  // the latest closed ones only): not shown.
  for (const stats of unclaimed) if (stats.state !== 'closed') rows.push({ channel: null, stats });
  return rows;
}

function renderSummary(s: ConnectionStats): void {
  const p = s.selectedPair;
  // Chromium leaves its own (mDNS-hidden) host address out of the stats.
  const addr = (a: string) => a || '(address hidden by the browser)';
  ui.pair.textContent = p
    ? `local ${p.local.type}${p.local.relayProtocol ? ` (TURN over ${p.local.relayProtocol})` : ''} ${addr(p.local.address)}:${p.local.port}/${p.local.protocol} ⇄ remote ${p.remote.type} ${addr(p.remote.address)}:${p.remote.port}/${p.remote.protocol}`
    : 'none yet';
  const cipher = s.dtlsCipher ? `, cipher ${s.dtlsCipher}` : ', cipher not exposed by this browser';
  setState(
    ui.dtls,
    `${s.dtlsState ?? 'unknown'}${s.tlsVersion ? `, ${dtlsVersion(s.tlsVersion)}` : ''}${cipher}${s.dtlsRole ? `, role ${s.dtlsRole}` : ''}`,
  );
  const channel = conn?.channels.get('echo');
  setState(
    ui.sctp,
    `SCTP ${s.sctpState ?? 'unknown'}, max message ${s.maxMessageSize ?? '?'} B; channel "echo" ${channel?.readyState ?? 'none'}`,
  );
  const parts = [];
  if (s.iceRttMs !== null) parts.push(`ICE ${s.iceRttMs.toFixed(1)} ms`);
  if (echoRttMs !== undefined) parts.push(`echo ${echoRttMs.toFixed(1)} ms`);
  ui.rtt.textContent = parts.length ? parts.join(', ') : 'measuring…';
}

function chartPoint(s: ConnectionStats, at: number): void {
  const x = (at - started) / 1000;
  let rates: (number | null)[] = [null, null];
  if (s.bytesSent !== null && s.bytesReceived !== null) {
    const last = session.last;
    // A new selected pair starts its counters again: no rate across the change.
    if (last && s.bytesSent >= last.sent && s.bytesReceived >= last.received && at > last.at) {
      const seconds = (at - last.at) / 1000;
      rates = [(s.bytesReceived - last.received) / seconds, (s.bytesSent - last.sent) / seconds];
    }
    session.last = { at, sent: s.bytesSent, received: s.bytesReceived };
  }
  if (rates[0] !== null) charts.throughput.push(x, rates);
  const rtts = session.probeRtts.splice(0);
  const echoMs = rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : null;
  charts.rtt.push(x, [echoMs, s.iceRttMs]);
}

async function refreshStats(): Promise<void> {
  const c = conn;
  if (!c || c.closed) return;
  const report = await c.pc.getStats();
  const at = performance.now();
  if (c !== conn || c.closed) return;
  const s = summarizeStats(c.pc, report);
  renderSummary(s);
  renderSecurity(ui.security, s, c.pc);
  renderCandidates(ui.candidates, s);
  renderPairs(ui.pairs, s);
  renderChannels(ui.channels, channelRows(c, s));
  chartPoint(s, at);
  const end = (side: 'local' | 'remote') => s.candidates.find((x) => x.selected && x.side === side);
  const [local, remote] = [end('local'), end('remote')];
  const pairKey =
    local && remote ? `this browser ${candidateText(local)} ⇄ the gateway ${candidateText(remote)}` : '';
  if (pairKey && pairKey !== session.pairKey) {
    session.pairKey = pairKey;
    note('selectedPair', pairKey);
  }
  if (ui.raw.open) {
    const all: unknown[] = [];
    report.forEach((stat) => all.push(stat));
    ui.rawStats.textContent = JSON.stringify(all, null, 1);
  }
  probePing();
}

/** Back to "not connected": nothing of an earlier connection stays on screen. */
function resetView(): void {
  for (const el of [ui.iceGathering, ui.iceConnection, ui.connectionState, ui.pair, ui.dtls, ui.sctp, ui.rtt])
    setState(el, '—');
  for (const el of Object.values(ui.security)) el.textContent = '—';
  const empty = (body: HTMLElement, columns: number) =>
    body.replaceChildren(h('tr', {}, h('td', { colspan: String(columns), class: 'quiet' }, 'not connected')));
  empty(ui.candidates, 7);
  empty(ui.pairs, 8);
  empty(ui.channels, 12);
  ui.timeline.replaceChildren();
  ui.errors.replaceChildren();
  ui.noErrors.hidden = false;
  ui.rawStats.textContent = '';
}
resetView();

ui.connect.addEventListener('click', () => {
  const gen = ++generation;
  const current = () => gen === generation;
  setConnected(true);
  ui.disconnect.disabled = true;
  resetView();
  charts.throughput.clear();
  charts.rtt.clear();
  session = newSession();
  echoes = Promise.resolve();
  echoRttMs = undefined;
  started = performance.now();
  signalingText = '';
  setState(ui.signaling, 'connecting…');
  const seconds = Number(ui.timeout.value);
  void (async () => {
    let c: GatewayConnection | undefined;
    let adopted = false;
    try {
      c = await GatewayConnection.connect({
        room: ui.room.value || 'default',
        transport: ui.transport.value as SignalTransport,
        offerer: ui.offerer.value as Offerer,
        timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 20_000,
        onEvent: (event) => {
          if (current()) onEvent(event);
        },
      });
      const mine = c;
      conn = c;
      adopted = true;
      ui.disconnect.disabled = false;
      c.onClose(() => {
        if (!current()) return;
        if (conn === mine) conn = undefined;
        setConnected(false);
      });
      openProbe(c);
      const channel = await c.channel('echo');
      echoRttMs = (await queueEcho(() => echo(channel, 'ping'))).rttMs;
      // Closed, or disconnected by the user, while the first echo was on its way.
      if (c.closed || conn !== c || !current()) return;
      await refreshStats();
      statsTimer ??= setInterval(() => {
        if (statsBusy) return;
        statsBusy = true;
        void refreshStats().finally(() => (statsBusy = false));
      }, 1000);
      ui.message.focus();
    } catch (err) {
      // The user pressed Disconnect while the first echo was on its way (its channel closed):
      // Disconnect has ended the connection, and nothing failed.
      if (adopted && conn !== c) return;
      // Nothing of a failed start stays open: the connection is closed, the view freed.
      c?.close(`page error: ${err instanceof Error ? err.message : String(err)}`);
      if (conn === c) conn = undefined;
      if (!current()) return;
      setConnected(false);
      setState(ui.signaling, `error: ${err instanceof Error ? err.message : String(err)}`);
      showError(pageErrorOf(err), 'Connect: ');
    }
  })();
});

ui.disconnect.addEventListener('click', () => {
  // end(): what the channels still had queued is delivered before the bye.
  void conn?.end('disconnected by the user');
  conn = undefined;
  setConnected(false);
});

/** The connection's echoes (the first ping, then each typed message), one after another. */
let echoes: Promise<void> = Promise.resolve();

/** Runs `job` after the echoes queued before it: echo() takes the channel's next message as its reply. */
function queueEcho<T>(job: () => Promise<T>): Promise<T> {
  const run = echoes.then(job);
  echoes = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.message.value;
  if (!conn || text === '') return;
  ui.message.value = '';
  const c = conn;
  void queueEcho(async () => {
    // Queued before a Disconnect: the view now belongs to no connection, or to the next one.
    if (c !== conn || c.closed) return;
    try {
      const { reply, rttMs } = await echo(await c.channel('echo'), text);
      if (c !== conn) return;
      echoRttMs = rttMs;
      const shown = typeof reply === 'string' ? reply : `${reply.byteLength} bytes`;
      // The echo route returns what it got; anything else is a late reply to an earlier message.
      const late = reply === text ? '' : ` (a late reply: this message was "${text}")`;
      line(ui.echoes, `echo: ${shown} (${rttMs.toFixed(1)} ms)${late}`);
    } catch (err) {
      if (c !== conn) return;
      line(ui.echoes, `error: ${String(err)}`);
      showError(pageErrorOf(err), 'Echo: ');
    }
  });
});

function setBridgeOpen(open: boolean): void {
  ui.bridgeMessage.disabled = !open;
  ui.bridgeSend.disabled = !open;
}

// A channel to one of the gateway's routes (docs/bridges.md): what the backend sends is listed,
// and so is why the channel closed.
ui.bridgeOpenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const label = ui.bridgeLabel.value.trim();
  if (!conn || label === '') return;
  bridge?.close();
  void (async () => {
    try {
      const b = await conn.bridge(label);
      bridge = b;
      setBridgeOpen(true);
      line(ui.bridgeLog, `opened "${label}"`);
      for await (const m of b) {
        line(ui.bridgeLog, typeof m === 'string' ? m : `${m.byteLength} bytes`);
      }
      const end = await b.closed;
      line(ui.bridgeLog, `closed "${label}": ${end.code ?? 'by this page'} ${end.code ? end.message : ''}`);
      if (end.code) showError({ code: end.code, detail: end.message }, `Channel "${label}": `);
      if (bridge === b) {
        bridge = undefined;
        setBridgeOpen(false);
      }
    } catch (err) {
      line(ui.bridgeLog, `error: ${err instanceof Error ? err.message : String(err)}`);
      showError(pageErrorOf(err), `Channel "${label}": `);
    }
  })();
});

ui.bridgeSendForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.bridgeMessage.value;
  if (!bridge || text === '') return;
  ui.bridgeMessage.value = '';
  bridge.send(text).catch((err: unknown) => line(ui.bridgeLog, `error: ${String(err)}`));
});
