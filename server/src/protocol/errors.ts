/**
 * Every error code that crosses the signaling wire, with the sentence a person reads.
 * docs/errors.md is the same table; test/errors.test.ts keeps the two in step.
 */
export const SIGNAL_ERROR_CODES = [
  'BAD_JSON',
  'UNSUPPORTED_FRAME',
  'FRAME_TOO_LARGE',
  'UNKNOWN_TYPE',
  'INVALID_MESSAGE',
  'NOT_JOINED',
  'ALREADY_JOINED',
  'UNKNOWN_PEER',
  'ROOM_FULL',
  'TOO_MANY_PEERS',
  'SUBPROTOCOL_REQUIRED',
] as const;

export type SignalErrorCode = (typeof SIGNAL_ERROR_CODES)[number];

export const SIGNAL_ERROR_TEXT: Readonly<Record<SignalErrorCode, string>> = {
  BAD_JSON: 'The frame is not valid JSON.',
  UNSUPPORTED_FRAME: 'Only text frames carrying one JSON message are accepted (no binary frames).',
  FRAME_TOO_LARGE: 'The frame is larger than 65536 bytes.',
  UNKNOWN_TYPE: 'The message has no "type" or a type this protocol version does not define.',
  INVALID_MESSAGE: 'The message has a known type but missing, extra or wrongly typed fields.',
  NOT_JOINED: 'Only "join" is accepted before the connection has joined a room.',
  ALREADY_JOINED: 'This connection has already joined a room; open a new connection for another.',
  UNKNOWN_PEER: 'The "to" peer id is not another peer in your room.',
  ROOM_FULL: 'The room already holds the maximum number of peers.',
  TOO_MANY_PEERS: 'This connection already holds the maximum number of peers.',
  SUBPROTOCOL_REQUIRED:
    'The client did not offer a subprotocol this server speaks: rtcgate.signal.v2 or rtcgate.signal.v1.',
};

export function isSignalErrorCode(value: unknown): value is SignalErrorCode {
  return typeof value === 'string' && (SIGNAL_ERROR_CODES as readonly string[]).includes(value);
}
