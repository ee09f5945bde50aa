/**
 * Failures of the store that callers act on, each its own type. Phase-2 wiring maps `StoreUnavailableError`
 * and `StoreFullError` to the `store_unavailable` refusal (fail closed before spending), `StoreCorruptError`
 * to a refusal to start, `AudioMissingError` to 404/410 and `StoreInputError` to 400.
 */
export type StoreErrorCode =
  'store_unavailable' | 'store_full' | 'store_corrupt' | 'audio_missing' | 'audio_not_kept' | 'invalid_input';

export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

/** The store cannot be reached or written right now (I/O error, locked, network, missing table). */
export class StoreUnavailableError extends StoreError {
  readonly code = 'store_unavailable' as const;
  override readonly name = 'StoreUnavailableError';
}

/** The disk (or the database's size cap) is full: nothing more can be recorded. */
export class StoreFullError extends StoreError {
  readonly code = 'store_full' as const;
  override readonly name = 'StoreFullError';
}

/** The database file is damaged; `path` names it and the message says how to recover. */
export class StoreCorruptError extends StoreError {
  readonly code = 'store_corrupt' as const;
  override readonly name = 'StoreCorruptError';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    // One line, whatever SQLite's report holds: it is printed as the one line a refused start shows.
    super(
      `The Earshot database ${path} is damaged (${detail.replace(/\s+/g, ' ').trim()}). Stop every Earshot process using it, move the ` +
        `file aside (with its -wal and -shm files), and start again: Earshot starts with an empty database ` +
        `(history, settings and usage start over; run "earshot doctor" to check).`,
      options,
    );
  }
}

/** A history item's audio is gone or shorter than recorded: answer 404/410, never stream a short body. */
export class AudioMissingError extends StoreError {
  readonly code = 'audio_missing' as const;
  override readonly name = 'AudioMissingError';
  constructor(
    readonly reason: 'no_item' | 'no_audio' | 'missing' | 'short',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An audio sink did not keep its clip: aborted, over its size cap, or the store fell too far behind. */
export class AudioNotKeptError extends StoreError {
  readonly code = 'audio_not_kept' as const;
  override readonly name = 'AudioNotKeptError';
  constructor(
    readonly reason: 'aborted' | 'too_large' | 'too_slow',
    message: string,
  ) {
    super(message);
  }
}

/** A user name, history id or cursor the store refuses (it would never match, or could escape its folder). */
export class StoreInputError extends StoreError {
  readonly code = 'invalid_input' as const;
  override readonly name = 'StoreInputError';
}

const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Maps a file-system error to the store error a caller acts on (other StoreErrors pass through). */
export function fileError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code && FULL_ERRNO.has(code)) {
    return new StoreFullError(`The disk is full: could not ${what} (${code}). Free some space.`, {
      cause: error,
    });
  }
  return new StoreUnavailableError(`Could not ${what}: ${describe(error)}.`, { cause: error });
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
