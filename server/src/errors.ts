import {
  AudioMissingError,
  StoreCorruptError,
  StoreError,
  StoreFullError,
  StoreInputError,
} from './storage/errors.js';

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
  | 'unknown_request'
  | 'unknown_grant'
  | 'audio_incomplete'
  | 'upstream_unauthorized'
  | 'quota_exceeded'
  | 'upstream_busy'
  | 'upstream_error'
  | 'upstream_interrupted'
  | 'engine_crashed'
  | 'audio_too_long'
  | 'queue_full'
  | 'shutting_down'
  | 'store_unavailable'
  | 'cancelled'
  | 'input_dirs_off'
  | 'input_outside_allowed'
  | 'input_not_found'
  | 'input_too_large'
  | 'input_not_audio'
  | 'language_unsupported'
  | 'format_unsupported'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  text_too_long: 400,
  unknown_voice: 404,
  unknown_model: 404,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_request: 404,
  unknown_grant: 404,
  audio_incomplete: 410,
  upstream_unauthorized: 502,
  quota_exceeded: 402,
  upstream_busy: 503,
  upstream_error: 502,
  upstream_interrupted: 502,
  engine_crashed: 503,
  audio_too_long: 400,
  queue_full: 429,
  shutting_down: 503,
  store_unavailable: 503,
  cancelled: 499,
  input_dirs_off: 403,
  input_outside_allowed: 403,
  input_not_found: 404,
  input_too_large: 413,
  input_not_audio: 415,
  language_unsupported: 400,
  format_unsupported: 400,
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
  if (error instanceof StoreError) return storeError(error);
  if (error instanceof Error && error.name === 'AbortError') {
    return new EarshotError('cancelled', 'The request was cancelled.', { cause: error });
  }
  const storageProblem = STORAGE_ERRNO[(error as NodeJS.ErrnoException | undefined)?.code ?? ''];
  if (storageProblem) {
    return new EarshotError(
      'store_unavailable',
      `Earshot could not save this: ${storageProblem}. Nothing was changed; free space or fix the data folder, then retry.`,
      { cause: error, retryAfterSeconds: 30 },
    );
  }
  return new EarshotError('internal', 'Something went wrong inside Earshot; the server log has details.', {
    cause: error,
  });
}

/**
 * What a store failure means to a client. The store's own message names files and tables: it stays in the
 * log (the cause); clients get what to do.
 */
function storeError(error: StoreError): EarshotError {
  const cause = { cause: error };
  if (error instanceof AudioMissingError) {
    return error.reason === 'short'
      ? new EarshotError(
          'audio_incomplete',
          'The stored audio of this item is incomplete (its file was damaged), so it is not served. Delete the item.',
          cause,
        )
      : new EarshotError('not_found', 'No stored audio for this item.', cause);
  }
  if (error instanceof StoreInputError) return new EarshotError('invalid_input', error.message, cause);
  if (error instanceof StoreCorruptError) {
    return new EarshotError(
      'store_unavailable',
      "Earshot's database is damaged. The operator must stop Earshot, move the database file aside (the " +
        'server log names it) and start again; "earshot doctor" checks it.',
      cause,
    );
  }
  if (error instanceof StoreFullError) {
    return new EarshotError(
      'store_unavailable',
      'Earshot cannot record anything: its disk (or database) is full. Free some space, then retry.',
      { ...cause, retryAfterSeconds: 30 },
    );
  }
  return new EarshotError(
    'store_unavailable',
    "Earshot's store is unavailable right now; retry shortly (the server log has the reason).",
    { ...cause, retryAfterSeconds: 5 },
  );
}

/**
 * File-system failures only storage meets, which the operator can fix (the log names the file). Permission
 * errors are left out: tools read user files too, where they mean something else.
 */
const STORAGE_ERRNO: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the data folder is on a read-only file system',
  EIO: 'the disk reported an I/O error',
};
