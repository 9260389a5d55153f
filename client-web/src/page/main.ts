/** The page: connect to the gateway and watch signaling, ICE, DTLS and the channel live. */
import * as rtcgate from '../lib/index.js';
import {
  GatewayConnection,
  echo,
  type BridgeChannel,
  type ConnectionEvent,
  type Offerer,
  type SignalTransport,
} from '../lib/index.js';

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
  connect: $<HTMLButtonElement>('connect'),
  disconnect: $<HTMLButtonElement>('disconnect'),
  signaling: $('signaling'),
  iceGathering: $('iceGathering'),
  iceConnection: $('iceConnection'),
  connectionState: $('connectionState'),
  pair: $('pair'),
  dtls: $('dtls'),
  sctp: $('sctp'),
  rtt: $('rtt'),
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
  timeline: $('timeline'),
};
let bridge: BridgeChannel | undefined;

let conn: GatewayConnection | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;
let echoRttMs: number | undefined;
let signalingText = '';
let started = performance.now();

function line(list: HTMLElement, text: string): void {
  const li = document.createElement('li');
  li.textContent = text;
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function setState(el: HTMLElement, text: string): void {
  el.textContent = text;
  el.classList.toggle('good', /^(connected|complete|open|joined)/.test(text));
  el.classList.toggle('bad', /^(failed|closed|disconnected|error)/.test(text));
}

function onEvent(event: ConnectionEvent): void {
  const t = ((performance.now() - started) / 1000).toFixed(3);
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
      line(ui.timeline, `${t}s signaling: ${event.detail}`);
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
    case 'channel':
      setState(ui.sctp, `channel "${event.label}" ${event.state}`);
      break;
    case 'signalingState':
    case 'candidate':
      break;
    case 'closed':
      setState(ui.connectionState, 'closed');
      line(ui.timeline, `${t}s closed: ${event.reason}`);
      setConnected(false);
      return;
  }
  const detail = 'state' in event ? event.state : `${event.side} ${event.candidate}`;
  line(ui.timeline, `${t}s ${event.kind}${'label' in event ? ` ${event.label}` : ''}: ${detail}`);
}

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

/** getStats reports the DTLS version as the record-layer code (RFC 6347 §4.1, RFC 9147). */
function dtlsVersion(code: string): string {
  return code === 'FEFD' ? 'DTLS 1.2' : code === 'FEFC' ? 'DTLS 1.3' : code;
}

async function refreshStats(): Promise<void> {
  if (!conn || conn.closed) return;
  const s = await conn.stats();
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
  const channel = conn.channels.get('echo');
  setState(
    ui.sctp,
    `SCTP ${s.sctpState ?? 'unknown'}, max message ${s.maxMessageSize ?? '?'} B; channel "echo" ${channel?.readyState ?? 'none'}`,
  );
  const parts = [];
  if (s.iceRttMs !== null) parts.push(`ICE ${s.iceRttMs.toFixed(1)} ms`);
  if (echoRttMs !== undefined) parts.push(`echo ${echoRttMs.toFixed(1)} ms`);
  ui.rtt.textContent = parts.length ? parts.join(', ') : 'measuring…';
}

ui.connect.addEventListener('click', () => {
  setConnected(true);
  ui.disconnect.disabled = true;
  ui.timeline.replaceChildren();
  started = performance.now();
  signalingText = '';
  setState(ui.signaling, 'connecting…');
  void (async () => {
    try {
      const c = await GatewayConnection.connect({
        room: ui.room.value || 'default',
        transport: ui.transport.value as SignalTransport,
        offerer: ui.offerer.value as Offerer,
        onEvent,
      });
      conn = c;
      ui.disconnect.disabled = false;
      c.onClose(() => setConnected(false));
      const channel = await c.channel('echo');
      echoRttMs = (await echo(channel, 'ping')).rttMs;
      if (c.closed) return; // closed while the first echo was on its way
      await refreshStats();
      statsTimer ??= setInterval(() => void refreshStats(), 1000);
      ui.message.focus();
    } catch (err) {
      setConnected(false);
      setState(ui.signaling, `error: ${err instanceof Error ? err.message : String(err)}`);
    }
  })();
});

ui.disconnect.addEventListener('click', () => {
  // end(): what the channels still had queued is delivered before the bye.
  void conn?.end('disconnected by the user');
  conn = undefined;
  setConnected(false);
});

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.message.value;
  if (!conn || text === '') return;
  ui.message.value = '';
  void conn
    .channel('echo')
    .then((channel) => echo(channel, text))
    .then(({ reply, rttMs }) => {
      echoRttMs = rttMs;
      line(
        ui.echoes,
        `echo: ${typeof reply === 'string' ? reply : `${reply.byteLength} bytes`} (${rttMs.toFixed(1)} ms)`,
      );
    })
    .catch((err: unknown) => line(ui.echoes, `error: ${String(err)}`));
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
      if (bridge === b) {
        bridge = undefined;
        setBridgeOpen(false);
      }
    } catch (err) {
      line(ui.bridgeLog, `error: ${err instanceof Error ? err.message : String(err)}`);
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
