/**
 * The rtcgate.signal.v2 schemas and codec as pure functions: the v2 client messages ("as" on all
 * but join, "leave"), the v2 server messages ("to"), that each version refuses the other's
 * messages, the exports the browser library and the gateway build on, and the v2 sample in
 * docs/protocol.md. The loopback suite (signalingV2.test.ts) runs the same rules over the wire.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  CLIENT_MESSAGE_TYPES,
  CLIENT_MESSAGE_TYPES_V2,
  PROTOCOL,
  PROTOCOLS,
  PROTOCOL_V2,
  SIGNAL_ERROR_TEXT,
  clientMessageSchemaV2,
  decodeClientFrame,
  decodeServerFrame,
  encode,
  isProtocolName,
  serverMessageSchemaV2,
  type ClientMessageV2,
  type ProtocolName,
  type ServerMessageV2,
  type SignalErrorCode,
} from '../src/protocol/index.js';

const A = 'p_AAAAAAAAAAAA';
const B = 'p_bbbbbbbb-_09';
const SDP = 'v=0\r\n';

function decodeV2(value: unknown) {
  return decodeClientFrame(JSON.stringify(value), PROTOCOL_V2);
}

/** The failure `result` must be: its code, text prefix, ref and (v2) as. */
function assertError(
  result: ReturnType<typeof decodeClientFrame>,
  code: SignalErrorCode,
  ref?: string,
  as?: string,
): string {
  assert.equal(result.ok, false, `expected ${code}, got ${JSON.stringify(result)}`);
  if (result.ok) return '';
  assert.equal(result.code, code, result.message);
  assert.ok(result.message.startsWith(SIGNAL_ERROR_TEXT[code]), result.message);
  assert.equal(result.ref, ref);
  assert.equal(result.as, as);
  return result.message;
}

test('the protocol names: PROTOCOL stays v1, PROTOCOLS lists v2 first', () => {
  assert.equal(PROTOCOL, 'rtcgate.signal.v1');
  assert.equal(PROTOCOL_V2, 'rtcgate.signal.v2');
  assert.deepEqual(PROTOCOLS, ['rtcgate.signal.v2', 'rtcgate.signal.v1']);
  for (const name of PROTOCOLS) assert.ok(isProtocolName(name));
  for (const other of ['rtcgate.signal.v3', '', undefined, 2, ['rtcgate.signal.v2']]) {
    assert.equal(isProtocolName(other), false, JSON.stringify(other));
  }
  assert.deepEqual(CLIENT_MESSAGE_TYPES_V2, [...CLIENT_MESSAGE_TYPES, 'leave']);
});

// ---- client messages ------------------------------------------------------------------------------

const VALID_V2: readonly (readonly [string, ClientMessageV2])[] = [
  ['join (no "as")', { type: 'join', room: 'default', role: 'browser' }],
  ['offer', { type: 'offer', as: A, to: B, sdp: SDP }],
  ['answer', { type: 'answer', as: A, to: B, sdp: SDP }],
  ['candidate', { type: 'candidate', as: A, to: B, candidate: { candidate: 'c', sdpMid: '0' } }],
  ['candidate null', { type: 'candidate', as: A, to: B, candidate: null }],
  ['offer-request', { type: 'offer-request', as: A, to: B, channels: [{ label: 'echo' }] }],
  ['bye', { type: 'bye', as: A, to: B, reason: 'done' }],
  ['leave', { type: 'leave', as: A }],
  // The server, not the schema, refuses "to" equal to "as" (UNKNOWN_PEER).
  ['offer to itself', { type: 'offer', as: A, to: A, sdp: SDP }],
];

describe('decodeClientFrame(frame, PROTOCOL_V2)', () => {
  for (const [name, message] of VALID_V2) {
    test(`accepts ${name}`, () => {
      assert.deepEqual(decodeClientFrame(encode(message), PROTOCOL_V2), { ok: true, message });
      assert.deepEqual(clientMessageSchemaV2.parse(message), message);
    });
  }

  test('the table covers every v2 client message type', () => {
    const covered = new Set(VALID_V2.map(([, m]) => m.type));
    assert.deepEqual([...covered].sort(), [...CLIENT_MESSAGE_TYPES_V2].sort());
  });

  const INVALID: readonly (readonly [string, Record<string, unknown>, RegExp, string | undefined])[] = [
    ['an offer without "as"', { type: 'offer', to: B, sdp: SDP }, /as: /, undefined],
    ['a bye without "as"', { type: 'bye', to: B }, /as: /, undefined],
    ['a leave without "as"', { type: 'leave' }, /as: /, undefined],
    ['a malformed "as"', { type: 'offer', as: 'me', to: B, sdp: SDP }, /as: /, undefined],
    ['a leave with "to"', { type: 'leave', as: A, to: B }, /Unrecognized key: "to"/, A],
    // A join names no peer, so its refusal does not either (the server adds no "to").
    [
      'a join with "as"',
      { type: 'join', room: 'r', role: 'browser', as: A },
      /Unrecognized key: "as"/,
      undefined,
    ],
    ['a forged "from"', { type: 'offer', as: A, to: B, sdp: SDP, from: B }, /Unrecognized key: "from"/, A],
    ['a wrongly typed sdp', { type: 'answer', as: A, to: B, sdp: 42 }, /sdp: /, A],
  ];
  for (const [name, value, detail, as] of INVALID) {
    test(`${name} gives INVALID_MESSAGE${as ? ' naming its "as"' : ''}`, () => {
      const message = assertError(decodeV2(value), 'INVALID_MESSAGE', value.type as string, as);
      assert.match(message, detail);
    });
  }

  test('an unknown type gives UNKNOWN_TYPE listing the v2 types, with the "as" it named', () => {
    const message = assertError(decodeV2({ type: 'hello', as: A }), 'UNKNOWN_TYPE', 'hello', A);
    assert.match(message, /Known types: join, offer, answer, candidate, offer-request, bye, leave\./);
    assertError(decodeV2({ type: 'joined', as: 'nope' }), 'UNKNOWN_TYPE', 'joined');
    assertError(decodeV2({ as: A }), 'UNKNOWN_TYPE', undefined, A);
  });

  test('frames that are not a JSON object name no "as"', () => {
    assertError(decodeClientFrame(Buffer.from('{}'), PROTOCOL_V2), 'UNSUPPORTED_FRAME');
    assertError(decodeClientFrame('{"as":"p_AAAAAAAAAAAA",', PROTOCOL_V2), 'BAD_JSON');
    assertError(decodeClientFrame(`[{"as":"${A}"}]`, PROTOCOL_V2), 'UNKNOWN_TYPE');
    assertError(decodeClientFrame(' '.repeat(65537), PROTOCOL_V2), 'FRAME_TOO_LARGE');
  });
});

describe('v1 is unchanged beside v2', () => {
  test('decodeClientFrame() without a protocol, or with PROTOCOL, is v1: no "leave", no "as"', () => {
    for (const protocol of [undefined, PROTOCOL] as const) {
      const leave = decodeClientFrame(JSON.stringify({ type: 'leave', as: A }), protocol);
      const message = assertError(leave, 'UNKNOWN_TYPE', 'leave');
      assert.match(message, /Known types: join, offer, answer, candidate, offer-request, bye\./);
      const offer = decodeClientFrame(JSON.stringify({ type: 'offer', as: A, to: B, sdp: SDP }), protocol);
      // v1 never reports an "as": it has none.
      assert.match(assertError(offer, 'INVALID_MESSAGE', 'offer'), /Unrecognized key: "as"/);
    }
  });

  test('v1 server frames fail the v2 schema and v2 frames fail the v1 schema', () => {
    const v1Joined = {
      type: 'joined',
      protocol: PROTOCOL,
      room: 'r',
      peerId: A,
      role: 'browser',
      peers: [],
      iceServers: [],
    };
    const v2Joined = { ...v1Joined, protocol: PROTOCOL_V2 };
    assert.equal(decodeServerFrame(JSON.stringify(v1Joined)).ok, true);
    assert.equal(decodeServerFrame(JSON.stringify(v1Joined), PROTOCOL_V2).ok, false);
    assert.equal(decodeServerFrame(JSON.stringify(v2Joined), PROTOCOL_V2).ok, true);
    assert.equal(decodeServerFrame(JSON.stringify(v2Joined)).ok, false);
    const peerLeft = { type: 'peer-left', peerId: A, reason: 'left' };
    assert.equal(decodeServerFrame(JSON.stringify({ ...peerLeft, to: B })).ok, false);
    assert.equal(decodeServerFrame(JSON.stringify(peerLeft), PROTOCOL_V2).ok, false);
  });

  test('an unknown protocol name is a programming error (TypeError), not a frame error', () => {
    const frame = JSON.stringify({ type: 'join', room: 'r', role: 'browser' });
    assert.throws(() => decodeClientFrame(frame, 'rtcgate.signal.v3' as ProtocolName), TypeError);
    assert.throws(() => decodeServerFrame(frame, 'toString' as ProtocolName), TypeError);
  });
});

// ---- server messages ------------------------------------------------------------------------------

const VALID_SERVER_V2: readonly ServerMessageV2[] = [
  {
    type: 'joined',
    protocol: PROTOCOL_V2,
    room: 'default',
    peerId: A,
    role: 'browser',
    peers: [{ peerId: B, role: 'gateway' }],
    iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
  },
  { type: 'peer-joined', peerId: B, role: 'gateway', to: A },
  { type: 'peer-left', peerId: B, reason: 'left', to: A },
  { type: 'error', code: 'TOO_MANY_PEERS', message: SIGNAL_ERROR_TEXT.TOO_MANY_PEERS, ref: 'join' },
  { type: 'error', code: 'UNKNOWN_PEER', message: 'x', ref: 'offer', to: A },
  { type: 'offer', from: B, sdp: SDP, to: A },
  { type: 'answer', from: B, sdp: SDP, to: A },
  { type: 'candidate', from: B, candidate: null, to: A },
  { type: 'offer-request', from: B, to: A },
  { type: 'bye', from: B, reason: 'done', to: A },
];

describe('v2 server messages', () => {
  test('every v2 server message type validates with serverMessageSchemaV2 and decodeServerFrame', () => {
    for (const message of VALID_SERVER_V2) {
      assert.deepEqual(serverMessageSchemaV2.parse(message), message);
      assert.deepEqual(decodeServerFrame(encode(message), PROTOCOL_V2), { ok: true, message });
    }
    const types = new Set(VALID_SERVER_V2.map((m) => m.type));
    assert.equal(types.size, 9);
  });

  const INVALID: readonly (readonly [string, unknown])[] = [
    ['peer-joined without "to"', { type: 'peer-joined', peerId: B, role: 'gateway' }],
    ['peer-left without "to"', { type: 'peer-left', peerId: B, reason: 'left' }],
    ['a relay without "to"', { type: 'offer', from: B, sdp: SDP }],
    ['a relay with "as"', { type: 'offer', from: B, sdp: SDP, to: A, as: A }],
    [
      'joined with "to"',
      {
        type: 'joined',
        protocol: PROTOCOL_V2,
        room: 'r',
        peerId: A,
        role: 'browser',
        peers: [],
        iceServers: [],
        to: A,
      },
    ],
    ['an error with a malformed "to"', { type: 'error', code: 'BAD_JSON', message: 'x', to: 'me' }],
    ['a client message', { type: 'leave', as: A }],
  ];
  for (const [name, value] of INVALID) {
    test(`decodeServerFrame(frame, PROTOCOL_V2) refuses ${name}`, () => {
      const r = decodeServerFrame(JSON.stringify(value), PROTOCOL_V2);
      assert.equal(!r.ok && r.code, 'INVALID_MESSAGE');
    });
  }
});

// ---- the v2 sample in docs/protocol.md -------------------------------------------------------------

test("every frame of the v2 sample in docs/protocol.md is valid in its sender's version", () => {
  // This file runs as server/dist/test/protocolV2.test.js: the repository root is three levels up.
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## rtcgate.signal.v2: several peers on one connection');
  assert.ok(start >= 0, 'docs/protocol.md has the v2 section');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  // P speaks v2, G speaks v1, S is the server.
  const lines = [...section.matchAll(/^([PGS]) → ([PGS]) {2}(\{.*\})$/gm)];
  assert.ok(lines.length >= 15, 'the v2 section has a sample');
  assert.ok(lines.some(([, sender]) => sender === 'P'));
  for (const [line, sender, receiver, frame] of lines) {
    const protocol = sender === 'P' || receiver === 'P' ? PROTOCOL_V2 : PROTOCOL;
    const decoded = sender === 'S' ? decodeServerFrame(frame, protocol) : decodeClientFrame(frame, protocol);
    assert.ok(decoded.ok, `${line}\n${decoded.ok ? '' : decoded.message}`);
  }
});
