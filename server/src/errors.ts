/**
 * One error type for every failure a user or agent can act on. `code` is stable (REST bodies, MCP
 * results, `speech.error` frames); `message` says what failed and what to do, and never holds a key or
 * an upstream body.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'text_too_long'
  | 'unknown_voice'
  | 'unknown_model'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'upstream_unauthorized'
  | 'quota_exceeded'
  | 'upstream_busy'
  | 'upstream_error'
  | 'upstream_interrupted'
  | 'engine_crashed'
  | 'audio_too_long'
  | 'queue_full'
  | 'shutting_down'
  | 'cancelled'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  text_too_long: 400,
  unknown_voice: 404,
  unknown_model: 404,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  upstream_unauthorized: 502,
  quota_exceeded: 402,
  upstream_busy: 503,
  upstream_error: 502,
  upstream_interrupted: 502,
  engine_crashed: 503,
  audio_too_long: 400,
  queue_full: 429,
  shutting_down: 503,
  cancelled: 499,
  internal: 500,
};

export class EarshotError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  /** Seconds after which a retry may succeed, when known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'EarshotError';
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Wraps anything thrown into an EarshotError, keeping details out of the message for unknown failures. */
export function toEarshotError(error: unknown): EarshotError {
  if (error instanceof EarshotError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new EarshotError('cancelled', 'The request was cancelled.', { cause: error });
  }
  return new EarshotError('internal', 'Something went wrong inside Earshot; the server log has details.', {
    cause: error,
  });
}
