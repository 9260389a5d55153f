/**
 * rtcgate.ctl.v1: the channel-control protocol between the browser library and the gateway,
 * carried on one DataChannel per session (label "rtcgate.ctl"), JSON text messages. It does three
 * things the DataChannel API cannot: a credit window per channel, so a slow reader on either side
 * slows the sender instead of growing a queue; the reason the gateway closed a channel; and a
 * ping the browser answers, so the gateway can tell an association that stopped delivering.
 * docs/protocol.md, "Channel control", is the description; this file is the definition.
 */

export const CONTROL_LABEL = 'rtcgate.ctl';
export const CONTROL_PROTOCOL = 'rtcgate.ctl.v1';

/** A credit of this size means "no limit": the gateway grants it on routes it does not meter. */
export const UNLIMITED_CREDIT = Number.MAX_SAFE_INTEGER;

/** Why the gateway closed a channel; sent as a `reason` just before it closes the channel. */
export const CHANNEL_CLOSE_CODES = [
  'NO_ROUTE',
  'BACKEND_UNREACHABLE',
  'BACKEND_CLOSED',
  'BACKEND_ERROR',
  'CREDIT_EXCEEDED',
  'GATEWAY_SHUTDOWN',
] as const;
export type ChannelCloseCode = (typeof CHANNEL_CLOSE_CODES)[number];

/**
 * Why the gateway ended a whole session: the start of its signaling `bye` reason ("CODE: detail").
 * SESSION_STALLED: a browser that answered the control channel's pings stopped answering.
 */
export const SESSION_END_CODES = ['SESSION_STALLED'] as const;
export type SessionEndCode = (typeof SESSION_END_CODES)[number];

export type ControlMessage =
  /**
   * The receiver of this message may have sent, in all, up to `upTo` bytes of payload on the
   * channel with SCTP stream `id` (UTF-8 bytes of text, bytes of binary). Grants only grow; a
   * smaller one than before is ignored. The first grant a browser sends for a channel asks the
   * gateway to meter that channel both ways.
   */
  | { t: 'credit'; id: number; upTo: number }
  /** The gateway is about to close channel `id`, for this reason. */
  | { t: 'reason'; id: number; code: ChannelCloseCode; message: string }
  /**
   * The browser closes channel `id` (labelled `label`) after `sent` bytes of payload in all: once
   * the gateway has received that many it treats the channel as closed by the browser, whether or
   * not the SCTP stream reset has arrived.
   */
  | { t: 'close'; id: number; label: string; sent: number }
  /** Gateway → browser: answer with a `pong` carrying the same `n`, at once. */
  | { t: 'ping'; n: number }
  /** Browser → gateway: the answer to `ping` number `n`. */
  | { t: 'pong'; n: number };

export type DecodedControl = { ok: true; message: ControlMessage } | { ok: false; error: string };

const MAX_CONTROL_TEXT = 4096;

export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message);
}

export function isChannelCloseCode(value: unknown): value is ChannelCloseCode {
  return typeof value === 'string' && (CHANNEL_CLOSE_CODES as readonly string[]).includes(value);
}

function isStreamId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65534;
}

/** Parses one control message; anything malformed is an error that names what is wrong. */
export function decodeControl(data: unknown): DecodedControl {
  if (typeof data !== 'string') return { ok: false, error: 'control messages are text' };
  if (data.length > MAX_CONTROL_TEXT) return { ok: false, error: `over ${MAX_CONTROL_TEXT} characters` };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, error: 'not an object' };
  const m = value as Record<string, unknown>;
  if (m.t === 'ping' || m.t === 'pong') {
    if (!Number.isSafeInteger(m.n) || (m.n as number) < 0) return { ok: false, error: '"n" must be a count' };
    return { ok: true, message: { t: m.t, n: m.n as number } };
  }
  if (!isStreamId(m.id)) return { ok: false, error: '"id" must be a stream id (0 to 65534)' };
  switch (m.t) {
    case 'credit':
      if (!Number.isSafeInteger(m.upTo) || (m.upTo as number) < 0) {
        return { ok: false, error: '"upTo" must be a byte count' };
      }
      return { ok: true, message: { t: 'credit', id: m.id, upTo: m.upTo as number } };
    case 'reason':
      if (!isChannelCloseCode(m.code)) {
        return { ok: false, error: `unknown close code ${JSON.stringify(m.code) ?? 'undefined'}` };
      }
      if (typeof m.message !== 'string') return { ok: false, error: '"message" must be text' };
      return { ok: true, message: { t: 'reason', id: m.id, code: m.code, message: m.message } };
    case 'close':
      if (typeof m.label !== 'string') return { ok: false, error: '"label" must be text' };
      if (!Number.isSafeInteger(m.sent) || (m.sent as number) < 0) {
        return { ok: false, error: '"sent" must be a byte count' };
      }
      return { ok: true, message: { t: 'close', id: m.id, label: m.label, sent: m.sent as number } };
    default:
      return { ok: false, error: `unknown type ${JSON.stringify(m.t)}` };
  }
}
