/**
 * The rtcgate.signal.v1 schemas and codec as pure functions: every client message in its valid
 * forms, every error class decodeClientFrame produces, and the server messages against
 * serverMessageSchema. The loopback suite (signaling.test.ts) runs the same rules over the wire.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  CLIENT_MESSAGE_TYPES,
  MAX_FRAME_BYTES,
  PROTOCOL,
  SIGNAL_ERROR_CODES,
  SIGNAL_ERROR_TEXT,
  decodeClientFrame,
  decodeServerFrame,
  encode,
  serverMessageSchema,
  utf8Length,
  type ClientMessage,
  type ServerMessage,
  type SignalErrorCode,
} from '../src/protocol/index.js';

const A = 'p_AAAAAAAAAAAA';
const B = 'p_bbbbbbbb-_09';
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

function decodeJson(value: unknown) {
  return decodeClientFrame(JSON.stringify(value));
}

function assertError(
  result: ReturnType<typeof decodeClientFrame>,
  code: SignalErrorCode,
  ref?: string,
): string {
  assert.equal(result.ok, false, `expected ${code}, got ${JSON.stringify(result)}`);
  if (result.ok) return '';
  assert.equal(result.code, code, result.message);
  assert.ok(result.message.startsWith(SIGNAL_ERROR_TEXT[code]), result.message);
  assert.equal(result.ref, ref);
  return result.message;
}

// ---- valid client messages ------------------------------------------------------------------------

const VALID_CLIENT_MESSAGES: readonly (readonly [string, ClientMessage])[] = [
  ['join as browser', { type: 'join', room: 'default', role: 'browser' }],
  ['join as gateway', { type: 'join', room: 'lab.room_1-A', role: 'gateway' }],
  ['join a 64-character room', { type: 'join', room: 'r'.repeat(64), role: 'browser' }],
  ['join a 1-character room', { type: 'join', room: 'x', role: 'browser' }],
  ['offer', { type: 'offer', to: A, sdp: SDP }],
  ['offer of 60000 characters', { type: 'offer', to: A, sdp: 'x'.repeat(60_000) }],
  ['answer', { type: 'answer', to: B, sdp: SDP }],
  [
    'candidate with every field',
    {
      type: 'candidate',
      to: A,
      candidate: {
        candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'abcd',
      },
    },
  ],
  ['candidate with only the candidate line', { type: 'candidate', to: A, candidate: { candidate: '' } }],
  [
    'candidate with null sdpMid, sdpMLineIndex and usernameFragment',
    {
      type: 'candidate',
      to: A,
      candidate: { candidate: 'c', sdpMid: null, sdpMLineIndex: null, usernameFragment: null },
    },
  ],
  ['candidate null (end-of-candidates)', { type: 'candidate', to: A, candidate: null }],
  ['offer-request without channels', { type: 'offer-request', to: A }],
  [
    'offer-request with channel options',
    {
      type: 'offer-request',
      to: A,
      channels: [
        { label: 'echo' },
        { label: 'chat', protocol: 'json', ordered: false, maxRetransmits: 0 },
        { label: '', maxPacketLifeTime: 65535 },
      ],
    },
  ],
  [
    'offer-request with 64 channels',
    { type: 'offer-request', to: A, channels: Array.from({ length: 64 }, (_, i) => ({ label: `c${i}` })) },
  ],
  ['bye', { type: 'bye', to: A }],
  ['bye with a reason', { type: 'bye', to: A, reason: 'r'.repeat(256) }],
  ['peer id of 32 characters after p_', { type: 'bye', to: `p_${'z'.repeat(32)}` }],
];

describe('decodeClientFrame() accepts every client message in its valid form', () => {
  for (const [name, message] of VALID_CLIENT_MESSAGES) {
    test(name, () => {
      assert.deepEqual(decodeClientFrame(encode(message)), { ok: true, message });
    });
  }

  test('the table covers every client message type', () => {
    const covered = new Set(VALID_CLIENT_MESSAGES.map(([, m]) => m.type));
    assert.deepEqual([...covered].sort(), [...CLIENT_MESSAGE_TYPES].sort());
  });
});

// ---- error classes --------------------------------------------------------------------------------

describe('decodeClientFrame() error classes', () => {
  test('a frame that is not JSON gives BAD_JSON', () => {
    for (const frame of ['', '{', '{"type":"join",}', "{'type':'join'}", 'undefined', 'join']) {
      assertError(decodeClientFrame(frame), 'BAD_JSON');
    }
  });

  test('anything but a string gives UNSUPPORTED_FRAME', () => {
    const text = JSON.stringify({ type: 'join', room: 'default', role: 'browser' });
    for (const frame of [
      Buffer.from(text),
      new TextEncoder().encode(text),
      new TextEncoder().encode(text).buffer,
      [Buffer.from(text)],
      undefined,
      null,
      42,
      { type: 'join', room: 'default', role: 'browser' },
    ]) {
      assertError(decodeClientFrame(frame), 'UNSUPPORTED_FRAME');
    }
  });

  test('a frame one byte over the limit gives FRAME_TOO_LARGE, one at the limit is accepted', () => {
    // JSON allows whitespace after the value: a valid offer padded to any size.
    const offer = JSON.stringify({ type: 'offer', to: A, sdp: SDP });
    const padded = (bytes: number) => offer + ' '.repeat(bytes - offer.length);
    assert.equal(decodeClientFrame(padded(MAX_FRAME_BYTES)).ok, true);
    assertError(decodeClientFrame(padded(MAX_FRAME_BYTES + 1)), 'FRAME_TOO_LARGE');
  });

  for (const [name, char] of [
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte (surrogate pair)', '😀'],
  ] as const) {
    test(`${name} UTF-8 is counted in bytes: 65536 bytes pass, 65537 give FRAME_TOO_LARGE`, () => {
      const under = offerOfBytes(MAX_FRAME_BYTES, char);
      const over = offerOfBytes(MAX_FRAME_BYTES + 1, char);
      // The frames are far shorter in UTF-16 code units than in bytes: only a byte count sees it.
      assert.ok(over.length < MAX_FRAME_BYTES);
      assert.equal(decodeClientFrame(under).ok, true);
      assertError(decodeClientFrame(over), 'FRAME_TOO_LARGE');
    });
  }

  test('FRAME_TOO_LARGE is judged before JSON: an oversized non-JSON frame is not BAD_JSON', () => {
    assertError(decodeClientFrame('{'.repeat(MAX_FRAME_BYTES + 1)), 'FRAME_TOO_LARGE');
  });

  test('a JSON value that is not an object gives UNKNOWN_TYPE', () => {
    for (const frame of [
      '[]',
      '[{"type":"join","room":"default","role":"browser"}]',
      '42',
      'null',
      'true',
      '"join"',
    ]) {
      const message = assertError(decodeClientFrame(frame), 'UNKNOWN_TYPE');
      assert.match(message, /Expected a JSON object/);
    }
  });

  test('an object without a string "type" gives UNKNOWN_TYPE without ref', () => {
    for (const value of [
      {},
      { room: 'default', role: 'browser' },
      { type: 7 },
      { type: null },
      { type: ['join'] },
    ]) {
      const message = assertError(decodeJson(value), 'UNKNOWN_TYPE');
      assert.match(message, /Known types: join, offer, answer, candidate, offer-request, bye\./);
    }
  });

  test('an undefined type gives UNKNOWN_TYPE with the type as ref, cut to 64 characters', () => {
    assertError(decodeJson({ type: 'hello' }), 'UNKNOWN_TYPE', 'hello');
    assertError(decodeJson({ type: 'Join', room: 'default', role: 'browser' }), 'UNKNOWN_TYPE', 'Join');
    // Server message types are not client messages.
    assertError(decodeJson({ type: 'joined' }), 'UNKNOWN_TYPE', 'joined');
    assertError(decodeJson({ type: 'peer-left', peerId: A, reason: 'x' }), 'UNKNOWN_TYPE', 'peer-left');
    assertError(decodeJson({ type: 't'.repeat(100) }), 'UNKNOWN_TYPE', 't'.repeat(64));
  });

  const INVALID: readonly (readonly [string, Record<string, unknown>, RegExp])[] = [
    ['an extra "from" on offer', { type: 'offer', to: A, sdp: SDP, from: B }, /Unrecognized key: "from"/],
    [
      'an extra field on join',
      { type: 'join', room: 'default', role: 'browser', token: 'x' },
      /Unrecognized key/,
    ],
    ['an extra field on bye', { type: 'bye', to: A, from: B }, /Unrecognized key/],
    [
      'an extra field inside a candidate',
      { type: 'candidate', to: A, candidate: { candidate: 'c', port: 1 } },
      /candidate/,
    ],
    [
      'an extra field inside a channel',
      { type: 'offer-request', to: A, channels: [{ label: 'x', priority: 'high' }] },
      /channels/,
    ],
    [
      'a channel with both maxRetransmits and maxPacketLifeTime',
      { type: 'offer-request', to: A, channels: [{ label: 'x', maxRetransmits: 1, maxPacketLifeTime: 10 }] },
      /maxPacketLifeTime/,
    ],
    [
      'a negotiated channel without an id',
      { type: 'offer-request', to: A, channels: [{ label: 'x', negotiated: true }] },
      /id/,
    ],
    ['a peer id without the p_ prefix', { type: 'offer', to: 'AAAAAAAAAAAA', sdp: SDP }, /^.*to:/],
    ['a peer id too short', { type: 'offer', to: 'p_abc', sdp: SDP }, /to:/],
    ['a peer id too long', { type: 'offer', to: `p_${'a'.repeat(33)}`, sdp: SDP }, /to:/],
    ['a peer id with other characters', { type: 'answer', to: 'p_aaaa/aaaa.', sdp: SDP }, /to:/],
    ['a missing "to"', { type: 'bye' }, /to:/],
    ['an empty room', { type: 'join', room: '', role: 'browser' }, /room:/],
    ['a 65-character room', { type: 'join', room: 'r'.repeat(65), role: 'browser' }, /room:/],
    ['a room with a space', { type: 'join', room: 'a b', role: 'browser' }, /room:/],
    ['a room with a slash', { type: 'join', room: 'a/b', role: 'browser' }, /room:/],
    ['a missing room', { type: 'join', role: 'browser' }, /room:/],
    ['an unknown role', { type: 'join', room: 'default', role: 'admin' }, /role:/],
    ['an empty sdp', { type: 'offer', to: A, sdp: '' }, /sdp:/],
    ['an sdp over 60000 characters', { type: 'answer', to: A, sdp: 'x'.repeat(60_001) }, /sdp:/],
    ['an sdp that is not a string', { type: 'offer', to: A, sdp: { sdp: SDP } }, /sdp:/],
    ['a missing candidate', { type: 'candidate', to: A }, /candidate/],
    [
      'a candidate as a bare string',
      { type: 'candidate', to: A, candidate: 'candidate:1 1 udp 1 1.2.3.4 1 typ host' },
      /candidate/,
    ],
    [
      'a negative sdpMLineIndex',
      { type: 'candidate', to: A, candidate: { candidate: 'c', sdpMLineIndex: -1 } },
      /sdpMLineIndex/,
    ],
    [
      '65 channels',
      { type: 'offer-request', to: A, channels: Array.from({ length: 65 }, () => ({ label: 'x' })) },
      /channels/,
    ],
    [
      'an empty channel list (an offer needs a channel)',
      { type: 'offer-request', to: A, channels: [] },
      /channels/,
    ],
    ['a channel without a label', { type: 'offer-request', to: A, channels: [{}] }, /label/],
    [
      'maxRetransmits over 65535',
      { type: 'offer-request', to: A, channels: [{ label: 'x', maxRetransmits: 65536 }] },
      /maxRetransmits/,
    ],
    ['a reason over 256 characters', { type: 'bye', to: A, reason: 'r'.repeat(257) }, /reason/],
  ];

  for (const [name, value, detail] of INVALID) {
    test(`${name} gives INVALID_MESSAGE with the type as ref`, () => {
      const message = assertError(decodeJson(value), 'INVALID_MESSAGE', value.type as string);
      assert.match(message, detail);
    });
  }
});

// ---- utf8Length -----------------------------------------------------------------------------------

test('utf8Length() counts what UTF-8 encoding produces, lone surrogates as U+FFFD (3 bytes)', () => {
  for (const text of [
    '',
    'ascii',
    'é',
    '€',
    '😀',
    'a😀b€cé',
    '\uD800', // lone high surrogate at the end
    '\uDC00', // lone low surrogate
    '\uD800a', // lone high surrogate before ASCII
    '\uD800\u00e9', // lone high surrogate before a two-byte character
    '\uD800\u4e00', // lone high surrogate before a three-byte character
    '\uD800\uD800\uDC00', // a lone high surrogate, then a pair
    '\uDC00\uD800', // reversed pair: two lone surrogates
  ]) {
    assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
  }
});

test('a frame of lone surrogates is judged by its encoded size, not undercounted past the limit', () => {
  // Socket.IO hands the server a string parsed out of its own JSON packet, so a client can make
  // it hold raw lone surrogates. Each "\uD800\u4E00" encodes to 6 bytes (U+FFFD, U+4E00).
  const frame = loneSurrogateOffer();
  assert.ok(utf8(frame) > MAX_FRAME_BYTES);
  assertError(decodeClientFrame(frame), 'FRAME_TOO_LARGE');
});

// ---- server messages ------------------------------------------------------------------------------

const VALID_SERVER_MESSAGES: readonly ServerMessage[] = [
  {
    type: 'joined',
    protocol: PROTOCOL,
    room: 'default',
    peerId: A,
    role: 'browser',
    peers: [{ peerId: B, role: 'gateway' }],
    iceServers: [
      { urls: 'stun:127.0.0.1:3478' },
      {
        urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'],
        username: 'u',
        credential: 'c',
      },
    ],
  },
  { type: 'joined', protocol: PROTOCOL, room: 'r', peerId: A, role: 'gateway', peers: [], iceServers: [] },
  { type: 'peer-joined', peerId: B, role: 'gateway' },
  { type: 'peer-left', peerId: B, reason: 'left' },
  { type: 'peer-left', peerId: B, reason: 'connection lost' },
  ...SIGNAL_ERROR_CODES.map((code): ServerMessage => ({
    type: 'error',
    code,
    message: SIGNAL_ERROR_TEXT[code],
  })),
  { type: 'error', code: 'UNKNOWN_PEER', message: 'x', ref: 'offer' },
  { type: 'offer', from: A, sdp: SDP },
  { type: 'answer', from: A, sdp: SDP },
  { type: 'candidate', from: A, candidate: { candidate: 'c', sdpMid: '0' } },
  { type: 'candidate', from: A, candidate: null },
  { type: 'offer-request', from: A },
  { type: 'offer-request', from: A, channels: [{ label: 'echo' }] },
  { type: 'bye', from: A },
  { type: 'bye', from: A, reason: 'done' },
];

describe('server messages', () => {
  test('every server message type validates with serverMessageSchema and decodeServerFrame', () => {
    for (const message of VALID_SERVER_MESSAGES) {
      assert.deepEqual(serverMessageSchema.parse(message), message);
      assert.deepEqual(decodeServerFrame(encode(message)), { ok: true, message });
    }
    const types = new Set(VALID_SERVER_MESSAGES.map((m) => m.type));
    assert.deepEqual([...types].sort(), [
      'answer',
      'bye',
      'candidate',
      'error',
      'joined',
      'offer',
      'offer-request',
      'peer-joined',
      'peer-left',
    ]);
  });

  const INVALID_SERVER: readonly (readonly [string, unknown])[] = [
    ['a relayed message that still carries "to"', { type: 'offer', from: A, to: B, sdp: SDP }],
    ['a relayed message without "from"', { type: 'answer', sdp: SDP }],
    [
      'joined with another protocol',
      {
        type: 'joined',
        protocol: 'rtcgate.signal.v2',
        room: 'r',
        peerId: A,
        role: 'browser',
        peers: [],
        iceServers: [],
      },
    ],
    [
      'joined without iceServers',
      { type: 'joined', protocol: PROTOCOL, room: 'r', peerId: A, role: 'browser', peers: [] },
    ],
    ['peer-left without a reason', { type: 'peer-left', peerId: A }],
    ['an error with a code the protocol does not define', { type: 'error', code: 'TEAPOT', message: 'x' }],
    [
      'an error with a ref over 64 characters',
      { type: 'error', code: 'UNKNOWN_TYPE', message: 'x', ref: 'r'.repeat(65) },
    ],
    ['a client message', { type: 'join', room: 'r', role: 'browser' }],
    ['an unknown type', { type: 'welcome' }],
  ];
  for (const [name, value] of INVALID_SERVER) {
    test(`decodeServerFrame() refuses ${name} with INVALID_MESSAGE`, () => {
      assert.equal(serverMessageSchema.safeParse(value).success, false);
      const r = decodeServerFrame(JSON.stringify(value));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, 'INVALID_MESSAGE');
    });
  }

  test('decodeServerFrame() refuses a binary frame and bad JSON', () => {
    const binary = decodeServerFrame(Buffer.from('{}'));
    assert.equal(!binary.ok && binary.code, 'UNSUPPORTED_FRAME');
    const bad = decodeServerFrame('{');
    assert.equal(!bad.ok && bad.code, 'BAD_JSON');
  });
});

/** A valid offer of exactly `bytes` bytes of UTF-8, its sdp padded with `char` (then ASCII). */
function offerOfBytes(bytes: number, char: string): string {
  const empty = utf8(JSON.stringify({ type: 'offer', to: A, sdp: '' }));
  const charBytes = utf8(char);
  const pad = bytes - empty;
  const sdp = char.repeat(Math.floor(pad / charBytes)) + 'x'.repeat(pad % charBytes);
  const frame = JSON.stringify({ type: 'offer', to: A, sdp });
  assert.equal(utf8(frame), bytes);
  return frame;
}

/**
 * An offer holding raw lone surrogates (not JSON escapes) that is over the limit once encoded, but
 * at the limit if each lone high surrogate and the character after it were counted as one pair.
 */
function loneSurrogateOffer(to: string = A): string {
  const head = `{"type":"offer","to":"${to}","sdp":"`;
  const tail = '"}';
  const pairs = Math.floor((MAX_FRAME_BYTES - utf8(head) - utf8(tail)) / 4);
  return head + '\uD800\u4E00'.repeat(pairs) + tail;
}

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

// ---- the sample session in docs/protocol.md --------------------------------------------------------

test('every frame of the sample session in docs/protocol.md is a valid v1 message', () => {
  // This file runs as server/dist/test/protocol.test.js: the repository root is three levels up.
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  const lines = [...doc.matchAll(/^([BGS]) → ([BGS]) {2}(\{.*\})$/gm)];
  assert.ok(lines.length >= 10, 'docs/protocol.md has a sample session');
  for (const [line, sender, , frame] of lines) {
    if (sender === 'S') {
      const decoded = decodeServerFrame(frame);
      assert.ok(decoded.ok, `${line}\n${decoded.ok ? '' : decoded.message}`);
    } else {
      const decoded = decodeClientFrame(frame);
      assert.ok(decoded.ok, `${line}\n${decoded.ok ? '' : decoded.message}`);
    }
  }
});
