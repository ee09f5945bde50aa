/**
 * WAL checkpoints off the event loop. By default SQLite checkpoints on the connection that commits, once the
 * write-ahead log holds 1,000 pages: that commit then copies every page back into the database file and fsyncs
 * it, 14–17 ms for ~1,900 pages on this machine's disk, during which no audio chunk reaches any player. Here a
 * worker thread with a connection of its own watches the log and runs a PASSIVE checkpoint (it never waits for
 * readers or writers) once enough pages are waiting; the store's connection keeps SQLite's own checkpoint only as
 * a backstop, at four times the threshold (below). If the worker stops, the store's connection checkpoints as
 * SQLite does by default again.
 *
 * Why a backstop: the log starts over from its beginning only when a write finds every frame copied back. A worker
 * copying back while the event loop keeps writing never gets there under a steady stream of writes, and the log
 * grew by every page written (145 MB for 3,000 history writes back to back, measured). Past BACKSTOP_FACTOR × the
 * threshold the committing connection checkpoints itself, which copies only the few frames the worker has not
 * (the commit's own fsync remains), and the next write starts the log over: a burst leaves at most a few times
 * SQLite's usual 4 MB. When the writes leave the worker a quiet moment, its checkpoint copies everything and the
 * next write starts the log over without the backstop; under a steady stream (measured: a write every ~1.4 ms)
 * the backstop is what does it, every 4,000 pages instead of every 1,000.
 *
 * PASSIVE, at SQLite's own threshold, is what the store's connection did itself, only on another thread and up to
 * one look later: the log keeps its size, and a writer reuses it from the start once every frame is copied back, as
 * before. Never TRUNCATE or RESTART here: a log shrunk at moments of its own gives a full disk room back, and the
 * speech booking and readiness probe that should fail on it then pass (a worker that did so failed the chaos
 * suite's full-disk scenario in an earlier round).
 *
 * The worker learns how many pages wait from the wal-index header in the `-shm` file, a documented format
 * (https://www.sqlite.org/walformat.html §2.2): `mxFrame` (the last valid frame, offset 16) less `nBackfill`
 * (frames already copied back, offset 96), in the host's byte order. Reading 100 bytes every quarter second costs
 * nothing; a torn read only makes one checkpoint earlier or later.
 */
import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';

/** SQLite's own default: a checkpoint once the log holds this many pages (4 MB at 4 KiB pages). */
export const DEFAULT_CHECKPOINT_PAGES = 1000;
/** The store's connection checkpoints itself once the log holds this many times the worker's threshold. */
export const BACKSTOP_FACTOR = 4;
/** How often the worker looks at the log. */
export const DEFAULT_CHECKPOINT_EVERY_MS = 250;
/**
 * Store calls between two messages that make the worker look at once: a burst (an import, thousands of writes
 * back to back) would otherwise grow the log by a quarter second of writes (~16,000 pages measured) before the next
 * look. ~10 pages per write: a look every ~300 pages at most.
 */
const CALLS_PER_LOOK = 32;

export interface CheckpointerOptions {
  /** The database file; the worker opens its own connection to it. */
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Pages waiting in the log that make the worker checkpoint. @default DEFAULT_CHECKPOINT_PAGES */
  readonly pages?: number;
  /** @default DEFAULT_CHECKPOINT_EVERY_MS */
  readonly everyMs?: number;
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
   * CALLS_PER_LOOK of them the worker looks at the log at once rather than at its next interval. Costs an
   * increment (and a message now and then).
   */
  storeCalled(): void;
  /** Checkpoints the worker has run. */
  readonly runs: number;
  /** Resolves with the next checkpoint the worker runs (tests wait on it rather than on time). */
  next(): Promise<CheckpointResult>;
  /** Looks that found another connection checkpointing (the worker tries again at its next look). */
  readonly busyLooks: number;
  /** Resolves at the next such look (tests wait on it rather than on time). */
  nextBusy(): Promise<void>;
  /**
   * Settles when the worker stops on its own (it failed: the store's connection has gone back to checkpointing
   * itself) with the reason; never settles for a stop asked by `stop()`.
   */
  readonly failed: Promise<Error>;
  /** Stops the worker and closes its connection (before the store's own connection closes). */
  stop(): Promise<void>;
}

type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'checkpoint'; readonly result: CheckpointResult }
  | { readonly kind: 'failed'; readonly message: string };

// CommonJS, evaluated by the worker (no file to ship beside the bundle). A busy database is tried again at the next
// look; any other failure is reported and ends the worker: the main thread turns checkpoints back on for its own
// connection.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { DatabaseSync } = require('node:sqlite');
  const { closeSync, openSync, readSync } = require('node:fs');
  const { endianness } = require('node:os');
  const { path, busyTimeoutMs, pages, everyMs } = workerData;
  const SQLITE_BUSY = 5;
  const SQLITE_LOCKED = 6;
  let db;
  let shm;
  const header = Buffer.alloc(100);
  function pendingPages() {
    try {
      shm ??= openSync(path + '-shm', 'r');
    } catch {
      return 0; // no log yet
    }
    if (readSync(shm, header, 0, 100, 0) < 100) return 0;
    const le = endianness() === 'LE';
    const mxFrame = le ? header.readUInt32LE(16) : header.readUInt32BE(16);
    const nBackfill = le ? header.readUInt32LE(96) : header.readUInt32BE(96);
    return mxFrame > nBackfill ? mxFrame - nBackfill : 0;
  }
  let timer;
  let look = () => {};
  function stop() {
    look = () => {};
    clearInterval(timer);
    try { db?.close(); } catch {}
    if (shm !== undefined) closeSync(shm);
  }
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = ' + busyTimeoutMs);
    db.exec('PRAGMA wal_autocheckpoint = 0');
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ kind: 'ready' });
    look = () => {
      try {
        if (pendingPages() < pages) return;
        const started = performance.now();
        const row = checkpoint.get();
        // -1: it could not run (the store's connection was checkpointing, or another process): a later look.
        if (row.log < 0 || row.checkpointed < 0) return parentPort.postMessage({ kind: 'busy' });
        parentPort.postMessage({
          kind: 'checkpoint',
          result: { log: row.log, checkpointed: row.checkpointed, ms: performance.now() - started },
        });
      } catch (error) {
        // Another process's checkpoint (PASSIVE never waits for it): this one comes at a later look.
        const primary = typeof error?.errcode === 'number' ? error.errcode & 0xff : undefined;
        if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return parentPort.postMessage({ kind: 'busy' });
        parentPort.postMessage({ kind: 'failed', message: String((error && error.message) || error) });
        stop();
      }
    };
    timer = setInterval(look, everyMs);
  } catch (error) {
    parentPort.postMessage({ kind: 'failed', message: String((error && error.message) || error) });
    stop();
  }
  parentPort.on('message', (message) => {
    if (message === 'look') return look();
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
  db.exec(`PRAGMA wal_autocheckpoint = ${pages * BACKSTOP_FACTOR}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      pages,
      everyMs: Math.max(1, options.everyMs ?? DEFAULT_CHECKPOINT_EVERY_MS),
    },
  });
  // The worker's interval must not keep a process alive that has nothing else to do (a CLI command).
  worker.unref();
  let runs = 0;
  let busyLooks = 0;
  let stopping = false;
  // Who waits for the next checkpoint, and for the next look that finds another connection checkpointing.
  const waiting: PromiseWithResolvers<CheckpointResult>[] = [];
  const waitingBusy: PromiseWithResolvers<void>[] = [];
  const stopWaiting = (error: Error) => {
    for (const waiter of [...waiting.splice(0), ...waitingBusy.splice(0)]) waiter.reject(error);
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
    if (message.kind === 'busy') {
      busyLooks++;
      for (const waiter of waitingBusy.splice(0)) waiter.resolve();
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
      if (++calls % CALLS_PER_LOOK === 0 && !stopping) worker.postMessage('look');
    },
    get runs() {
      return runs;
    },
    next() {
      return waitOn(waiting);
    },
    get busyLooks() {
      return busyLooks;
    },
    nextBusy() {
      return waitOn(waitingBusy);
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
