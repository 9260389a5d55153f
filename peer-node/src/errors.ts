/** Errors the gateway raises, each with a stable code (docs/errors.md). */
export const GATEWAY_ERROR_CODES = [
  'CHANNEL_NOT_OPEN',
  'MESSAGE_TOO_LARGE',
  'SESSION_CLOSED',
  'BAD_REMOTE_DESCRIPTION',
  'BAD_CANDIDATE',
  'NATIVE_ERROR',
  'SIGNALING_FAILED',
  'SIGNALING_REFUSED',
] as const;
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
