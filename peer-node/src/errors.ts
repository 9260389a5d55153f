/** Errors the gateway raises, each with a stable code (docs/errors.md). */
export const GATEWAY_ERROR_CODES = [
  'CHANNEL_NOT_OPEN',
  'MESSAGE_TOO_LARGE',
  'SESSION_CLOSED',
  'BAD_CHANNEL_OPTIONS',
  'BAD_REMOTE_DESCRIPTION',
  'NATIVE_ERROR',
  'SIGNALING_FAILED',
  'SIGNALING_REFUSED',
  'BAD_ROUTE',
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

/**
 * Runs one emit for listeners the gateway does not own. Events are emitted from node-datachannel
 * callbacks, where an exception aborts the process (N-API cannot rethrow it), and in the middle of
 * cleanup, which must finish: a throwing listener is logged, never propagated.
 */
export function emitSafely(
  log: { error(m: string, c?: Record<string, unknown>): void },
  what: string,
  emit: () => void,
): void {
  try {
    emit();
  } catch (err) {
    log.error(`a "${what}" listener threw`, { error: messageOf(err) });
  }
}
