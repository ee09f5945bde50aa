/**
 * WAL checkpoints on a worker thread. By default SQLite checkpoints in the thread that commits, on the commit that
 * takes the WAL past 1,000 pages: it copies the pages into the database and fsyncs both files; and the first write
 * after a complete checkpoint starts the WAL over, writing and fsyncing its header. Here that thread is the event
 * loop: traced during `npm run bench` (scenario b), those fsyncs took 0.3–7 ms each, in the middle of bursts of
 * speeches, and every speech behind them waited for its first audio.
 *
 * So the store's own connection only checkpoints as a backstop (WAL_BACKSTOP_PAGES, reached only if the worker falls
 * far behind or is gone), and a worker with a connection of its own, when anything was committed since its last
 * look, runs `PRAGMA wal_checkpoint(PASSIVE)` (copies what no reader still needs, never waits for readers or
 * writers) and, when that copied everything, starts the WAL over itself with a one-row write. The store's writes then
 * only ever append to the WAL, and sync nothing (synchronous = NORMAL).
 */
import { Worker } from 'node:worker_threads';

/** The store's connection checkpoints itself past this many WAL pages (~40 MB): normally never. */
export const WAL_BACKSTOP_PAGES = 10_000;
/** How often the worker checkpoints: the WAL holds at most about this much of the store's writes. */
export const CHECKPOINT_INTERVAL_MS = 1000;
/** How long `stop()` lets the worker finish a checkpoint and close its connection before ending it. */
const STOP_GRACE_MS = 5000;

/** One checkpoint as `PRAGMA wal_checkpoint` reports it: WAL frames in all, and those copied into the database. */
export interface CheckpointReport {
  readonly busy: boolean;
  readonly log: number;
  readonly checkpointed: number;
}

export interface BackgroundCheckpoints {
  /**
   * Starts the worker now if it has not started yet (it starts by itself after one interval); resolves once its
   * connection is open (its files are then open too), rejects if it could not.
   */
  start(): Promise<void>;
  /** Checkpoints now (besides the interval) and resolves with the report; for tests and maintenance. */
  now(): Promise<CheckpointReport>;
  stop(): Promise<void>;
}

const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { DatabaseSync } = require('node:sqlite');
  const db = new DatabaseSync(workerData.path);
  db.exec('PRAGMA busy_timeout = ' + workerData.busyTimeoutMs);
  db.exec('PRAGMA synchronous = NORMAL');
  // The commit that starts the WAL over cuts the file down to what it holds: the store's next writes take new space,
  // so on a full disk they fail (and a speech is refused before anything is spent), as they would in a new WAL.
  db.exec('PRAGMA journal_size_limit = 0');
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const dataVersion = db.prepare('PRAGMA data_version');
  const restart = db.prepare(
    "INSERT INTO meta (key, value) VALUES ('wal_restarted', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const versionNow = () => Number(dataVersion.get().data_version);
  let seen;
  const run = () => {
    try {
      const version = versionNow();
      const row = checkpoint.get();
      const report = { busy: row.busy !== 0, log: row.log, checkpointed: row.checkpointed };
      const complete = !report.busy && report.checkpointed === report.log;
      // Everything is in the database: the next write starts the WAL over, and the thread that does it writes
      // and fsyncs a new WAL header. Written here, so that the store's own next write only appends.
      if (complete && report.log > 0) restart.run(new Date().toISOString());
      // Not all copied (a reader still needed some), or the write failed: look again at the next interval.
      if (complete) seen = version;
      return report;
    } catch (error) {
      return { error: String((error && error.message) || error) };
    }
  };
  run();
  parentPort.postMessage({ ready: true });
  // data_version changes when another connection commits: with nothing written since, there is nothing to copy.
  const timer = setInterval(() => {
    let changed = true;
    try {
      changed = versionNow() !== seen;
    } catch {
      // Asking failed (a busy or failing disk): try the checkpoint, which reports what is wrong.
    }
    if (changed) run();
  }, workerData.intervalMs);
  parentPort.on('message', (request) => {
    if (request.stop) {
      // Closed here, so the connection's files are closed when the worker has exited.
      clearInterval(timer);
      db.close();
      parentPort.close();
      return;
    }
    parentPort.postMessage({ id: request.id, report: run() });
  });
`;

/**
 * Checkpoints the database at `path` on a worker thread. The worker starts after one interval, not with the store:
 * nothing needs a checkpoint sooner, and a worker's start-up (a Node environment of its own, tens of ms of CPU)
 * would compete with the server's own (`earshot serve` to ready). It does not keep the process alive; `stop()` ends
 * it. A failed checkpoint is retried at the next interval (and the backstop bounds the WAL meanwhile).
 */
export function checkpointInBackground(
  path: string,
  options: { readonly intervalMs?: number; readonly busyTimeoutMs: number },
): BackgroundCheckpoints {
  const intervalMs = options.intervalMs ?? CHECKPOINT_INTERVAL_MS;
  const waiting = new Map<number, PromiseWithResolvers<CheckpointReport>>();
  let nextId = 1;
  let failure: Error | undefined;
  const ready = Promise.withResolvers<void>();
  ready.promise.catch(() => undefined);
  const failAll = (error: Error) => {
    failure ??= error;
    ready.reject(failure);
    for (const pending of waiting.values()) pending.reject(failure);
    waiting.clear();
  };
  let worker: Worker | undefined;
  let exited = false;
  const startWorker = (): Worker => {
    if (worker) return worker;
    clearTimeout(delayed);
    const started = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, intervalMs, busyTimeoutMs: options.busyTimeoutMs },
    });
    started.unref();
    started.on(
      'message',
      (answer: { ready: true } | { id: number; report: CheckpointReport | { error: string } }) => {
        if ('ready' in answer) return ready.resolve();
        const pending = waiting.get(answer.id);
        waiting.delete(answer.id);
        if ('error' in answer.report)
          pending?.reject(new Error(`WAL checkpoint failed: ${answer.report.error}`));
        else pending?.resolve(answer.report);
      },
    );
    started.on('error', failAll);
    started.on('exit', () => {
      exited = true;
      failAll(new Error('The checkpoint worker has stopped.'));
    });
    worker = started;
    return started;
  };
  const delayed = setTimeout(startWorker, intervalMs).unref();
  return {
    start() {
      if (!failure) startWorker();
      return ready.promise;
    },
    now() {
      if (failure) return Promise.reject(failure);
      const running = startWorker();
      const id = nextId++;
      const pending = Promise.withResolvers<CheckpointReport>();
      waiting.set(id, pending);
      running.ref(); // an answer is awaited: keep the process alive for it
      running.postMessage({ id });
      return pending.promise.finally(() => {
        if (waiting.size === 0) running.unref();
      });
    },
    async stop() {
      clearTimeout(delayed);
      if (!worker) return failAll(new Error('The checkpoint worker has stopped.'));
      if (exited) return;
      const running = worker;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.ref();
      running.postMessage({ stop: true });
      // A worker stuck in a checkpoint (a disk that does not answer) is ended all the same, a little later.
      const stuck = setTimeout(() => void running.terminate(), STOP_GRACE_MS).unref();
      await gone;
      clearTimeout(stuck);
    },
  };
}
