/**
 * Frame <-> message for both transports. The same function judges a ws text frame and a Socket.IO
 * "signal" payload, so the two transports cannot drift apart.
 */
import type { z } from 'zod';
import { SIGNAL_ERROR_TEXT, type SignalErrorCode } from './errors.js';
import {
  CLIENT_MESSAGE_TYPES,
  MAX_FRAME_BYTES,
  PROTOCOL,
  clientMessageSchema,
  peerIdSchema,
  serverMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';
import {
  CLIENT_MESSAGE_TYPES_V2,
  PROTOCOL_V2,
  clientMessageSchemaV2,
  serverMessageSchemaV2,
  type ClientMessageV2,
  type ProtocolName,
  type ServerMessageV2,
} from './messagesV2.js';

export type Decoded<T> =
  | { ok: true; message: T }
  | {
      ok: false;
      code: SignalErrorCode;
      message: string;
      ref?: string;
      /**
       * rtcgate.signal.v2 only: the well-formed peer id the refused frame named in "as", when the
       * frame was a JSON object; the server addresses its error to that peer if it is one of the
       * connection's (docs/protocol.md).
       */
      as?: string;
    };

/** What each protocol accepts from clients and from the server. */
const GRAMMARS = {
  [PROTOCOL]: { types: CLIENT_MESSAGE_TYPES, client: clientMessageSchema, server: serverMessageSchema },
  [PROTOCOL_V2]: {
    types: CLIENT_MESSAGE_TYPES_V2,
    client: clientMessageSchemaV2,
    server: serverMessageSchemaV2,
  },
} as const;

function grammarOf(protocol: ProtocolName) {
  // Only a programming error (a JavaScript caller passing another string) gets here.
  if (!Object.hasOwn(GRAMMARS, protocol)) throw new TypeError(`Unknown signaling protocol "${protocol}"`);
  return GRAMMARS[protocol];
}

function fail<T>(code: SignalErrorCode, detail?: string, ref?: string): Decoded<T> {
  const message = detail ? `${SIGNAL_ERROR_TEXT[code]} ${detail}` : SIGNAL_ERROR_TEXT[code];
  return ref === undefined ? { ok: false, code, message } : { ok: false, code, message, ref };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`)
    .join('; ');
}

/**
 * UTF-8 length without allocating a Buffer (works in browsers too). Only a high surrogate followed
 * by a low one is a 4-byte pair; a lone surrogate encodes as U+FFFD (3 bytes), as in TextEncoder.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Decodes one inbound client frame of `protocol` (default rtcgate.signal.v1). `frame` is whatever
 * the transport delivered.
 */
export function decodeClientFrame(frame: unknown, protocol?: typeof PROTOCOL): Decoded<ClientMessage>;
export function decodeClientFrame(frame: unknown, protocol: typeof PROTOCOL_V2): Decoded<ClientMessageV2>;
export function decodeClientFrame(
  frame: unknown,
  protocol: ProtocolName,
): Decoded<ClientMessage | ClientMessageV2>;
export function decodeClientFrame(
  frame: unknown,
  protocol: ProtocolName = PROTOCOL,
): Decoded<ClientMessage | ClientMessageV2> {
  const grammar = grammarOf(protocol);
  if (typeof frame !== 'string') return fail('UNSUPPORTED_FRAME');
  if (frame.length > MAX_FRAME_BYTES || utf8Length(frame) > MAX_FRAME_BYTES) {
    return fail('FRAME_TOO_LARGE');
  }
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return fail('BAD_JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('UNKNOWN_TYPE', 'Expected a JSON object.');
  }
  // A join names no peer: its refusal never carries `to`, so that a client can tell the answers
  // to its joins from errors about its peers (docs/protocol.md).
  const as =
    protocol === PROTOCOL_V2 && (value as { type?: unknown }).type !== 'join' ? readAs(value) : undefined;
  const type = (value as { type?: unknown }).type;
  const types: readonly string[] = grammar.types;
  if (typeof type !== 'string' || !types.includes(type)) {
    return withAs(
      fail(
        'UNKNOWN_TYPE',
        `Known types: ${types.join(', ')}.`,
        typeof type === 'string' ? type.slice(0, 64) : undefined,
      ),
      as,
    );
  }
  const parsed = grammar.client.safeParse(value);
  if (!parsed.success) return withAs(fail('INVALID_MESSAGE', describeIssues(parsed.error), type), as);
  return { ok: true, message: parsed.data };
}

/** The "as" of a v2 frame, if it is a well-formed peer id. */
function readAs(value: object): string | undefined {
  const as = (value as { as?: unknown }).as;
  return peerIdSchema.safeParse(as).success ? (as as string) : undefined;
}

function withAs<T>(decoded: Decoded<T>, as: string | undefined): Decoded<T> {
  return as === undefined || decoded.ok ? decoded : { ...decoded, as };
}

/**
 * Decodes one inbound server frame of `protocol` (default rtcgate.signal.v1); used by the gateway
 * and the browser library.
 */
export function decodeServerFrame(frame: unknown, protocol?: typeof PROTOCOL): Decoded<ServerMessage>;
export function decodeServerFrame(frame: unknown, protocol: typeof PROTOCOL_V2): Decoded<ServerMessageV2>;
export function decodeServerFrame(
  frame: unknown,
  protocol: ProtocolName,
): Decoded<ServerMessage | ServerMessageV2>;
export function decodeServerFrame(
  frame: unknown,
  protocol: ProtocolName = PROTOCOL,
): Decoded<ServerMessage | ServerMessageV2> {
  const grammar = grammarOf(protocol);
  if (typeof frame !== 'string') return fail('UNSUPPORTED_FRAME');
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return fail('BAD_JSON');
  }
  const parsed = grammar.server.safeParse(value);
  if (!parsed.success) return fail('INVALID_MESSAGE', describeIssues(parsed.error));
  return { ok: true, message: parsed.data };
}

/** Any message of either protocol version, in either direction. */
export type SignalMessage = ClientMessage | ServerMessage | ClientMessageV2 | ServerMessageV2;

export function encode(message: SignalMessage): string {
  return JSON.stringify(message);
}
