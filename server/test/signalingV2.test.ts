/**
 * Loopback conformance suite for rtcgate.signal.v2 (several peers on one connection,
 * docs/protocol.md): a real server on an ephemeral port, real clients, one table of cases run
 * unchanged over the ws subprotocol and over Socket.IO, as signaling.test.ts does for v1. Most
 * cases put a v2 connection (P, a page holding several peers) in a room with a v1 client (G, a
 * gateway), so each also checks that v1 clients see nothing of v2. Negotiation and the cases that
 * only make sense on one transport follow the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { io } from 'socket.io-client';
import {
  PROTOCOL,
  PROTOCOLS,
  PROTOCOL_V2,
  SIGNAL_ERROR_TEXT,
  type IceServer,
  type RelayedClientMessage,
  type RelayedClientMessageV2,
  type RelayedServerMessage,
  type RelayedServerMessageV2,
  type Role,
  type ServerMessageOfV2,
} from '../src/protocol/index.js';
import type { ServerConfig } from '../src/config.js';
import type { RunningServer } from '../src/server.js';
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

type V2 = typeof PROTOCOL_V2;
type PageClient = TestClient<V2>;

const ICE_SERVERS: IceServer[] = [{ urls: 'stun:127.0.0.1:3478' }];

function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startQuietServer({ heartbeatMs: 10_000, iceServers: ICE_SERVERS, ...overrides });
}

// ---- expected messages ----------------------------------------------------------------------------

/** The exact `joined` a v2 connection gets. */
function joinedV2(
  peerId: string,
  room: string,
  role: Role,
  peers: { peerId: string; role: Role }[],
): ServerMessageOfV2<'joined'> {
  return { type: 'joined', protocol: PROTOCOL_V2, room, peerId, role, peers, iceServers: ICE_SERVERS };
}

/** What a v1 receiver gets for a relayed message: "to" (and a v2 sender's "as") replaced by "from". */
function relayedV1(message: RelayedClientMessage, from: string): RelayedServerMessage {
  const { to: _to, ...rest } = message;
  return { ...rest, from };
}

/** What a v2 receiver gets: the same, and its own peer id as "to". */
function relayedV2(message: RelayedClientMessage, from: string, to: string): RelayedServerMessageV2 {
  return { ...relayedV1(message, from), to };
}

/** `message` sent as the connection's peer `as`. */
function sentAs(message: RelayedClientMessage, as: string): RelayedClientMessageV2 {
  return { ...message, as };
}

const RELAYS: readonly { name: string; build(to: string): RelayedClientMessage }[] = [
  { name: 'offer', build: (to) => ({ type: 'offer', to, sdp: SDP }) },
  { name: 'answer', build: (to) => ({ type: 'answer', to, sdp: SDP }) },
  {
    name: 'candidate',
    build: (to) => ({
      type: 'candidate',
      to,
      candidate: { candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host', sdpMid: '0' },
    }),
  },
  { name: 'candidate null', build: (to) => ({ type: 'candidate', to, candidate: null }) },
  {
    name: 'offer-request',
    build: (to) => ({ type: 'offer-request', to, channels: [{ label: 'echo' }] }),
  },
  { name: 'bye', build: (to) => ({ type: 'bye', to, reason: 'done' }) },
];

// ---- the shared case table ----------------------------------------------------------------------

interface CaseContext {
  readonly transport: TestTransport;
  /** A room no other case uses. */
  room(): string;
  /** A v1 client over this run's transport; closed when the test ends. */
  v1(name: string, server?: RunningServer): Promise<TestClient>;
  /** A v2 client over this run's transport; closed when the test ends. */
  v2(name: string, server?: RunningServer): Promise<PageClient>;
  /**
   * Room `room` (new by default) with a v1 gateway G and a v2 page P holding two browser peers,
   * p1 and p2; every announcement already read and checked.
   */
  scene(room?: string): Promise<Scene>;
  /** A server of its own for this case, closed when the test ends. */
  startServer(overrides: Partial<ServerConfig>): Promise<RunningServer>;
}

interface Scene {
  room: string;
  g: TestClient;
  p: PageClient;
  p1: string;
  p2: string;
}

interface Case {
  readonly name: string;
  run(ctx: CaseContext): Promise<void>;
}

let roomCounter = 0;

function contextFor(t: TestContext, transport: TestTransport, server: RunningServer): CaseContext {
  const clients: TestClient<typeof PROTOCOL | V2>[] = [];
  const servers: RunningServer[] = [];
  // Clients first, then servers, so that every close handshake can complete.
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
  });
  const ctx: CaseContext = {
    transport,
    room: () => `${transport}-v2-case-${++roomCounter}`,
    async v1(name, on = server) {
      const client = await connectClient(on, transport, name);
      clients.push(client);
      return client;
    },
    async v2(name, on = server) {
      const client = await connectClient(on, transport, name, PROTOCOL_V2);
      clients.push(client);
      return client;
    },
    async scene(room = ctx.room()) {
      const g = await ctx.v1('G');
      await g.join(room, 'gateway');
      const p = await ctx.v2('P');
      const first = await p.join(room, 'browser');
      const p1 = first.peerId;
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: p1, role: 'browser' });
      const second = await p.join(room, 'browser');
      const p2 = second.peerId;
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: p2, role: 'browser' });
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: p2, role: 'browser', to: p1 });
      return { room, g, p, p1, p2 };
    },
    async startServer(overrides) {
      const s = await startTestServer(overrides);
      servers.push(s);
      return s;
    },
  };
  return ctx;
}

const CASES: Case[] = [
  {
    name: 'two joins on one connection make two peers, each in peers and peer-joined, with "to" on v2',
    async run(ctx) {
      const own = await ctx.startServer({});
      const room = ctx.room();
      const g = await ctx.v1('G', own);
      const gJoined = await g.join(room, 'gateway');
      const p = await ctx.v2('P', own);
      const first = await p.join(room, 'browser');
      assert.match(first.peerId, PEER_ID);
      assert.deepEqual(
        first,
        joinedV2(first.peerId, room, 'browser', [{ peerId: g.peerId, role: 'gateway' }]),
      );
      // The v1 peer's messages are v1's: no "to", and its joined says v1.
      assert.equal(gJoined.protocol, PROTOCOL);
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: first.peerId, role: 'browser' });
      const second = await p.join(room, 'gateway');
      assert.match(second.peerId, PEER_ID);
      assert.notEqual(second.peerId, first.peerId);
      assert.deepEqual(
        second,
        joinedV2(second.peerId, room, 'gateway', [
          { peerId: g.peerId, role: 'gateway' },
          { peerId: first.peerId, role: 'browser' },
        ]),
      );
      // Both the v1 peer and the connection's own first peer are told, the latter with "to".
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: second.peerId, role: 'gateway' });
      assert.deepEqual(await p.next(), {
        type: 'peer-joined',
        peerId: second.peerId,
        role: 'gateway',
        to: first.peerId,
      });
      // A third peer of the same connection in another room: that room is new, nobody is told.
      const elsewhere = ctx.room();
      const third = await p.join(elsewhere, 'browser');
      assert.deepEqual(third, joinedV2(third.peerId, elsewhere, 'browser', []));
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
      // Connections and peers are counted apart.
      assert.deepEqual(own.hub.stats(), { connections: 2, peers: 4, rooms: 2 });
    },
  },
  ...RELAYS.map((relay): Case => ({
    name: `${relay.name} is relayed between a v2 peer and a v1 peer both ways; the v1 side sees no "as" or "to"`,
    async run(ctx) {
      const { g, p, p1, p2 } = await ctx.scene();
      const there = relay.build(g.peerId);
      p.send(sentAs(there, p2));
      assert.deepEqual(await g.next(), relayedV1(there, p2));
      const back = relay.build(p1);
      g.send(back);
      assert.deepEqual(await p.next(), relayedV2(back, g.peerId, p1));
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  })),
  {
    name: 'two peers of one v2 connection in one room relay to each other over that connection',
    async run(ctx) {
      const { g, p, p1, p2 } = await ctx.scene();
      for (const relay of RELAYS) {
        const there = relay.build(p2);
        p.send(sentAs(there, p1));
        assert.deepEqual(await p.next(), relayedV2(there, p1, p2));
        const back = relay.build(p1);
        p.send(sentAs(back, p2));
        assert.deepEqual(await p.next(), relayedV2(back, p2, p1));
      }
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
  {
    name: 'a v2 peer reaches only its own room, even a peer of its own connection elsewhere: UNKNOWN_PEER with "to"',
    async run(ctx) {
      const { room, g, p, p1 } = await ctx.scene();
      const elsewhere = ctx.room();
      const p3 = (await p.join(elsewhere, 'browser')).peerId;
      p.send({ type: 'offer', as: p3, to: p1, sdp: SDP });
      assert.deepEqual(await p.next(), {
        type: 'error',
        code: 'UNKNOWN_PEER',
        message: `No peer ${p1} in room ${elsewhere}.`,
        ref: 'offer',
        to: p3,
      });
      p.send({ type: 'offer', as: p1, to: p3, sdp: SDP });
      assert.deepEqual(await p.next(), {
        type: 'error',
        code: 'UNKNOWN_PEER',
        message: `No peer ${p3} in room ${room}.`,
        ref: 'offer',
        to: p1,
      });
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
  {
    name: 'a message without "as" gets INVALID_MESSAGE without "to" and is not relayed',
    async run(ctx) {
      const { g, p } = await ctx.scene();
      for (const relay of RELAYS) {
        const message = relay.build(g.peerId);
        p.sendRaw(JSON.stringify(message));
        const error = await p.expectError('INVALID_MESSAGE');
        assert.deepEqual(
          { ...error, message: undefined },
          { type: 'error', code: 'INVALID_MESSAGE', message: undefined, ref: message.type },
        );
        assert.ok(error.message.startsWith(SIGNAL_ERROR_TEXT.INVALID_MESSAGE), error.message);
        assert.match(error.message, /as: /);
      }
      p.sendRaw(JSON.stringify({ type: 'leave' }));
      assert.equal((await p.expectError('INVALID_MESSAGE')).ref, 'leave');
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
  {
    name: 'an "as" that is no peer of this connection gets NOT_JOINED without "to" and is not relayed',
    async run(ctx) {
      const { room, g, p, p1, p2 } = await ctx.scene();
      // Another v2 connection's peer in the same room: the id is real, but not this connection's.
      const other = await ctx.v2('Q');
      const q1 = (await other.join(room, 'browser')).peerId;
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: q1, role: 'browser' });
      // One copy for each of P's peers in the room, each addressed to its own.
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: q1, role: 'browser', to: p1 });
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: q1, role: 'browser', to: p2 });
      for (const as of [NOBODY, g.peerId, p1]) {
        other.send({ type: 'offer', as, to: g.peerId, sdp: SDP });
        assert.deepEqual(await other.next(), notJoined(as, 'offer'));
      }
      other.send({ type: 'leave', as: p1 });
      assert.deepEqual(await other.next(), notJoined(p1, 'leave'));
      await Promise.all([g.expectQuiet(), p.expectQuiet(), other.expectQuiet()]);
      // Q's own peer still works.
      other.send({ type: 'bye', as: q1, to: g.peerId });
      assert.deepEqual(await g.next(), { type: 'bye', from: q1 });
    },
  },
  {
    name: 'leave: the room gets peer-left "left", no reply, the id is gone, the other peer still works',
    async run(ctx) {
      const { room, g, p, p1, p2 } = await ctx.scene();
      p.send({ type: 'leave', as: p2 });
      assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p2, reason: 'left' });
      // The connection's other peer in that room is told, addressed to it; p2 itself gets nothing.
      assert.deepEqual(await p.next(), { type: 'peer-left', peerId: p2, reason: 'left', to: p1 });
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
      // As p2 the connection can no longer send, and p2 can no longer be reached.
      p.send({ type: 'offer', as: p2, to: g.peerId, sdp: SDP });
      assert.deepEqual(await p.next(), notJoined(p2, 'offer'));
      p.send({ type: 'leave', as: p2 });
      assert.deepEqual(await p.next(), notJoined(p2, 'leave'));
      g.send({ type: 'offer', to: p2, sdp: SDP });
      assert.deepEqual(await g.next(), {
        type: 'error',
        code: 'UNKNOWN_PEER',
        message: `No peer ${p2} in room ${room}.`,
        ref: 'offer',
      });
      // p1 and the connection carry on, and it can join again.
      p.send({ type: 'answer', as: p1, to: g.peerId, sdp: SDP });
      assert.deepEqual(await g.next(), { type: 'answer', from: p1, sdp: SDP });
      const again = await p.join(room, 'browser');
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: again.peerId, role: 'browser' });
      assert.deepEqual(await p.next(), {
        type: 'peer-joined',
        peerId: again.peerId,
        role: 'browser',
        to: p1,
      });
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
  {
    name: 'closing a v2 connection announces peer-left "left" for each of its peers, in every room',
    async run(ctx) {
      const own = await ctx.startServer({});
      const room = ctx.room();
      const elsewhere = ctx.room();
      const g = await ctx.v1('G', own);
      await g.join(room, 'gateway');
      const h = await ctx.v1('H', own);
      await h.join(elsewhere, 'gateway');
      const p = await ctx.v2('P', own);
      const p1 = (await p.join(room, 'browser')).peerId;
      const p2 = (await p.join(room, 'browser')).peerId;
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: p2, role: 'browser', to: p1 });
      const p3 = (await p.join(elsewhere, 'browser')).peerId;
      for (const id of [p1, p2]) assert.equal((await g.expect('peer-joined')).peerId, id);
      assert.equal((await h.expect('peer-joined')).peerId, p3);
      await p.close();
      assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p1, reason: 'left' });
      assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p2, reason: 'left' });
      assert.deepEqual(await h.next(), { type: 'peer-left', peerId: p3, reason: 'left' });
      await Promise.all([g.expectQuiet(), h.expectQuiet()]);
      assert.deepEqual(own.hub.stats(), { connections: 2, peers: 2, rooms: 2 });
    },
  },
  {
    name: 'a join past MAX_PEERS_PER_CONNECTION gets TOO_MANY_PEERS; a leave frees a place',
    async run(ctx) {
      const small = await ctx.startServer({ maxPeersPerConnection: 2 });
      const room = ctx.room();
      const g = await ctx.v1('G', small);
      await g.join(room, 'gateway');
      const p = await ctx.v2('P', small);
      const p1 = (await p.join(room, 'browser')).peerId;
      await p.join(ctx.room(), 'browser');
      await g.expect('peer-joined');
      p.send({ type: 'join', room, role: 'browser' });
      assert.deepEqual(await p.next(), {
        type: 'error',
        code: 'TOO_MANY_PEERS',
        message: SIGNAL_ERROR_TEXT.TOO_MANY_PEERS,
        ref: 'join',
      });
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
      assert.equal(small.hub.stats().peers, 3);
      // The limit is per connection: another one holds its own two.
      const q = await ctx.v2('Q', small);
      await q.join(ctx.room(), 'browser');
      await q.join(ctx.room(), 'browser');
      // After a leave the connection may join again.
      p.send({ type: 'leave', as: p1 });
      assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p1, reason: 'left' });
      const again = await p.join(room, 'browser');
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: again.peerId, role: 'browser' });
    },
  },
  {
    name: 'joins sent back to back are answered in order, a refused one in the middle included',
    async run(ctx) {
      const p = await ctx.v2('P');
      const first = ctx.room();
      const last = ctx.room();
      p.send({ type: 'join', room: first, role: 'browser' });
      p.sendRaw(JSON.stringify({ type: 'join', room: 'no spaces allowed', role: 'browser' }));
      p.send({ type: 'join', room: last, role: 'gateway' });
      const a = await p.expect('joined');
      assert.deepEqual(a, joinedV2(a.peerId, first, 'browser', []));
      const refused = await p.expectError('INVALID_MESSAGE');
      assert.deepEqual(
        { ...refused, message: undefined },
        { type: 'error', code: 'INVALID_MESSAGE', message: undefined, ref: 'join' },
      );
      assert.match(refused.message, /room: /);
      const b = await p.expect('joined');
      assert.deepEqual(b, joinedV2(b.peerId, last, 'gateway', []));
      await p.expectQuiet();
    },
  },
  {
    name: 'an error for a message sent as one of the connection\'s peers carries "to"; others do not',
    async run(ctx) {
      const { room, g, p, p1, p2 } = await ctx.scene();
      p.send({ type: 'candidate', as: p1, to: NOBODY, candidate: null });
      assert.deepEqual(await p.next(), {
        type: 'error',
        code: 'UNKNOWN_PEER',
        message: `No peer ${NOBODY} in room ${room}.`,
        ref: 'candidate',
        to: p1,
      });
      p.send({ type: 'bye', as: p2, to: p2 });
      assert.deepEqual(await p.next(), {
        type: 'error',
        code: 'UNKNOWN_PEER',
        message: `No peer ${p2} in room ${room}.`,
        ref: 'bye',
        to: p2,
      });
      // A frame the schema refuses is still addressed when its "as" is readable and this connection's.
      p.sendRaw(JSON.stringify({ type: 'offer', as: p2, to: g.peerId, sdp: 42 }));
      const invalid = await p.expectError('INVALID_MESSAGE');
      assert.equal(invalid.to, p2);
      assert.equal(invalid.ref, 'offer');
      p.sendRaw(JSON.stringify({ type: 'hello', as: p1 }));
      const unknown = await p.expectError('UNKNOWN_TYPE');
      assert.deepEqual(
        { ...unknown, message: undefined },
        {
          type: 'error',
          code: 'UNKNOWN_TYPE',
          message: undefined,
          ref: 'hello',
          to: p1,
        },
      );
      assert.match(
        unknown.message,
        /Known types: join, offer, answer, candidate, offer-request, bye, leave\./,
      );
      // A join names no peer: refused for carrying "as", it is still one of the join answers (no "to").
      p.sendRaw(JSON.stringify({ type: 'join', room, role: 'browser', as: p1 }));
      const join = await p.expectError('INVALID_MESSAGE');
      assert.equal(join.ref, 'join');
      assert.equal('to' in join, false);
      // No "to" for an "as" that is not this connection's, nor for frames without one.
      p.sendRaw(JSON.stringify({ type: 'offer', as: g.peerId, to: p1, sdp: 42 }));
      assert.equal('to' in (await p.expectError('INVALID_MESSAGE')), false);
      p.sendRaw('{"type":"offer",');
      assert.equal('to' in (await p.expectError('BAD_JSON')), false);
      p.sendRaw(Buffer.from(JSON.stringify({ type: 'offer', as: p1, to: g.peerId, sdp: SDP })));
      assert.equal('to' in (await p.expectError('UNSUPPORTED_FRAME')), false);
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
  {
    name: 'a v1 connection still refuses "leave" (UNKNOWN_TYPE) and "as" (INVALID_MESSAGE)',
    async run(ctx) {
      const { g, p, p1 } = await ctx.scene();
      g.sendRaw(JSON.stringify({ type: 'leave', as: g.peerId }));
      const leave = await g.expectError('UNKNOWN_TYPE');
      assert.equal(leave.ref, 'leave');
      assert.match(leave.message, /Known types: join, offer, answer, candidate, offer-request, bye\./);
      g.sendRaw(JSON.stringify({ type: 'offer', as: g.peerId, to: p1, sdp: SDP }));
      const as = await g.expectError('INVALID_MESSAGE');
      assert.match(as.message, /Unrecognized key: "as"/);
      assert.equal('to' in as, false);
      await Promise.all([g.expectQuiet(), p.expectQuiet()]);
    },
  },
];

/** The exact NOT_JOINED a v2 connection gets for a message sent as `as`, no peer of it. */
function notJoined(as: string, ref: string): ServerMessageOfV2<'error'> {
  return {
    type: 'error',
    code: 'NOT_JOINED',
    message: `No peer ${as} on this connection: "as" must name a peer it joined and has not left.`,
    ref,
  };
}

describeCasesOverTransports(
  (transport) => `rtcgate.signal.v2 over ${transport}`,
  CASES,
  () => startTestServer(),
  contextFor,
);

// ---- negotiation, across transports and per transport -------------------------------------------

describe('rtcgate.signal.v2 negotiation, across transports and per transport', () => {
  let server: RunningServer | undefined;
  const opened: TestClient<typeof PROTOCOL | V2>[] = [];
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
  const track = <T extends TestClient<typeof PROTOCOL | V2>>(client: T): T => {
    opened.push(client);
    return client;
  };
  let rooms = 0;
  const room = () => `v2-mixed-${++rooms}`;

  test('ws: the server selects v2 when it is offered, in any order, and v1 when only v1 is', async () => {
    const url = wsUrlOf(running());
    const cases: readonly (readonly [readonly string[], typeof PROTOCOL | V2])[] = [
      [[PROTOCOL_V2, PROTOCOL], PROTOCOL_V2],
      [[PROTOCOL, PROTOCOL_V2], PROTOCOL_V2],
      [[PROTOCOL_V2], PROTOCOL_V2],
      [['chat.v2', PROTOCOL_V2, 'rtcgate.signal.v3'], PROTOCOL_V2],
      [[PROTOCOL], PROTOCOL],
      [['chat.v2', PROTOCOL], PROTOCOL],
    ];
    for (const [offer, selected] of cases) {
      // connect() fails unless the server selected `selected`; the join reply must say the same.
      const client = track(
        await WsTestClient.connect(url, `offering ${offer.join(',')}`, {}, 3000, selected, offer),
      );
      const joined = await client.join(room());
      assert.equal(joined.protocol, selected, `offering ${JSON.stringify(offer)}`);
    }
  });

  test('ws: a handshake offering neither version is refused with HTTP 400 naming both', async () => {
    for (const protocols of [[], ['rtcgate.signal.v3'], ['chat', 'rtcgate.signal.v0']]) {
      const refusal = await refusedHandshake(wsUrlOf(running()), protocols);
      assert.equal(refusal.status, 400, `offering ${JSON.stringify(protocols)}`);
      assert.equal(refusal.error, 'SUBPROTOCOL_REQUIRED');
      assert.equal(
        refusal.body,
        `${SIGNAL_ERROR_TEXT.SUBPROTOCOL_REQUIRED} Offer "Sec-WebSocket-Protocol: ${PROTOCOL_V2}" or ` +
          `"Sec-WebSocket-Protocol: ${PROTOCOL}".\n`,
      );
    }
  });

  test('socket.io: auth.protocol names the version the connection speaks', async () => {
    const v1 = track(await IoTestClient.connect(httpUrlOf(running()), 'v1'));
    assert.equal((await v1.join(room())).protocol, PROTOCOL);
    const v2 = track(await IoTestClient.connect(httpUrlOf(running()), 'v2', 3000, PROTOCOL_V2));
    const r = room();
    const a = await v2.join(r);
    const b = await v2.join(r);
    assert.equal(a.protocol, PROTOCOL_V2);
    assert.deepEqual(b.peers, [{ peerId: a.peerId, role: 'browser' }]);
    assert.deepEqual(await v2.next(), {
      type: 'peer-joined',
      peerId: b.peerId,
      role: 'browser',
      to: a.peerId,
    });
  });

  test('socket.io: an unknown auth.protocol gets connect_error SUBPROTOCOL_REQUIRED listing both', async () => {
    for (const auth of [{ protocol: 'rtcgate.signal.v3' }, { protocol: 2 }, { protocols: [PROTOCOL_V2] }]) {
      const socket = io(new URL('/signal', httpUrlOf(running())).href, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth,
      });
      try {
        const err = await new Promise<Error & { data?: unknown }>((resolve, reject) => {
          socket.once('connect', () => reject(new Error(`connected with ${JSON.stringify(auth)}`)));
          socket.once('connect_error', resolve);
        });
        assert.equal(err.message, `SUBPROTOCOL_REQUIRED: ${SIGNAL_ERROR_TEXT.SUBPROTOCOL_REQUIRED}`);
        assert.deepEqual(err.data, {
          code: 'SUBPROTOCOL_REQUIRED',
          protocol: PROTOCOL,
          protocols: [PROTOCOL_V2, PROTOCOL],
        });
      } finally {
        socket.close();
      }
    }
  });

  test('a v2 page over ws and a v1 gateway over Socket.IO (and the other way) reach each other', async () => {
    for (const [pageTransport, gatewayTransport] of [
      ['ws', 'socket.io'],
      ['socket.io', 'ws'],
    ] as const) {
      const r = room();
      const g = track(await connectClient(running(), gatewayTransport, 'G'));
      await g.join(r, 'gateway');
      const p = track(await connectClient(running(), pageTransport, 'P', PROTOCOL_V2));
      const p1 = (await p.join(r)).peerId;
      assert.deepEqual(await g.next(), { type: 'peer-joined', peerId: p1, role: 'browser' });
      p.send({ type: 'offer', as: p1, to: g.peerId, sdp: SDP });
      assert.deepEqual(await g.next(), { type: 'offer', from: p1, sdp: SDP });
      g.send({ type: 'answer', to: p1, sdp: SDP });
      assert.deepEqual(await p.next(), { type: 'answer', from: g.peerId, sdp: SDP, to: p1 });
    }
  });

  test('ws: a v2 connection lost without a close announces peer-left "connection lost" for each peer', async () => {
    const r = room();
    const g = track(await WsTestClient.connect(wsUrlOf(running()), 'G'));
    await g.join(r, 'gateway');
    const p = track(await WsTestClient.connect(wsUrlOf(running()), 'P', {}, 3000, PROTOCOL_V2));
    const p1 = (await p.join(r)).peerId;
    const p2 = (await p.join(r)).peerId;
    await g.expect('peer-joined');
    await g.expect('peer-joined');
    p.terminate();
    assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p1, reason: 'connection lost' });
    assert.deepEqual(await g.next(), { type: 'peer-left', peerId: p2, reason: 'connection lost' });
    await g.expectQuiet();
  });

  test('GET /healthz keeps its fields and lists both protocols, v2 first', async () => {
    const res = await fetch(new URL('/healthz', httpUrlOf(running())));
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'connections',
      'peers',
      'protocol',
      'protocols',
      'rooms',
      'status',
      'version',
    ]);
    assert.equal(body.protocol, PROTOCOL);
    assert.equal(body.version, 1);
    assert.deepEqual(body.protocols, [PROTOCOL_V2, PROTOCOL]);
    assert.deepEqual(body.protocols, PROTOCOLS);
  });
});

// ---- helpers -------------------------------------------------------------------------------------
