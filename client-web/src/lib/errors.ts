/** Errors the browser library raises, each with a stable code (docs/errors.md). */
export const CLIENT_ERROR_CODES = [
  'SIGNALING_FAILED',
  'SIGNALING_REFUSED',
  'SIGNALING_ERROR',
  'NO_GATEWAY',
  'NEGOTIATION_FAILED',
  'CONNECT_TIMEOUT',
  'CONNECTION_FAILED',
  'CHANNEL_TIMEOUT',
  'CLOSED',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export class RtcgateError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** For SIGNALING_ERROR: the server's wire error code. */
    readonly signalCode?: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'RtcgateError';
  }
}
