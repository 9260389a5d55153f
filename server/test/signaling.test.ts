/**
 * Loopback conformance suite for rtcgate.signal.v1: a real server on an ephemeral port, real
 * clients, and one table of cases run unchanged over the ws subprotocol and over Socket.IO
 * (docs/protocol.md). Cases that only make sense on one transport (handshake refusal, heartbeat,
 * the 1 MiB hard limit) follow the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import {
  MAX_FRAME_BYTES,
  PROTOCOL,
  PROTOCOLS,
  PROTOCOL_VERSION,
  SIGNAL_ERROR_TEXT,
  type IceServer,
  type RelayedClientMessage,
  type ServerMessage,
  type SignalErrorCode,
} from '../src/protocol/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { ServerConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import {
  IoTestClient,
  WsTestClient,
  connectClient,
  httpUrlOf,
  wsUrlOf,
  type TestClient,
  type TestTransport,
  refusedHandshake,
  describeCasesOverTransports,
  NOBODY,
  PEER_ID,
  SDP,
  startQuietServer,
} from './signalTestClient.js';

const HEARTBEAT_MS = 200;
const ICE_SERVERS: IceServer[] = [
  { urls: 'stun:127.0.0.1:3478' },
  { urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'u', credential: 'c' },
];

function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startQuietServer({ heartbeatMs: HEARTBEAT_MS, iceServers: ICE_SERVERS, ...overrides });
}

// ---- the shared case table ----------------------------------------------------------------------

interface CaseContext {
  readonly transport: TestTransport;
  readonly server: RunningServer;
  /** A room no other case uses. */
  room(): string;
  /** Connects over this run's transport; closed when the test ends. */
  open(name: string, server?: RunningServer): Promise<TestClient>;
  /** Connects and joins `room`. */
  joined(
    name: string,
    room: string,
    role?: 'browser' | 'gateway',
    server?: RunningServer,
  ): Promise<TestClient>;
  /** Two joined peers, A (gateway) and B (browser), with A's peer-joined for B already read. */
  pair(room?: string): Promise<[TestClient, TestClient]>;
  /** A server of its own for this case, closed when the test ends. */
  startServer(overrides: Partial<ServerConfig>): Promise<RunningServer>;
}

interface Case {
  readonly name: string;
  run(ctx: CaseContext): Promise<void>;
}

let roomCounter = 0;

function contextFor(t: TestContext, transport: TestTransport, server: RunningServer): CaseContext {
  const clients: TestClient[] = [];
  const servers: RunningServer[] = [];
  // Clients first, then servers, so that every close handshake can complete.
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
  });
  const ctx: CaseContext = {
    transport,
    server,
    room: () => `${transport}-case-${++roomCounter}`,
    async open(name, on = server) {
      const client = await connectClient(on, transport, name);
      clients.push(client);
      return client;
    },
    async joined(name, room, role = 'browser', on = server) {
      const client = await ctx.open(name, on);
      await client.join(room, role);
      return client;
    },
    async pair(room = ctx.room()) {
      const a = await ctx.joined('A', room, 'gateway');
      const b = await ctx.joined('B', room, 'browser');
      const seen = await a.expect('peer-joined');
      assert.deepEqual(seen, { type: 'peer-joined', peerId: b.peerId, role: 'browser' });
      return [a, b];
    },
    async startServer(overrides) {
      const s = await startTestServer(overrides);
      servers.push(s);
      return s;
    },
  };
  return ctx;
}

/** What the receiver must get for a relayed message: the same fields, "to" replaced by "from". */
function relayed(message: RelayedClientMessage, from: string): ServerMessage {
  const { to: _to, ...rest } = message;
  return { ...rest, from };
}

const RELAYS: readonly { name: string; build(to: string): RelayedClientMessage }[] = [
  { name: 'offer', build: (to) => ({ type: 'offer', to, sdp: SDP }) },
  { name: 'answer', build: (to) => ({ type: 'answer', to, sdp: SDP }) },
  {
    name: 'candidate',
    build: (to) => ({
      type: 'candidate',
      to,
      candidate: {
        candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'abcd',
      },
    }),
  },
  { name: 'candidate null (end-of-candidates)', build: (to) => ({ type: 'candidate', to, candidate: null }) },
  {
    name: 'offer-request with channels',
    build: (to) => ({
      type: 'offer-request',
      to,
      channels: [{ label: 'echo' }, { label: 'chat', protocol: 'json', ordered: false, maxRetransmits: 0 }],
    }),
  },
  { name: 'offer-request without channels', build: (to) => ({ type: 'offer-request', to }) },
  { name: 'bye with a reason', build: (to) => ({ type: 'bye', to, reason: 'done' }) },
  { name: 'bye without a reason', build: (to) => ({ type: 'bye', to }) },
];

/** A frame of exactly `bytes` bytes of UTF-8: an offer whose sdp is padded with two-byte "é". */
function offerOfBytes(to: string, bytes: number): string {
  const empty = Buffer.byteLength(JSON.stringify({ type: 'offer', to, sdp: '' }));
  const pad = bytes - empty;
  const frame = JSON.stringify({
    type: 'offer',
    to,
    sdp: 'é'.repeat(Math.floor(pad / 2)) + 'x'.repeat(pad % 2),
  });
  assert.equal(Buffer.byteLength(frame), bytes);
  return frame;
}

interface BadFrame {
  readonly name: string;
  readonly code: SignalErrorCode;
  /** The "ref" the error must carry (absent when the type could not be read). */
  readonly ref?: string;
  frame(to: string): string | Buffer;
}

const BAD_FRAMES: readonly BadFrame[] = [
  { name: 'malformed JSON', code: 'BAD_JSON', frame: () => '{"type":"offer",' },
  {
    name: 'a binary frame (holding a valid offer)',
    code: 'UNSUPPORTED_FRAME',
    frame: (to) => Buffer.from(JSON.stringify({ type: 'offer', to, sdp: SDP })),
  },
  {
    name: 'a 70 KiB frame',
    code: 'FRAME_TOO_LARGE',
    frame: (to) => JSON.stringify({ type: 'offer', to, sdp: 'x'.repeat(70 * 1024) }),
  },
  {
    name: 'a frame of 65537 bytes of multi-byte UTF-8',
    code: 'FRAME_TOO_LARGE',
    frame: (to) => offerOfBytes(to, MAX_FRAME_BYTES + 1),
  },
  {
    name: 'an unknown type',
    code: 'UNKNOWN_TYPE',
    ref: 'hello',
    frame: (to) => JSON.stringify({ type: 'hello', to }),
  },
  { name: 'no type', code: 'UNKNOWN_TYPE', frame: (to) => JSON.stringify({ to, sdp: SDP }) },
  {
    name: 'a JSON array',
    code: 'UNKNOWN_TYPE',
    frame: (to) => JSON.stringify([{ type: 'offer', to, sdp: SDP }]),
  },
  { name: 'a JSON number', code: 'UNKNOWN_TYPE', frame: () => '42' },
  {
    name: 'a wrongly typed field',
    code: 'INVALID_MESSAGE',
    ref: 'offer',
    frame: (to) => JSON.stringify({ type: 'offer', to, sdp: 42 }),
  },
  {
    name: 'a missing field',
    code: 'INVALID_MESSAGE',
    ref: 'answer',
    frame: (to) => JSON.stringify({ type: 'answer', to }),
  },
  {
    name: 'a malformed peer id',
    code: 'INVALID_MESSAGE',
    ref: 'offer',
    frame: () => JSON.stringify({ type: 'offer', to: 'bob', sdp: SDP }),
  },
  {
    name: 'a forged "from"',
    code: 'INVALID_MESSAGE',
    ref: 'offer',
    frame: (to) => JSON.stringify({ type: 'offer', to, sdp: SDP, from: 'p_impostor0000' }),
  },
];

const CASES: Case[] = [
  {
    name: 'join replies joined with protocol, room, a server-made peerId, role, no peers and the ICE servers',
    async run(ctx) {
      const room = ctx.room();
      const a = await ctx.open('A');
      const joined = await a.join(room, 'gateway');
      assert.equal(joined.protocol, PROTOCOL);
      assert.equal(joined.room, room);
      assert.equal(joined.role, 'gateway');
      assert.match(joined.peerId, PEER_ID);
      assert.deepEqual(joined.peers, []);
      assert.deepEqual(joined.iceServers, ICE_SERVERS);
      await a.expectQuiet();
    },
  },
  {
    name: 'a second join lists the first peer in peers, and the first gets peer-joined',
    async run(ctx) {
      const room = ctx.room();
      const a = await ctx.joined('A', room, 'gateway');
      const b = await ctx.open('B');
      const joined = await b.join(room, 'browser');
      assert.deepEqual(joined.peers, [{ peerId: a.peerId, role: 'gateway' }]);
      assert.notEqual(b.peerId, a.peerId);
      assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: b.peerId, role: 'browser' });
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
    },
  },
  ...RELAYS.map((relay): Case => ({
    name: `${relay.name} is relayed with "from" set by the server and no "to"`,
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const message = relay.build(b.peerId);
      a.send(message);
      assert.deepEqual(await b.next(), relayed(message, a.peerId));
      // And the other way round.
      const back = relay.build(a.peerId);
      b.send(back);
      assert.deepEqual(await a.next(), relayed(back, b.peerId));
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
    },
  })),
  {
    name: 'a frame of exactly 65536 bytes of multi-byte UTF-8 is relayed',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const frame = offerOfBytes(b.peerId, MAX_FRAME_BYTES);
      a.sendRaw(frame);
      const got = await b.expect('offer');
      assert.equal(got.sdp, (JSON.parse(frame) as { sdp: string }).sdp);
      await a.expectQuiet();
    },
  },
  {
    name: 'relay to a peer in another room gets UNKNOWN_PEER and reaches nobody',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const c = await ctx.joined('C', ctx.room(), 'browser');
      a.send({ type: 'offer', to: c.peerId, sdp: SDP });
      const error = await a.expectError('UNKNOWN_PEER');
      assert.equal(error.ref, 'offer');
      assert.ok(error.message.includes(c.peerId), error.message);
      await Promise.all([a.expectQuiet(), b.expectQuiet(), c.expectQuiet()]);
    },
  },
  {
    name: 'relay to yourself gets UNKNOWN_PEER and reaches nobody',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      a.send({ type: 'candidate', to: a.peerId, candidate: null });
      assert.equal((await a.expectError('UNKNOWN_PEER')).ref, 'candidate');
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
    },
  },
  {
    name: 'relay to an id no server handed out gets UNKNOWN_PEER and reaches nobody',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      a.send({ type: 'bye', to: NOBODY });
      assert.equal((await a.expectError('UNKNOWN_PEER')).ref, 'bye');
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
    },
  },
  {
    name: 'every relayed type before join gets NOT_JOINED, and join still works afterwards',
    async run(ctx) {
      const room = ctx.room();
      const a = await ctx.joined('A', room, 'gateway');
      const b = await ctx.open('B');
      for (const relay of RELAYS) {
        const message = relay.build(a.peerId);
        b.send(message);
        const error = await b.expectError('NOT_JOINED');
        assert.equal(error.ref, message.type);
        assert.equal(error.message, SIGNAL_ERROR_TEXT.NOT_JOINED);
      }
      await a.expectQuiet();
      await b.join(room, 'browser');
      assert.equal((await a.expect('peer-joined')).peerId, b.peerId);
    },
  },
  {
    name: 'a second join gets ALREADY_JOINED and the peer stays in its first room',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const elsewhere = ctx.room();
      const c = await ctx.joined('C', elsewhere);
      b.send({ type: 'join', room: elsewhere, role: 'browser' });
      assert.equal((await b.expectError('ALREADY_JOINED')).ref, 'join');
      await c.expectQuiet(); // no peer-joined in the other room
      a.send({ type: 'offer', to: b.peerId, sdp: SDP });
      assert.deepEqual(await b.next(), { type: 'offer', from: a.peerId, sdp: SDP });
    },
  },
  ...BAD_FRAMES.map((bad): Case => ({
    name: `${bad.name} gets ${bad.code}, reaches nobody, and the connection still relays`,
    async run(ctx) {
      const [a, b] = await ctx.pair();
      a.sendRaw(bad.frame(b.peerId));
      const error = await a.expectError(bad.code);
      assert.ok(error.message.startsWith(SIGNAL_ERROR_TEXT[bad.code]), error.message);
      assert.equal(error.ref, bad.ref);
      // The server handles one connection's frames in order, so had the bad frame been relayed
      // it would reach B before this one.
      a.send({ type: 'offer', to: b.peerId, sdp: 'after' });
      assert.deepEqual(await b.next(), { type: 'offer', from: a.peerId, sdp: 'after' });
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
    },
  })),
  {
    name: 'a bad frame before join gets its own code, not NOT_JOINED',
    async run(ctx) {
      const a = await ctx.open('A');
      a.sendRaw('not json');
      await a.expectError('BAD_JSON');
      a.sendRaw(JSON.stringify({ type: 'join', room: 'no spaces allowed', role: 'browser' }));
      assert.equal((await a.expectError('INVALID_MESSAGE')).ref, 'join');
      a.sendRaw(JSON.stringify({ type: 'join', room: ctx.room(), role: 'admin' }));
      assert.equal((await a.expectError('INVALID_MESSAGE')).ref, 'join');
      await a.join(ctx.room());
    },
  },
  {
    name: 'closing a client announces peer-left with reason "left" to the others in its room',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const c = await ctx.joined('C', ctx.room());
      const bId = b.peerId;
      await b.close();
      assert.deepEqual(await a.next(), { type: 'peer-left', peerId: bId, reason: 'left' });
      await c.expectQuiet();
      // The id is gone: relaying to it is now UNKNOWN_PEER.
      a.send({ type: 'offer', to: bId, sdp: SDP });
      await a.expectError('UNKNOWN_PEER');
    },
  },
  {
    name: 'join of a full room gets ROOM_FULL; the refused client can still join elsewhere',
    async run(ctx) {
      const small = await ctx.startServer({ maxPeersPerRoom: 2 });
      const room = ctx.room();
      const a = await ctx.joined('A', room, 'gateway', small);
      const b = await ctx.joined('B', room, 'browser', small);
      await a.expect('peer-joined');
      const c = await ctx.open('C', small);
      c.send({ type: 'join', room, role: 'browser' });
      const error = await c.expectError('ROOM_FULL');
      assert.equal(error.ref, 'join');
      await Promise.all([a.expectQuiet(), b.expectQuiet()]);
      await c.join(ctx.room());
      // A place frees up when a peer leaves.
      await b.close();
      await a.expect('peer-left');
      const d = await ctx.joined('D', room, 'browser', small);
      assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: d.peerId, role: 'browser' });
    },
  },
];

describeCasesOverTransports(
  (transport) => `rtcgate.signal.v1 over ${transport}`,
  CASES,
  () => startTestServer(),
  contextFor,
);

// ---- across transports and transport-specific cases ----------------------------------------------

describe('rtcgate.signal.v1 across transports and per transport', () => {
  let server: RunningServer | undefined;
  const opened: TestClient[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await server?.close();
  });
  const running = (): RunningServer => {
    assert.ok(server, 'server started');
    return server;
  };
  const track = <T extends TestClient>(client: T): T => {
    opened.push(client);
    return client;
  };
  let rooms = 0;
  const room = () => `mixed-${++rooms}`;

  test('a ws client and a Socket.IO client in the same room reach each other', async () => {
    const r = room();
    const a = track(await WsTestClient.connect(wsUrlOf(running()), 'A'));
    const b = track(await IoTestClient.connect(httpUrlOf(running()), 'B'));
    await a.join(r, 'gateway');
    const joined = await b.join(r, 'browser');
    assert.deepEqual(joined.peers, [{ peerId: a.peerId, role: 'gateway' }]);
    assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: b.peerId, role: 'browser' });
    for (const relay of RELAYS) {
      const there = relay.build(b.peerId);
      a.send(there);
      assert.deepEqual(await b.next(), relayed(there, a.peerId));
      const back = relay.build(a.peerId);
      b.send(back);
      assert.deepEqual(await a.next(), relayed(back, b.peerId));
    }
    const bId = b.peerId;
    await b.close();
    assert.deepEqual(await a.next(), { type: 'peer-left', peerId: bId, reason: 'left' });
  });

  test('ws: a handshake without the subprotocol is refused with HTTP 400 and X-Rtcgate-Error', async () => {
    for (const protocols of [[], ['chat.v2'], ['rtcgate.signal.v0']]) {
      const refusal = await refusedHandshake(wsUrlOf(running()), protocols);
      assert.equal(refusal.status, 400, `offering ${JSON.stringify(protocols)}`);
      assert.equal(refusal.error, 'SUBPROTOCOL_REQUIRED');
      assert.ok(refusal.body.includes(PROTOCOL), refusal.body);
    }
  });

  test('ws: a handshake at another path is refused with HTTP 404', async () => {
    const refusal = await refusedHandshake(`ws://127.0.0.1:${running().port}/other`, [PROTOCOL]);
    assert.equal(refusal.status, 404);
    assert.equal(refusal.error, 'NOT_FOUND');
  });

  test('ws: the server selects rtcgate.signal.v1 among several offered subprotocols', async () => {
    const ws = new WebSocket(wsUrlOf(running()), ['chat.v2', PROTOCOL]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, PROTOCOL);
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
  });

  test('socket.io: a connection without auth.protocol gets connect_error SUBPROTOCOL_REQUIRED', async () => {
    for (const auth of [undefined, { protocol: 'rtcgate.signal.v0' }]) {
      const socket = io(new URL('/signal', httpUrlOf(running())).href, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        ...(auth ? { auth } : {}),
      });
      try {
        const err = await new Promise<Error & { data?: unknown }>((resolve, reject) => {
          socket.once('connect', () => reject(new Error('connected without the protocol')));
          socket.once('connect_error', resolve);
        });
        assert.ok(err.message.startsWith('SUBPROTOCOL_REQUIRED'), err.message);
        assert.deepEqual(err.data, {
          code: 'SUBPROTOCOL_REQUIRED',
          protocol: PROTOCOL,
          protocols: PROTOCOLS,
        });
      } finally {
        socket.close();
      }
    }
  });

  test('socket.io: an event other than "signal", extra arguments, an ack callback or an object get UNSUPPORTED_FRAME', async () => {
    const [a, b] = await ioPair(running(), room(), track);
    a.socket.emit('offer', JSON.stringify({ type: 'offer', to: b.peerId, sdp: SDP }));
    await a.expectError('UNSUPPORTED_FRAME');
    a.socket.emit('signal', JSON.stringify({ type: 'offer', to: b.peerId, sdp: SDP }), 'extra');
    await a.expectError('UNSUPPORTED_FRAME');
    a.socket.emit('signal', { type: 'offer', to: b.peerId, sdp: SDP });
    await a.expectError('UNSUPPORTED_FRAME');
    // An acknowledgement callback arrives at the server as a second argument.
    a.socket.emit('signal', JSON.stringify({ type: 'offer', to: b.peerId, sdp: SDP }), () => undefined);
    await a.expectError('UNSUPPORTED_FRAME');
    a.send({ type: 'offer', to: b.peerId, sdp: 'after' });
    assert.deepEqual(await b.next(), { type: 'offer', from: a.peerId, sdp: 'after' });
  });

  test('socket.io: a frame of lone surrogates over 65536 bytes once encoded gets FRAME_TOO_LARGE', async () => {
    // Socket.IO parses its packet as JSON, so the server gets raw lone surrogates; each lone
    // "\uD800" before "\u4E00" encodes to 3 + 3 bytes, and the limit counts encoded bytes.
    const [a, b] = await ioPair(running(), room(), track);
    const head = `{"type":"offer","to":"${b.peerId}","sdp":"`;
    const tail = '"}';
    const pairs = Math.floor((MAX_FRAME_BYTES - Buffer.byteLength(head + tail)) / 4);
    const frame = head + '\uD800\u4E00'.repeat(pairs) + tail;
    assert.ok(Buffer.byteLength(frame) > MAX_FRAME_BYTES);
    a.sendRaw(frame);
    await a.expectError('FRAME_TOO_LARGE');
    await b.expectQuiet();
  });

  test('ws: a client that stops answering pings is terminated and announced as peer-left', async () => {
    const r = room();
    const a = track(await WsTestClient.connect(wsUrlOf(running()), 'A'));
    await a.join(r, 'gateway');
    const dead = track(await WsTestClient.connect(wsUrlOf(running()), 'dead', { autoPong: false }));
    await dead.join(r, 'browser');
    await a.expect('peer-joined');
    const started = Date.now();
    // One heartbeat sends the ping, the next finds no pong and terminates; allow a few more.
    const left = await a.expect('peer-left', 6 * HEARTBEAT_MS);
    assert.deepEqual(left, { type: 'peer-left', peerId: dead.peerId, reason: 'connection lost' });
    assert.ok(Date.now() - started <= 6 * HEARTBEAT_MS);
    const ended = await dead.expectEnded();
    assert.equal(ended.code, 1006, 'terminated without a close frame');
    // The healthy client, answering pings all along, is still served.
    await a.expectQuiet(3 * HEARTBEAT_MS);
    a.send({ type: 'bye', to: NOBODY });
    await a.expectError('UNKNOWN_PEER');
  });

  test('socket.io: a client that stops answering pings is dropped and announced as peer-left', async () => {
    const r = room();
    const a = track(await WsTestClient.connect(wsUrlOf(running()), 'A'));
    await a.join(r, 'gateway');
    const dead = track(await IoTestClient.connect(httpUrlOf(running()), 'dead'));
    await dead.join(r, 'browser');
    await a.expect('peer-joined');
    dead.stopAnsweringPings();
    // Socket.IO pings every HEARTBEAT_MS and waits HEARTBEAT_MS for the pong.
    const left = await a.expect('peer-left', 10 * HEARTBEAT_MS);
    assert.deepEqual(left, { type: 'peer-left', peerId: dead.peerId, reason: 'connection lost' });
    await a.expectQuiet(3 * HEARTBEAT_MS);
  });

  test('the server log says what the transport reported when it announces a lost peer', async () => {
    const lines: { message: string; context?: Record<string, unknown> }[] = [];
    const recording = (): Logger => ({
      debug: () => {},
      info: (message, context) => lines.push({ message, context }),
      warn: () => {},
      error: () => {},
      child: () => recording(),
      bind: () => recording(),
    });
    const own = await startServer(
      { port: 0, host: '127.0.0.1', heartbeatMs: HEARTBEAT_MS, staticDir: undefined },
      recording(),
    );
    try {
      const r = room();
      const a = track(await WsTestClient.connect(wsUrlOf(own), 'A'));
      await a.join(r, 'gateway');
      const deadWs = track(await WsTestClient.connect(wsUrlOf(own), 'dead ws', { autoPong: false }));
      await deadWs.join(r, 'browser');
      await a.expect('peer-joined');
      await a.expect('peer-left', 6 * HEARTBEAT_MS);
      const deadIo = track(await IoTestClient.connect(httpUrlOf(own), 'dead io'));
      await deadIo.join(r, 'browser');
      await a.expect('peer-joined');
      deadIo.stopAnsweringPings();
      await a.expect('peer-left', 10 * HEARTBEAT_MS);
      const left = lines.filter((l) => l.message === 'peer left').map((l) => l.context);
      assert.deepEqual(left, [
        { room: r, peerId: deadWs.peerId, reason: 'connection lost', detail: 'missed heartbeat' },
        { room: r, peerId: deadIo.peerId, reason: 'connection lost', detail: 'ping timeout' },
      ]);
    } finally {
      await Promise.all(opened.map((c) => c.close()));
      await own.close();
    }
  });

  test('ws: a frame over 1 MiB closes that connection with 1009; the server serves the others', async () => {
    const r = room();
    const a = track(await WsTestClient.connect(wsUrlOf(running()), 'A'));
    await a.join(r, 'gateway');
    const big = track(await WsTestClient.connect(wsUrlOf(running()), 'big'));
    await big.join(r, 'browser');
    await a.expect('peer-joined');
    big.sendRaw(JSON.stringify({ type: 'offer', to: a.peerId, sdp: 'x'.repeat(1024 * 1024) }));
    const ended = await big.expectEnded();
    assert.equal(ended.code, 1009);
    const left = await a.expect('peer-left');
    assert.equal(left.peerId, big.peerId);
    const c = track(await WsTestClient.connect(wsUrlOf(running()), 'C'));
    await c.join(r, 'browser');
    await a.expect('peer-joined');
    c.send({ type: 'offer', to: a.peerId, sdp: SDP });
    assert.deepEqual(await a.next(), { type: 'offer', from: c.peerId, sdp: SDP });
  });

  test('socket.io: a frame over 1 MiB disconnects that client; the server serves the others', async () => {
    const r = room();
    const [a, big] = await ioPair(running(), r, track);
    big.sendRaw(JSON.stringify({ type: 'offer', to: a.peerId, sdp: 'x'.repeat(1024 * 1024) }));
    await big.expectEnded();
    const left = await a.expect('peer-left');
    assert.equal(left.peerId, big.peerId);
    const c = track(await IoTestClient.connect(httpUrlOf(running()), 'C'));
    await c.join(r);
    await a.expect('peer-joined');
    c.send({ type: 'offer', to: a.peerId, sdp: SDP });
    assert.deepEqual(await a.next(), { type: 'offer', from: c.peerId, sdp: SDP });
  });

  test('GET /healthz returns status ok, the protocol and the counts', async () => {
    const res = await fetch(new URL('/healthz', httpUrlOf(running())));
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.protocol, PROTOCOL);
    assert.equal(body.version, PROTOCOL_VERSION);
    for (const key of ['connections', 'peers', 'rooms']) assert.equal(typeof body[key], 'number', key);
  });

  test('GET / without a built page answers 503 with a hint', async () => {
    const res = await fetch(httpUrlOf(running()));
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run build/);
  });
});

describe('RunningServer.close()', () => {
  test('with clients of both transports connected resolves and ends every connection', async () => {
    const server = await startTestServer();
    const a = await WsTestClient.connect(wsUrlOf(server), 'A');
    const b = await IoTestClient.connect(httpUrlOf(server), 'B');
    await a.join('closing', 'gateway');
    await b.join('closing', 'browser');
    await server.close();
    const [endedA, endedB] = await Promise.all([a.expectEnded(), b.expectEnded()]);
    assert.equal(endedA.code, 1001);
    assert.equal(endedB.reason, 'io server disconnect');
    const stats = server.hub.stats();
    assert.deepEqual(stats, { connections: 0, peers: 0, rooms: 0 });
  });
});

// ---- helpers -------------------------------------------------------------------------------------

async function ioPair(
  server: RunningServer,
  room: string,
  track: <T extends TestClient>(c: T) => T,
): Promise<[IoTestClient, IoTestClient]> {
  const a = track(await IoTestClient.connect(httpUrlOf(server), 'A'));
  const b = track(await IoTestClient.connect(httpUrlOf(server), 'B'));
  await a.join(room, 'gateway');
  await b.join(room, 'browser');
  await a.expect('peer-joined');
  return [a, b];
}
