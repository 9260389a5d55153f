/**
 * Bridges over a real loopback: the signaling server, the Gateway with routes, real WebSocket and
 * TCP backends in this process, and a node-datachannel peer in the browser's place that speaks
 * rtcgate.ctl.v1 the way the browser library does. Transfers are small here (two node-datachannel
 * peers stall on bulk transfers, ENVIRONMENT.md); the browsers carry the big ones (bridge.spec.ts).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import nodeDataChannel, { type DataChannel } from 'node-datachannel';
import { CONTROL_LABEL, UNLIMITED_CREDIT, type ControlMessage } from 'rtcgate-server';
import { WebSocketServer } from 'ws';
import { FakeBrowser, openOf, startStack, until, type Stack } from './pair.js';
import { CLOSE_LINGER_MS, INBOUND_LINGER_MS } from '../src/peerSession.js';
import { parseRoute } from '../src/routes.js';

const WINDOW = 64 * 1024;

interface Backends {
  wsPort: number;
  tcpSinkPort: number;
  /** Sends one whole length-prefixed frame and half of another, then closes. */
  tcpCutPort: number;
  /** Takes a connection, writes a byte every 50 ms and never ends its side of it (allowHalfOpen). */
  tcpHoldPort: number;
  /** Connections to tcpHold that have closed. */
  holdsClosed: number[];
  downPort: number;
  /** Label header of each WebSocket connection, in order. */
  labels: string[];
  /** Sec-WebSocket-Extensions of each WebSocket connection's request, in order. */
  extensionOffers: (string | undefined)[];
  /** What the TCP sink got, per connection. */
  tcpSinks: { bytes: Buffer[]; ended: boolean }[];
  /** WebSocket connections closed, with their close code. */
  wsClosed: number[];
  close(): Promise<void>;
}

function listen(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

async function startBackends(): Promise<Backends> {
  const labels: string[] = [];
  const extensionOffers: (string | undefined)[] = [];
  const wsClosed: number[] = [];
  const tcpSinks: Backends['tcpSinks'] = [];
  const httpServer = http.createServer();
  // Accepts permessage-deflate, as many backends do: the gateway must not offer it.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  httpServer.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    // /slow answers the handshake after 1.5 s: data the browser sends meanwhile waits in the gateway.
    const delay = url.pathname === '/slow' ? 1500 : 0;
    setTimeout(() => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)), delay);
  });
  wss.on('connection', (ws, req) => {
    labels.push(decodeURIComponent(String(req.headers['x-rtcgate-label'])));
    extensionOffers.push(req.headers['sec-websocket-extensions']);
    ws.on('close', (code) => wsClosed.push(code));
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/flood') {
      // On the browser's first message, 512 KiB at once: more than the gateway holds for a
      // browser without credit (256 KiB). Waiting for that message lets the test meter the
      // channel first, so the flood never races the browser's credit.
      ws.once('message', () => {
        for (let i = 0; i < 16; i++) ws.send(Buffer.alloc(32 * 1024, i));
      });
      return;
    }
    if (url.pathname === '/talker') {
      // 8 messages of 32 KiB as soon as it connects.
      for (let i = 0; i < 8; i++) ws.send(Buffer.alloc(32 * 1024, i));
      return;
    }
    ws.on('message', (data: Buffer, isBinary) =>
      ws.send(isBinary ? data : data.toString(), { binary: isBinary }),
    );
  });
  const wsPort = await listen(httpServer);
  const tcpSink = net.createServer((s) => {
    const state = { bytes: [] as Buffer[], ended: false };
    tcpSinks.push(state);
    s.on('data', (b) => state.bytes.push(b));
    s.on('end', () => {
      state.ended = true;
      s.end();
    });
  });
  const tcpSinkPort = await listen(tcpSink);
  const tcpCut = net.createServer((s) => {
    const whole = Buffer.from('whole');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(whole.length, 0);
    const cutHeader = Buffer.alloc(4);
    cutHeader.writeUInt32BE(10, 0);
    s.end(Buffer.concat([header, whole, cutHeader, Buffer.from('abc')]));
  });
  const tcpCutPort = await listen(tcpCut);
  const holdsClosed: number[] = [];
  const holds = new Set<net.Socket>();
  const tcpHold = net.createServer({ allowHalfOpen: true }, (s) => {
    holds.add(s);
    s.resume();
    // A byte every 50 ms, whatever happens: once the gateway has cut the connection, a write is
    // answered with a reset, and that is how this end learns of the cut.
    const ticker = setInterval(() => s.write('.'), 50);
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(ticker);
      holds.delete(s);
      holdsClosed.push(Date.now());
    });
  });
  const tcpHoldPort = await listen(tcpHold);
  const closed = net.createServer();
  const downPort = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return {
    wsPort,
    tcpSinkPort,
    tcpCutPort,
    tcpHoldPort,
    holdsClosed,
    downPort,
    labels,
    extensionOffers,
    tcpSinks,
    wsClosed,
    async close() {
      for (const c of wss.clients) c.terminate();
      for (const h of holds) h.destroy();
      await Promise.all(
        [httpServer, tcpSink, tcpCut, tcpHold].map((s) => new Promise<void>((r) => s.close(() => r()))),
      );
    },
  };
}

let backends: Backends;
let stack: Stack;

before(async () => {
  backends = await startBackends();
  const ws = `ws://127.0.0.1:${backends.wsPort}`;
  stack = await startStack('bridges', {
    routes: [
      parseRoute({ prefix: 'ws-echo', target: `${ws}/echo` }),
      parseRoute({ label: 'ws-talker', target: `${ws}/talker` }),
      parseRoute({ label: 'ws-flood', target: `${ws}/flood` }),
      parseRoute({ label: 'ws-slow', target: `${ws}/slow` }),
      parseRoute({ label: 'ws-down', target: `ws://127.0.0.1:${backends.downPort}/` }),
      parseRoute({ label: 'tcp-sink', target: `tcp://127.0.0.1:${backends.tcpSinkPort}` }),
      parseRoute({
        label: 'tcp-cut',
        target: `tcp://127.0.0.1:${backends.tcpCutPort}`,
        framing: 'length-prefixed',
      }),
      parseRoute({ label: 'upper', target: 'handler:upper' }),
      parseRoute({ label: 'missing-handler', target: 'handler:nobody' }),
    ],
    bridge: { window: WINDOW, unmeteredLimit: 64 * 1024, connectTimeoutMs: 3000 },
  });
  stack.gateway.handle('upper', (channel) => {
    channel.on('message', (m) => channel.send(typeof m === 'string' ? m.toUpperCase() : m));
  });
});

after(async () => {
  await stack.close();
  await backends.close();
  // node-datachannel's threads keep the process alive until cleanup().
  nodeDataChannel.cleanup();
});

/** A peer with its control channel open, collecting what the gateway says on it. */
async function peer(
  on: Stack = stack,
  room = 'bridges',
): Promise<{ fb: FakeBrowser; ctl: DataChannel; said: ControlMessage[] }> {
  const fb = await FakeBrowser.join(on, room);
  const ctl = await fb.offer(CONTROL_LABEL);
  const said: ControlMessage[] = [];
  ctl.onMessage((m) => said.push(JSON.parse(typeof m === 'string' ? m : 'null') as ControlMessage));
  return { fb, ctl, said };
}

function collect(dc: DataChannel): { messages: (string | Buffer)[]; closed: boolean } {
  const state = { messages: [] as (string | Buffer)[], closed: false };
  dc.onMessage((m) => state.messages.push(typeof m === 'string' ? m : Buffer.from(m as ArrayBuffer)));
  dc.onClosed(() => (state.closed = true));
  return state;
}

/** The latest reason for stream `id` (ids are reused once a channel has closed). */
function reasonOf(said: ControlMessage[], id: number): Extract<ControlMessage, { t: 'reason' }> | undefined {
  return said.findLast((m): m is Extract<ControlMessage, { t: 'reason' }> => m.t === 'reason' && m.id === id);
}

/** Opens `label` and waits until the gateway has closed it and given its reason. */
async function closedByGateway(label: string): Promise<{
  fb: FakeBrowser;
  got: ReturnType<typeof collect>;
  reason: Extract<ControlMessage, { t: 'reason' }>;
}> {
  const { fb, said } = await peer();
  const dc = fb.pc.createDataChannel(label);
  const id = dc.getId();
  const got = collect(dc);
  await until(() => got.closed, 5000, `${label} closed`);
  await until(() => reasonOf(said, id) !== undefined, 5000, `a reason for ${label}`);
  return { fb, got, reason: reasonOf(said, id)! };
}

/** rtcgate_gateway_bridge_pauses_total of a route and direction, as a scrape reads it. */
async function pauses(route: string, direction: 'to_browser' | 'from_browser'): Promise<number> {
  const metric = await stack.gateway.metrics.registry
    .getSingleMetric('rtcgate_gateway_bridge_pauses_total')
    ?.get();
  return metric?.values.find((v) => v.labels.route === route && v.labels.direction === direction)?.value ?? 0;
}

test('a ws route carries a channel to its backend and back; the backend learns the label', async () => {
  const { fb } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('ws-echo-1'));
  const got = collect(dc);
  dc.sendMessage('text stays text');
  dc.sendMessageBinary(Buffer.from([1, 2, 3]));
  await until(() => got.messages.length === 2, 5000, 'two echoes');
  assert.equal(got.messages[0], 'text stays text');
  assert.deepEqual(got.messages[1], Buffer.from([1, 2, 3]));
  assert.ok(backends.labels.includes('ws-echo-1'));
  await fb.close();
});

test('the gateway does not offer permessage-deflate to a WebSocket backend, even one that would accept it', async () => {
  const before = backends.labels.length;
  const { fb } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('ws-echo-plain'));
  const got = collect(dc);
  dc.sendMessage('a'.repeat(4096));
  await until(() => got.messages.length === 1, 5000, 'the echo');
  assert.equal(got.messages[0], 'a'.repeat(4096));
  const at = backends.labels.indexOf('ws-echo-plain', before);
  assert.ok(at >= 0, 'the backend saw the channel');
  assert.equal(backends.extensionOffers[at], undefined);
  await fb.close();
});

test('credit: the gateway grants a window once the backend is connected, and more as the backend takes data', async () => {
  const { fb, ctl, said } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('ws-echo-credit'));
  const id = dc.getId();
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 1024 * 1024 }));
  await until(() => said.some((m) => m.t === 'credit' && m.id === id), 5000, 'a first grant');
  assert.deepEqual(
    said.find((m) => m.t === 'credit'),
    { t: 'credit', id, upTo: WINDOW },
  );
  const got = collect(dc);
  for (let i = 0; i < 4; i++) dc.sendMessageBinary(Buffer.alloc(16 * 1024, i));
  await until(() => got.messages.length === 4, 5000, 'four echoes');
  // The backend took 64 KiB: the grant follows, to that plus a window.
  const grants = () =>
    said.filter((m) => m.t === 'credit' && m.id === id).map((m) => (m as { upTo: number }).upTo);
  await until(
    () => Math.max(...grants()) === 64 * 1024 + WINDOW,
    5000,
    `a grant of 128 KiB (${grants().join(', ')})`,
  );
  await fb.close();
});

test('in-process handlers, which the gateway does not meter, answer a credit with an unlimited grant', async () => {
  const { fb, ctl, said } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('upper'));
  ctl.sendMessage(JSON.stringify({ t: 'credit', id: dc.getId(), upTo: 1000 }));
  await until(() => said.some((m) => m.t === 'credit'), 5000, 'a grant');
  assert.deepEqual(
    said.find((m) => m.t === 'credit'),
    { t: 'credit', id: dc.getId(), upTo: UNLIMITED_CREDIT },
  );
  await fb.close();
});

test('the echo route is metered: a window over what it echoed, and no more echoed than the browser granted', async () => {
  const { fb, ctl, said } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('echo'));
  const id = dc.getId();
  const got = collect(dc);
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 4096 }));
  await until(() => said.some((m) => m.t === 'credit' && m.id === id), 5000, 'a grant');
  assert.deepEqual(
    said.find((m) => m.t === 'credit' && m.id === id),
    { t: 'credit', id, upTo: WINDOW },
  );
  for (let i = 0; i < 8; i++) dc.sendMessageBinary(Buffer.alloc(1024, i));
  await until(() => got.messages.length === 4, 5000, 'the first 4 KiB echoed');
  // The rest waits in the gateway for the browser's credit.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(got.messages.length, 4);
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 8192 }));
  await until(() => got.messages.length === 8, 5000, 'all 8 KiB echoed');
  assert.deepEqual(
    got.messages.map((m) => (m as Buffer)[0]),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  await fb.close();
});

test('a label with no route, and a route to an unregistered handler: closed, with NO_ROUTE on the control channel', async () => {
  const { fb, said } = await peer();
  for (const [label, why] of [
    ['no-such-route', /no route for the label "no-such-route"/],
    ['missing-handler', /handler "nobody" is not registered/],
  ] as const) {
    const dc = fb.pc.createDataChannel(label);
    const id = dc.getId();
    const got = collect(dc);
    await until(() => got.closed, 5000, `${label} closed`);
    await until(() => reasonOf(said, id) !== undefined, 5000, `a reason for ${label}`);
    assert.equal(reasonOf(said, id)?.code, 'NO_ROUTE');
    assert.match(reasonOf(said, id)?.message ?? '', why);
  }
  await fb.close();
});

test('an in-process handler route serves its channel', async () => {
  const { fb } = await peer();
  const dc = await openOf(fb.pc.createDataChannel('upper'));
  const got = collect(dc);
  dc.sendMessage('shout');
  await until(() => got.messages.length === 1, 5000, 'a reply');
  assert.equal(got.messages[0], 'SHOUT');
  await fb.close();
});

test('an unreachable backend: BACKEND_UNREACHABLE, then the channel closes', async () => {
  const { fb, reason } = await closedByGateway('ws-down');
  assert.equal(reason.code, 'BACKEND_UNREACHABLE');
  assert.match(reason.message, /ECONNREFUSED/);
  await fb.close();
});

test('a channel without credit that outruns its backend is closed with CREDIT_EXCEEDED', async () => {
  const { fb, said } = await peer();
  // The backend answers its handshake after 1.5 s; 128 KiB arrive meanwhile, over the 64 KiB limit.
  const dc = await openOf(fb.pc.createDataChannel('ws-slow'));
  const id = dc.getId();
  const got = collect(dc);
  for (let i = 0; i < 8; i++) dc.sendMessageBinary(Buffer.alloc(16 * 1024, i));
  await until(() => got.closed, 5000, 'closed');
  await until(() => reasonOf(said, id) !== undefined, 5000, 'a reason');
  assert.equal(reasonOf(said, id)?.code, 'CREDIT_EXCEEDED');
  await fb.close();
});

test('the browser sends and closes at once: the TCP backend gets every byte, then its end', async () => {
  const { fb } = await peer();
  const before = backends.tcpSinks.length;
  const dc = await openOf(fb.pc.createDataChannel('tcp-sink'));
  const sent: Buffer[] = [];
  // 48 KiB and a text: under this stack's 64 KiB limit for an unmetered channel, which the data
  // can reach while the backend is still connecting (the CREDIT_EXCEEDED test shows that limit).
  for (let i = 0; i < 6; i++) {
    const b = Buffer.alloc(8 * 1024, i);
    sent.push(b);
    dc.sendMessageBinary(b);
  }
  dc.sendMessage('and text, as UTF-8: é');
  dc.close();
  await until(() => backends.tcpSinks[before]?.ended === true, 10_000, 'the sink to end');
  assert.deepEqual(
    Buffer.concat(backends.tcpSinks[before]!.bytes),
    Buffer.concat([...sent, Buffer.from('and text, as UTF-8: é')]),
  );
  await fb.close();
});

test('gateway.close(): what the backend sent is delivered, then GATEWAY_SHUTDOWN, and the backend connection is closed', async () => {
  const own = await startStack('bridges-closing', {
    routes: [parseRoute({ label: 'ws-talker', target: `ws://127.0.0.1:${backends.wsPort}/talker` })],
  });
  const { fb, said } = await peer(own, 'bridges-closing');
  const closedBefore = backends.wsClosed.length;
  const dc = await openOf(fb.pc.createDataChannel('ws-talker'));
  const id = dc.getId();
  const got = collect(dc);
  await until(() => got.messages.length > 0, 5000, 'the first message');
  await own.close();
  await until(() => got.closed, 5000, 'closed');
  // All 8, the first included: the backend sends it in the same moment its handshake completes.
  assert.deepEqual(
    got.messages.map((m) => (m as Buffer)[0]),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  await until(() => reasonOf(said, id) !== undefined, 5000, 'a reason');
  assert.equal(reasonOf(said, id)?.code, 'GATEWAY_SHUTDOWN');
  await until(() => backends.wsClosed.length > closedBefore, 5000, 'the backend connection closed');
  assert.equal(backends.wsClosed.at(-1), 1000);
  await fb.close();
});

test('a length-prefixed backend that closes in the middle of a frame: the whole frames arrive, then BACKEND_ERROR naming the cut', async () => {
  const { fb, got, reason } = await closedByGateway('tcp-cut');
  assert.deepEqual(got.messages, [Buffer.from('whole')]);
  assert.equal(reason.code, 'BACKEND_ERROR');
  assert.match(reason.message, /middle of a frame \(3 of 10 bytes\)/);
  await fb.close();
});

test('gateway.close() with a backend that never ends its side: after the grace both ends are cut, and the browser is still told GATEWAY_SHUTDOWN', async () => {
  const own = await startStack('bridges-holding', {
    routes: [parseRoute({ label: 'tcp-hold', target: `tcp://127.0.0.1:${backends.tcpHoldPort}` })],
    shutdownGraceMs: 300,
  });
  const { fb, said } = await peer(own, 'bridges-holding');
  const closedBefore = backends.holdsClosed.length;
  const dc = await openOf(fb.pc.createDataChannel('tcp-hold'));
  const id = dc.getId();
  const got = collect(dc);
  await until(() => got.messages.length > 0, 5000, 'the first tick');
  const closing = Date.now();
  await own.close();
  await until(() => got.closed, 5000, 'closed');
  await until(() => reasonOf(said, id) !== undefined, 5000, 'a reason');
  assert.equal(reasonOf(said, id)?.code, 'GATEWAY_SHUTDOWN');
  assert.equal(said.filter((m) => m.t === 'reason' && m.id === id).length, 1, 'one reason, not two');
  await until(() => backends.holdsClosed.length > closedBefore, 5000, 'the backend connection cut');
  assert.ok(backends.holdsClosed.at(-1)! - closing >= 250, 'cut after the grace, not before');
  await fb.close();
});

test('the browser closes a channel whose backend the gateway paused (no credit): the backend connection still closes at once', async () => {
  const { fb, ctl, said } = await peer();
  const closedBefore = backends.wsClosed.length;
  const dc = await openOf(fb.pc.createDataChannel('ws-flood'));
  const id = dc.getId();
  const got = collect(dc);
  // Metered with a credit of one byte: one message goes out, the rest waits and the backend is paused.
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 1 }));
  await until(() => said.some((m) => m.t === 'credit' && m.id === id), 5000, 'a grant');
  // The grant says the gateway has metered the channel: only now is the backend asked to flood.
  dc.sendMessage('go');
  await until(
    () => stack.gateway.bridgeInfo().some((b) => b.label === 'ws-flood' && b.toBrowser.backendPaused),
    5000,
    `the backend paused (${JSON.stringify(stack.gateway.bridgeInfo())})`,
  );
  // The one message the credit allows may still be on its way when the pause is seen.
  await until(() => got.messages.length > 0, 5000, 'the one message the credit allows');
  assert.equal(got.messages.length, 1);
  assert.equal(stack.gateway.bridgeInfo().find((b) => b.label === 'ws-flood')?.toBrowser.sent, 32 * 1024);
  assert.equal(await pauses('ws-flood', 'to_browser'), 1, 'the pause is counted');
  dc.close();
  // A paused socket never reads the backend's answer to the close: ws would wait 30 s for it.
  await until(() => backends.wsClosed.length > closedBefore, 3000, 'the backend connection closed');
  assert.equal(backends.wsClosed.at(-1), 1000);
  await fb.close();
});

test('the browser announces its close on the control channel: once that many bytes came, the backend gets its end and the gateway closes the channel, without a stream reset', async () => {
  const { fb, ctl } = await peer();
  const before = backends.tcpSinks.length;
  const dc = await openOf(fb.pc.createDataChannel('tcp-sink'));
  const id = dc.getId();
  const got = collect(dc);
  const sent = [Buffer.alloc(8 * 1024, 1), Buffer.alloc(8 * 1024, 2), Buffer.from('last')];
  const total = sent.reduce((n, b) => n + b.length, 0);
  // Before this channel's first credit, a close is an earlier channel's (a reused stream id), and
  // so is one naming another label: both ignored.
  ctl.sendMessage(JSON.stringify({ t: 'close', id, label: 'tcp-sink', sent: 0 }));
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 1024 * 1024 }));
  ctl.sendMessage(JSON.stringify({ t: 'close', id, label: 'not-this-one', sent: 0 }));
  // Announced before the data (it travels on another stream and may overtake it anyway).
  ctl.sendMessage(JSON.stringify({ t: 'close', id, label: 'tcp-sink', sent: total }));
  await until(() => backends.tcpSinks.length > before, 5000, 'the backend connected');
  assert.equal(backends.tcpSinks[before]!.ended, false, 'no end before the bytes came');
  for (const b of sent) dc.sendMessageBinary(b);
  await until(() => backends.tcpSinks[before]?.ended === true, 5000, 'the sink to end');
  assert.deepEqual(Buffer.concat(backends.tcpSinks[before]!.bytes), Buffer.concat(sent));
  // The gateway reset its side: the peer sees the channel close though it never closed it.
  await until(() => got.closed, 5000, 'the channel closed by the gateway');
  await fb.close();
});

/**
 * A tcp-sink channel the way the browser library opens one: credited, and its close announced
 * (rtcgate.ctl `close`) with `announced` bytes in all. Then `first` is sent and taken by the sink.
 */
async function announcedSink(announced: number, first: Buffer) {
  const { fb, ctl } = await peer();
  const before = backends.tcpSinks.length;
  const dc = await openOf(fb.pc.createDataChannel('tcp-sink'));
  const id = dc.getId();
  ctl.sendMessage(JSON.stringify({ t: 'credit', id, upTo: 1024 * 1024 }));
  ctl.sendMessage(JSON.stringify({ t: 'close', id, label: 'tcp-sink', sent: announced }));
  dc.sendMessageBinary(first);
  const sinkBytes = () => Buffer.concat(backends.tcpSinks[before]?.bytes ?? []);
  const sinkEnded = () => backends.tcpSinks[before]?.ended === true;
  await until(() => sinkBytes().length === first.length, 5000, 'the first part');
  const bye = () => fb.signal.send({ type: 'bye', to: fb.gatewayId, reason: 'leaving' });
  return { fb, dc, sinkBytes, sinkEnded, bye };
}

test('the browser says bye while bytes it announced are still on the way: the session ends, and the backend still gets them all, then its end', async () => {
  const first = Buffer.alloc(8 * 1024, 1);
  const rest = Buffer.alloc(8 * 1024, 2);
  const { fb, dc, sinkBytes, sinkEnded, bye } = await announcedSink(first.length + rest.length, first);
  // The bye overtakes the rest, as it can in a browser: the close event there follows the SCTP
  // stream reset, and the gateway's JavaScript may not have read the last messages yet.
  bye();
  await until(() => !stack.gateway.sessions.has(fb.peerId), 5000, 'the session to end');
  dc.sendMessageBinary(rest);
  await until(sinkEnded, 5000, 'the sink to end');
  assert.deepEqual(sinkBytes(), Buffer.concat([first, rest]));
  await fb.close();
});

test('the browser says bye having announced bytes it never sends: the wait for them is bounded, then the backend gets its end and the session is released', async () => {
  const first = Buffer.alloc(8 * 1024, 1);
  const { fb, sinkBytes, sinkEnded, bye } = await announcedSink(2 * first.length, first);
  const session = stack.gateway.sessions.get(fb.peerId)!;
  let released = false;
  void session.released.then(() => (released = true));
  const byeAt = Date.now();
  bye();
  await until(sinkEnded, INBOUND_LINGER_MS + 3000, 'the sink to end');
  const waited = Date.now() - byeAt;
  assert.ok(waited >= INBOUND_LINGER_MS - 100, `the gateway waited for the announced bytes (${waited} ms)`);
  await until(() => released, CLOSE_LINGER_MS + 2000, 'the session released');
  assert.deepEqual(sinkBytes(), first);
  await fb.close();
});
