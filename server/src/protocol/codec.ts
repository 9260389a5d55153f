/**
 * Frame <-> message for both transports. The same function judges a ws text frame and a Socket.IO
 * "signal" payload, so the two transports cannot drift apart.
 */
import type { z } from 'zod';
import { SIGNAL_ERROR_TEXT, type SignalErrorCode } from './errors.js';
import {
  CLIENT_MESSAGE_TYPES,
  MAX_FRAME_BYTES,
  clientMessageSchema,
  serverMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';

export type Decoded<T> =
  { ok: true; message: T } | { ok: false; code: SignalErrorCode; message: string; ref?: string };

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

/** Decodes one inbound client frame. `frame` is whatever the transport delivered. */
export function decodeClientFrame(frame: unknown): Decoded<ClientMessage> {
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
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(
      'UNKNOWN_TYPE',
      `Known types: ${CLIENT_MESSAGE_TYPES.join(', ')}.`,
      typeof type === 'string' ? type.slice(0, 64) : undefined,
    );
  }
  const parsed = clientMessageSchema.safeParse(value);
  if (!parsed.success) return fail('INVALID_MESSAGE', describeIssues(parsed.error), type);
  return { ok: true, message: parsed.data };
}

/** Decodes one inbound server frame (used by the gateway and the browser library). */
export function decodeServerFrame(frame: unknown): Decoded<ServerMessage> {
  if (typeof frame !== 'string') return fail('UNSUPPORTED_FRAME');
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return fail('BAD_JSON');
  }
  const parsed = serverMessageSchema.safeParse(value);
  if (!parsed.success) return fail('INVALID_MESSAGE', describeIssues(parsed.error));
  return { ok: true, message: parsed.data };
}

export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
