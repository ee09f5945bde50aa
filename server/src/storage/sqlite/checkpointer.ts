/**
 * WAL checkpoints off the event loop. By default SQLite checkpoints on the connection that commits, once the
 * write-ahead log holds 1,000 pages: that commit then copies every page back into the database file and fsyncs
 * it, 14–17 ms for ~1,900 pages on this machine's disk, during which no audio chunk reaches any player. Here a
 * worker thread with a connection of its own runs a PASSIVE checkpoint (it never waits for readers or writers)
 * whenever the main thread, looking at the log, finds enough pages waiting; the store's connection keeps SQLite's
 * own checkpoint only as a backstop, at four times the threshold. If the worker stops, the store's connection
 * checkpoints as SQLite does by default again.
 *
 * Keeping the log bounded. The log starts over from its beginning only when a write begins with every frame copied
 * back. A worker copying back while the event loop keeps writing never gets there: its checkpoint copies the frames
 * that were there when it began, and the writes made meanwhile wait for the next one. While it runs it also holds
 * SQLite's checkpoint lock, so the committing connection's own checkpoint (the backstop) cannot run either. On a
 * loaded disk a checkpoint's fsync takes 30–200 ms, the event loop commits a write every fraction of a millisecond
 * meanwhile, and the log grew by every page written: 11 MB for 300 history writes back to back (measured, with 2 CPU
 * loops and 3 `dd conv=fsync` loops beside it). So writes wait instead of the log: once the log holds HOLD_FACTOR ×
 * the threshold with frames not yet copied, the group commit (`holdWrites`) keeps its batch until a worker
 * checkpoint begun after it has run. Held writes add no frames, so that checkpoint copies every one, and the held
 * batch's transaction starts the log over. The log stays under the hold mark plus one batch, however slow the disk;
 * what waits is the writes at a speech's end, never the audio on the event loop. A held batch waits for at most two
 * checkpoints (the one running and one after it): a reader that pins old frames (another process, the integrity
 * check) keeps them from being copied, and writes then go on, one checkpoint apart, rather than stall.
 *
 * PASSIVE, at SQLite's own threshold, is what the store's connection did itself, only on another thread: the log
 * keeps its size, and a writer reuses it from the start once every frame is copied back, as before. Never TRUNCATE
 * or RESTART here: a log shrunk at moments of its own gives a full disk room back, and the speech booking and
 * readiness probe that should fail on it then pass (a worker that did so failed the chaos suite's full-disk
 * scenario in an earlier round).
 *
 * The main thread learns how many pages wait from the wal-index header in the `-shm` file, a documented format
 * (https://www.sqlite.org/walformat.html §2.2): `mxFrame` (the last valid frame, offset 16) and `nBackfill` (frames
 * already copied back, offset 96), in the host's byte order. One 100-byte read, a few microseconds, at each group
 * commit, every 32 other store calls and every quarter second; a torn read only makes one checkpoint or one hold
 * come a write earlier or later.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';

/** SQLite's own default: a checkpoint once the log holds this many pages (4 MB at 4 KiB pages). */
export const DEFAULT_CHECKPOINT_PAGES = 1000;
/** The store's connection checkpoints itself once the log holds this many times the worker's threshold. */
export const BACKSTOP_FACTOR = 4;
/** Group commits wait for a worker checkpoint once the log holds this many times its threshold (see above). */
export const HOLD_FACTOR = 2;
/** How often the main thread looks at the log when no store call made it look. */
export const DEFAULT_CHECKPOINT_EVERY_MS = 250;
/**
 * Store calls between two looks at the log: a burst (an import, thousands of writes back to back) would otherwise
 * grow the log by a quarter second of writes (~16,000 pages measured) before the next look. ~10 pages per write: a
 * look every ~300 pages at most.
 */
export const CALLS_PER_LOOK = 32;

export interface CheckpointerOptions {
  /** The database file; the worker opens its own connection to it. */
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Pages waiting in the log that make the worker checkpoint. @default DEFAULT_CHECKPOINT_PAGES */
  readonly pages?: number;
  /** @default DEFAULT_CHECKPOINT_EVERY_MS */
  readonly everyMs?: number;
  /**
   * Tests only: the worker waits before each checkpoint while element 0 is 1 (`Atomics.store` 0 and
   * `Atomics.notify` let it go), so that a checkpoint can be caught running.
   */
  readonly pause?: Int32Array;
}

/** What one checkpoint did (the columns of `PRAGMA wal_checkpoint`). */
export interface CheckpointResult {
  /** Frames in the log when it ran. */
  readonly log: number;
  /** Frames copied back into the database by the end of it. */
  readonly checkpointed: number;
  readonly ms: number;
}

export interface Checkpointer {
  /** Resolves once the worker has its connection open (tests wait on it). */
  readonly ready: Promise<void>;
  /**
   * Counts one call on the store's connection (a write or a read: telling them apart is not worth it); every
   * CALLS_PER_LOOK of them the main thread looks at the log at once rather than at its next interval.
   */
  storeCalled(): void;
  /**
   * Before a group commit: undefined when the batch may commit now; a promise when the log holds HOLD_FACTOR × the
   * threshold with frames not yet copied back, settling (never rejecting) once a worker checkpoint begun after this
   * call has run, or the worker has stopped.
   */
  holdWrites(): Promise<void> | undefined;
  /** Batches `holdWrites` has held. */
  readonly holds: number;
  /** Holds that have ended, and how long their batches waited in all (ms). */
  readonly heldTime: { readonly batches: number; readonly ms: number };
  /** Checkpoints the worker has run. */
  readonly runs: number;
  /** Resolves with the next checkpoint the worker runs (tests wait on it rather than on time). */
  next(): Promise<CheckpointResult>;
  /**
   * Checkpoints that could not run, by why: `busy`, another connection was checkpointing; `full`, the disk had no
   * room for the pages to copy back. The next look tries again either way.
   */
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** Resolves at the next checkpoint that could not run, with why (tests wait on it rather than on time). */
  nextSkip(): Promise<SkipReason>;
  /**
   * Settles when the worker stops on its own (it failed: the store's connection has gone back to checkpointing
   * itself) with the reason; never settles for a stop asked by `stop()`.
   */
  readonly failed: Promise<Error>;
  /** Stops the worker and closes its connection (before the store's own connection closes). */
  stop(): Promise<void>;
}

/** Why a checkpoint could not run (see Checkpointer.skipped). */
export type SkipReason = 'busy' | 'full';

type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'skipped'; readonly reason: SkipReason }
  | { readonly kind: 'checkpoint'; readonly result: CheckpointResult }
  | { readonly kind: 'failed'; readonly message: string };

// CommonJS, evaluated by the worker (no file to ship beside the bundle). It checkpoints when asked and says how it
// went. Two outcomes are skipped, reported and tried again at a later request:
// - another connection checkpointing: SQLite says so in the row (busy 1, log and checkpointed -1), never by
//   throwing, since its checkpoint opcode turns SQLITE_BUSY into that row (SQLITE_LOCKED comes only from a
//   connection inside a transaction, which this one never opens);
// - a full disk: copying pages back may grow the database file, and SQLite throws SQLITE_FULL. The same connection
//   checkpoints again once there is room (measured), so a disk that fills for a while must not end the worker and
//   put checkpoints back on the event loop for the rest of the process's life.
// Anything else thrown is a real failure: it is reported and ends the worker, and the main thread turns checkpoints
// back on for its own connection.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { DatabaseSync } = require('node:sqlite');
  const { path, busyTimeoutMs, pause } = workerData;
  const SQLITE_FULL = 13;
  let db;
  let checkpoint = () => {};
  function stop() {
    checkpoint = () => {};
    try { db?.close(); } catch {}
  }
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = ' + busyTimeoutMs);
    db.exec('PRAGMA wal_autocheckpoint = 0');
    const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ kind: 'ready' });
    checkpoint = () => {
      try {
        if (pause) Atomics.wait(pause, 0, 1);
        const started = performance.now();
        const row = statement.get();
        // -1: it could not run (the store's connection, or another process, was checkpointing): a later request.
        if (row.log < 0 || row.checkpointed < 0) return parentPort.postMessage({ kind: 'skipped', reason: 'busy' });
        parentPort.postMessage({
          kind: 'checkpoint',
          result: { log: row.log, checkpointed: row.checkpointed, ms: performance.now() - started },
        });
      } catch (error) {
        if ((error?.errcode & 0xff) === SQLITE_FULL) return parentPort.postMessage({ kind: 'skipped', reason: 'full' });
        parentPort.postMessage({ kind: 'failed', message: String((error && error.message) || error) });
        stop();
      }
    };
  } catch (error) {
    parentPort.postMessage({ kind: 'failed', message: String((error && error.message) || error) });
    stop();
  }
  parentPort.on('message', (message) => {
    if (message === 'checkpoint') return checkpoint();
    if (message !== 'stop') return;
    stop();
    parentPort.close();
  });
`;

/**
 * Leaves `db` (the store's connection) only the backstop checkpoint and starts the worker that does the others.
 * Should the worker fail, `db` checkpoints by itself again at SQLite's default threshold.
 */
export function startCheckpointer(db: DatabaseSync, options: CheckpointerOptions): Checkpointer {
  const pages = Math.max(1, Math.floor(options.pages ?? DEFAULT_CHECKPOINT_PAGES));
  const holdAt = pages * HOLD_FACTOR;
  db.exec(`PRAGMA wal_autocheckpoint = ${pages * BACKSTOP_FACTOR}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path: options.path, busyTimeoutMs: options.busyTimeoutMs, pause: options.pause },
  });
  // The worker must not keep a process alive that has nothing else to do (a CLI command).
  worker.unref();
  const log = new WalIndex(`${options.path}-shm`);
  let runs = 0;
  const skipped: Record<SkipReason, number> = { busy: 0, full: 0 };
  let holds = 0;
  const heldTime = { batches: 0, ms: 0 };
  let stopping = false;
  // The checkpoint asked of the worker and not yet answered, and who waits for it to end.
  let running: PromiseWithResolvers<void> | undefined;
  const checkpointEnded = () => {
    running?.resolve();
    running = undefined;
  };
  /** Asks the worker for a checkpoint unless one is running; settles when it has ended (or the worker stopped). */
  const checkpointNow = (): Promise<void> => {
    if (stopping) return Promise.resolve();
    if (running) return running.promise;
    running = Promise.withResolvers<void>();
    worker.postMessage('checkpoint');
    return running.promise;
  };
  const look = () => {
    if (!stopping && !running && log.read().waiting >= pages) void checkpointNow();
  };
  const timer = setInterval(look, Math.max(1, options.everyMs ?? DEFAULT_CHECKPOINT_EVERY_MS));
  timer.unref();
  // Who waits for the next checkpoint, and for the next one that could not run.
  const waiting: PromiseWithResolvers<CheckpointResult>[] = [];
  const waitingSkip: PromiseWithResolvers<SkipReason>[] = [];
  const stopWaiting = (error: Error) => {
    clearInterval(timer);
    checkpointEnded();
    log.close();
    for (const waiter of [...waiting.splice(0), ...waitingSkip.splice(0)]) waiter.reject(error);
  };
  const waitOn = <T>(waiters: PromiseWithResolvers<T>[]): Promise<T> => {
    if (stopping) return Promise.reject(new Error('the checkpoint worker is not running'));
    const waiter = Promise.withResolvers<T>();
    waiters.push(waiter);
    return waiter.promise;
  };
  const failure = Promise.withResolvers<Error>();
  const ready = Promise.withResolvers<void>();
  ready.promise.catch(() => undefined);
  const fail = (error: Error) => {
    if (stopping) return;
    stopping = true;
    // Back to SQLite's default, on the connection that commits: slower commits now and then, a bounded log.
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`);
    stopWaiting(error);
    ready.reject(error);
    failure.resolve(error);
    void worker.terminate();
  };
  worker.on('message', (message: WorkerMessage) => {
    if (message.kind === 'ready') return ready.resolve();
    if (message.kind === 'failed') return fail(new Error(`the checkpoint worker failed: ${message.message}`));
    checkpointEnded();
    if (message.kind === 'skipped') {
      skipped[message.reason]++;
      for (const waiter of waitingSkip.splice(0)) waiter.resolve(message.reason);
      return;
    }
    runs++;
    for (const waiter of waiting.splice(0)) waiter.resolve(message.result);
  });
  worker.once('error', (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
  worker.once('exit', (code) => fail(new Error(`the checkpoint worker exited (code ${code})`)));
  let calls = 0;
  return {
    ready: ready.promise,
    storeCalled() {
      if (++calls % CALLS_PER_LOOK === 0) look();
    },
    holdWrites() {
      if (stopping) return undefined;
      const { frames, waiting } = log.read();
      if (frames < holdAt || waiting === 0) return undefined;
      holds++;
      const heldAt = performance.now();
      // A checkpoint already running began before the last commits: the one after it copies those too.
      const hold = running ? running.promise.then(checkpointNow) : checkpointNow();
      return hold.then(() => {
        heldTime.batches++;
        heldTime.ms += performance.now() - heldAt;
      });
    },
    get holds() {
      return holds;
    },
    get heldTime() {
      return { ...heldTime };
    },
    get runs() {
      return runs;
    },
    next() {
      return waitOn(waiting);
    },
    get skipped() {
      return { ...skipped };
    },
    nextSkip() {
      return waitOn(waitingSkip);
    },
    failed: failure.promise,
    async stop() {
      if (stopping) return;
      stopping = true;
      stopWaiting(new Error('the checkpoint worker was stopped'));
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      // It closes its connection and ends; a worker stuck in a checkpoint longer than the busy timeout is ended.
      const timeout = setTimeout(() => void worker.terminate(), options.busyTimeoutMs + 1000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** The log's size and what of it waits to be copied back, read from the wal-index header (see above). */
export class WalIndex {
  private fd: number | undefined;
  private readonly header = Buffer.alloc(100);
  private readonly littleEndian = endianness() === 'LE';

  constructor(private readonly shmPath: string) {}

  /** `frames`: frames in the log (mxFrame); `waiting`: those not yet copied back. Zeros before the log exists. */
  read(): { frames: number; waiting: number } {
    try {
      this.fd ??= openSync(this.shmPath, 'r');
      if (readSync(this.fd, this.header, 0, 100, 0) < 100) return { frames: 0, waiting: 0 };
    } catch {
      // No log yet, or unreadable: no look and no hold this time (the backstop still bounds the log).
      return { frames: 0, waiting: 0 };
    }
    const frames = this.littleEndian ? this.header.readUInt32LE(16) : this.header.readUInt32BE(16);
    const copied = this.littleEndian ? this.header.readUInt32LE(96) : this.header.readUInt32BE(96);
    return { frames, waiting: frames > copied ? frames - copied : 0 };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
