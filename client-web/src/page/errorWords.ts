/**
 * Every error code the browser library can surface, in words a person understands: the page's one
 * table of them. docs/errors.md is the reference (what each means exactly, what to do); this is the
 * short version shown next to a code when a connect or a channel fails. The Record types make the
 * compiler refuse a code without a sentence; internals.spec.ts checks the rendered table against
 * the library's code lists.
 */
import {
  RtcgateError,
  type ChannelCloseCode,
  type ClientErrorCode,
  type SessionEndCode,
  type SignalErrorCode,
} from '../lib/index.js';

/** Where a code comes from, in the words of the page's error list. */
export type CodeSource =
  'this page' | 'the signaling server' | 'the gateway, closing a channel' | 'the gateway';

/** Raised by the browser library itself (RtcgateError.code; client-web/src/lib/errors.ts). */
const CLIENT: Readonly<Record<ClientErrorCode, string>> = {
  SIGNALING_FAILED:
    'The page could not reach the signaling server, or the server stopped answering. Check that the server runs and that this page was loaded from it.',
  SIGNALING_REFUSED:
    'The signaling server answered but would not speak this page’s protocol version: the server and the page come from different releases.',
  SIGNALING_ERROR:
    'The signaling server refused to let this page join the room. The server’s own code, below, says why.',
  NO_GATEWAY:
    'Nobody serves this room: no gateway was in it, or joined it, before the page gave up. Pick the room a gateway is in, or start a gateway for this one.',
  NEGOTIATION_FAILED:
    'This browser could not use what the gateway sent during the offer/answer exchange (its session description or one of its candidates).',
  CONNECT_TIMEOUT:
    'The connection did not come up in time: finding a network path (ICE), the encrypted handshake (DTLS) or the channels (SCTP) were not done when the page gave up. A firewall that blocks UDP is the usual cause.',
  CONNECTION_FAILED:
    'The browser gave up on the connection: no network path to the gateway worked (ICE), or the encrypted handshake (DTLS) failed.',
  CHANNEL_TIMEOUT: 'A data channel did not open, or an echo did not come back, within the time allowed.',
  CLOSED:
    'It had already closed: a channel closed before it opened, or the signaling connection went away while the page was connecting.',
};

/** Sent by the signaling server (SIGNALING_ERROR's signalCode; server/src/protocol/errors.ts). */
const SIGNAL: Readonly<Record<SignalErrorCode, string>> = {
  BAD_JSON: 'A message to the signaling server was not valid JSON, so the server could not read it.',
  UNSUPPORTED_FRAME:
    'A message to the signaling server was not one JSON text message (binary data, or the wrong kind of Socket.IO event).',
  FRAME_TOO_LARGE: 'A message to the signaling server was larger than 64 KiB, so the server refused it.',
  UNKNOWN_TYPE:
    'The signaling server did not recognise the kind of message it was sent: the client speaks another protocol version.',
  INVALID_MESSAGE:
    'The signaling server refused a message with wrong or missing fields — for example a room name longer than 64 characters or with characters other than letters, digits, “.”, “_” and “-”.',
  NOT_JOINED: 'A message was sent to the signaling server before joining a room; a client must join first.',
  ALREADY_JOINED: 'This signaling connection is already in a room; one connection can be in one room only.',
  UNKNOWN_PEER: 'A message was addressed to a peer that is not, or is no longer, in the room.',
  ROOM_FULL: 'The room already holds as many peers as the server allows. Try another room, or later.',
  TOO_MANY_PEERS: 'This shared signaling connection already holds as many peers as the server allows.',
  SUBPROTOCOL_REQUIRED:
    'The signaling server does not speak any protocol version the client offered: they come from different releases.',
};

/** Why the gateway closed one channel (BridgeChannel.closed; server/src/protocol/channelControl.ts). */
const CHANNEL: Readonly<Record<ChannelCloseCode, string>> = {
  NO_ROUTE:
    'The gateway has nowhere to send this channel: no route matches its label. Use a label the gateway is set up for, such as “echo”.',
  BACKEND_UNREACHABLE:
    'The gateway could not reach the service this channel is routed to: it refused, the address is wrong, or it did not answer in time.',
  BACKEND_CLOSED:
    'The service behind this channel ended the conversation. Everything it sent before was delivered.',
  BACKEND_ERROR:
    'The connection to the service behind this channel failed, or the service sent something the channel cannot carry.',
  CREDIT_EXCEEDED:
    'This page sent more than the gateway agreed to hold for a slow service, so the gateway closed the channel.',
  GATEWAY_SHUTDOWN: 'The gateway is shutting down. Connect again once it is back, or to another gateway.',
};

/** Why the gateway ended the whole session (the reason of its bye; channelControl.ts). */
const SESSION: Readonly<Record<SessionEndCode, string>> = {
  SESSION_STALLED:
    'The gateway stopped hearing from this browser for a long time while almost nothing got through, so it ended the session. Connect again.',
};

export interface CodeWords {
  code: string;
  source: CodeSource;
  words: string;
}

/** The whole table, in the order the glossary shows it. */
export const ERROR_WORDS: readonly CodeWords[] = [
  ...Object.entries(CLIENT).map(([code, words]) => ({ code, words, source: 'this page' as const })),
  ...Object.entries(SIGNAL).map(([code, words]) => ({
    code,
    words,
    source: 'the signaling server' as const,
  })),
  ...Object.entries(CHANNEL).map(([code, words]) => ({
    code,
    words,
    source: 'the gateway, closing a channel' as const,
  })),
  ...Object.entries(SESSION).map(([code, words]) => ({ code, words, source: 'the gateway' as const })),
];

const BY_CODE = new Map(ERROR_WORDS.map((w) => [w.code, w]));

export function wordsFor(code: string): string | undefined {
  return BY_CODE.get(code)?.words;
}

/** An error as the page lists it: the code, the library's detail, and the server's code if any. */
export interface PageError {
  code: string | null;
  detail: string;
  signalCode?: string;
}

export function pageErrorOf(err: unknown): PageError {
  if (err instanceof RtcgateError) {
    const prefix = `${err.code}: `;
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return err.signalCode
      ? { code: err.code, detail, signalCode: err.signalCode }
      : { code: err.code, detail };
  }
  return { code: null, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** The first known code a close reason names (a bye's reason starts with it, e.g. SESSION_STALLED). */
export function codeInReason(reason: string): string | undefined {
  return reason.match(/\b[A-Z][A-Z_]{3,}\b/g)?.find((c) => BY_CODE.has(c));
}
