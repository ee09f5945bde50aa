/**
 * Group commit for the writes at a speech's end (the history row, the budget settle). Each of them used to be
 * its own BEGIN IMMEDIATE … COMMIT, and under load their fixed cost dominated: a transaction takes the write
 * lock, and every transaction that touches the history makes FTS5 write a new index segment (merged later).
 * Here every write requested while a batch is open runs in one transaction, each inside its own SAVEPOINT so
 * that a write failing on its own (a constraint, a bad input) is undone and rejects only its own promise.
 *
 * A write's promise settles only after the COMMIT, so a caller told "done" has exactly the durability a write
 * of its own would have had, and whatever it reads next sees the write. A batch that fails as a whole (BEGIN
 * finds the file locked past the busy timeout, COMMIT cannot write: disk full, I/O error, or SQLite ends the
 * transaction itself after an error) rejects every write in it, each with the error its own transaction would
 * have got; nothing of it is kept.
 *
 * The batch runs synchronously when it closes: no transaction stays open across event-loop turns, so the
 * synchronous transactions elsewhere in the store (the budget reservation, settings) never wait on a batch.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { StoreError } from '../errors.js';

export interface GroupCommitOptions {
  /**
   * How long a batch stays open after its first write, in ms. 0 (default): until `setImmediate`, so every
   * write requested in the same event-loop turn — every I/O callback of the same poll phase — shares one
   * commit, and a write waits at most one turn longer than on its own.
   *
   * Why no timed window by default, measured (main-thread CPU; figures in the commit that added this file):
   * a write costs ~118 µs alone, ~96 with 2 per commit, ~71 with 4, ~59 with 10, ~46 with 40 — most of the
   * saving comes with the first few writes per commit. 200 speeches ending within 0.5 s on an event loop 85%
   * busy gave ~3.5 writes per commit at setImmediate, ~7–8.5 with a 2 ms window, ~9–11 with 5 ms: about
   * 15 µs less per write (of ~118 before batching), for 4–6 ms more on every write's answer (a speech's
   * result waits for its history row). Spread over 2 s: 1.9, 2.9 and 3.4; at light load ~1.8, 2.0 and 2.2.
   * The batch grows with load by itself (a busy turn runs many I/O callbacks); a window mostly adds latency.
   */
  readonly windowMs?: number;
  /**
   * Asked as a batch is about to commit: a promise makes the batch wait for it (writes requested meanwhile join
   * the batch). The store passes the checkpointer's `holdWrites`, which keeps the log bounded on a slow disk.
   */
  readonly holdBack?: () => Promise<void> | undefined;
}

interface Queued {
  /** What the write does, for its error message ("save history"). */
  readonly what: string;
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: StoreError) => void;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export class GroupCommit {
  /** Batches committed: a test (or a benchmark) compares it with the writes requested. */
  commits = 0;
  private queued: Queued[] = [];
  /** Cancels the scheduled flush of the open batch; undefined when no batch is open. */
  private cancelFlush: (() => void) | undefined;
  private closed = false;
  private readonly windowMs: number;
  private readonly holdBack: (() => Promise<void> | undefined) | undefined;

  /**
   * `mapError` turns a SQLite error into the StoreError a caller acts on, given what the write was doing;
   * the store passes the same mapping its single transactions use (it also notes a damaged file).
   */
  constructor(
    private readonly db: DatabaseSync,
    private readonly mapError: (error: unknown, what: string) => StoreError,
    options: GroupCommitOptions = {},
  ) {
    const windowMs = options.windowMs ?? 0;
    if (!Number.isFinite(windowMs) || windowMs < 0)
      throw new RangeError(`windowMs must be a number of milliseconds ≥ 0, not ${windowMs}`);
    this.windowMs = windowMs;
    this.holdBack = options.holdBack;
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.queued.length;
  }

  /**
   * Queues `work` (statements only, no transaction of its own) for the open batch, opening one if there is
   * none; resolves to what it returned once its batch committed.
   */
  write<T>(what: string, work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(this.mapError(new Error('the store is closed'), what));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ what, work, resolve: resolve as (value: unknown) => void, reject });
      this.cancelFlush ??= this.scheduleFlush();
    });
  }

  /** Runs every queued write now, in one transaction. */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const writes = this.queued;
    this.queued = [];
    if (writes.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.runAll(writes);
    } catch (error) {
      // The batch as a whole failed (BEGIN, COMMIT, or a failure that ended the transaction): nothing of it
      // was kept, so nobody may be told otherwise.
      if (this.db.isOpen && this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const write of writes) write.reject(this.mapError(error, write.what));
      return;
    }
    this.commits++;
    writes.forEach((write, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(this.mapError(outcome.error, write.what));
    });
  }

  /** Flushes what is queued, then refuses new writes (before the database closes). */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private scheduleFlush(): () => void {
    if (this.windowMs > 0) {
      const timer = setTimeout(() => this.flushUnlessHeld(), this.windowMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.flushUnlessHeld());
    return () => clearImmediate(immediate);
  }

  /** Flushes now, or once `holdBack`'s promise settles; the batch stays open meanwhile (`flush` ends the wait). */
  private flushUnlessHeld(): void {
    const hold = this.holdBack?.();
    if (hold === undefined) return this.flush();
    let waiting = true;
    this.cancelFlush = () => {
      waiting = false;
    };
    const flushIfStillWaiting = () => {
      if (waiting) this.flush();
    };
    hold.then(flushIfStillWaiting, flushIfStillWaiting);
  }

  /** BEGIN, each write in its savepoint, COMMIT; throws when the batch as a whole failed. */
  private runAll(writes: readonly Queued[]): Outcome[] {
    this.db.exec('BEGIN IMMEDIATE');
    const outcomes: Outcome[] = [];
    for (const write of writes) {
      this.db.exec('SAVEPOINT write');
      try {
        const value = write.work();
        this.db.exec('RELEASE write');
        outcomes.push({ ok: true, value });
      } catch (error) {
        // SQLite ends the whole transaction itself on some errors (SQLITE_FULL, IOERR, NOMEM may): then the
        // writes before this one are gone too, and the batch has failed.
        if (!this.db.isTransaction) throw error;
        this.db.exec('ROLLBACK TO write');
        this.db.exec('RELEASE write');
        outcomes.push({ ok: false, error });
      }
    }
    this.db.exec('COMMIT');
    return outcomes;
  }
}
