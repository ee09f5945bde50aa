import type { Logger } from 'pino';
import {
  importLegacyData,
  openStore,
  SqliteStore,
  type SqliteStoreOptions,
  type Store,
  type StoreLocation,
} from './storage/index.js';
import { HoldReport } from './storage/sqlite/hold-report.js';

/** How often the local store removes expired history and orphaned audio. */
export const MAINTENANCE_INTERVAL_MS = 60 * 60_000;

export interface StoreRuntimeOptions {
  /** @default MAINTENANCE_INTERVAL_MS */
  readonly maintenanceIntervalMs?: number;
  /** The store's clock (see StartOptions.storeNow). */
  readonly now?: () => Date;
  /** The local store's checkpoint settings (tests: a small threshold, a worker held before each checkpoint). */
  readonly checkpoints?: Pick<
    SqliteStoreOptions,
    'checkpointPages' | 'checkpointEveryMs' | 'checkpointPause'
  >;
  /** How often the hold report may speak (hold-report.ts). @default HOLD_REPORT_EVERY_MS */
  readonly holdReportEveryMs?: number;
}

export interface RunningStore {
  readonly store: Store;
  /**
   * Starts housekeeping once the server listens (a start that fails leaves no trace): a first pass now —
   * orphans a crash left, expired history — logged as "store maintenance done", then one every interval.
   */
  startHousekeeping(): void;
  /** Stops housekeeping, waits for audio still being written, releases the database. */
  close(): Promise<void>;
}

/**
 * Opens the store for the server: a damaged SQLite file refuses the start (StoreCorruptError names it);
 * an old JSON data folder is imported once; damage the background integrity check finds later is logged
 * once, and every later call fails with that error (the store refuses itself).
 */
export async function startStore(
  location: StoreLocation,
  logger: Logger,
  options: StoreRuntimeOptions = {},
): Promise<RunningStore> {
  const log = logger.child({ component: 'store' });
  // Checkpoints of the SQLite log run on a worker thread: the event loop carries audio (checkpointer.ts).
  const store = await openStore(location, {
    maintainOnOpen: false,
    now: options.now,
    checkpoint: 'background',
    ...options.checkpoints,
  });
  try {
    await store.checkReady();
  } catch (error) {
    // A table that is not there (or no credentials) will not fix itself; a full local disk may: serve
    // history and refuse to spend meanwhile (/readyz says so).
    if (store.backend === 'dynamodb') {
      await store.close().catch(() => undefined);
      throw error;
    }
    log.warn({ err: error }, 'the store cannot write now: speech that spends is refused until it can');
  }
  let timer: NodeJS.Timeout | undefined;
  let stopHoldReport = () => {};
  let running: Promise<unknown> = Promise.resolve();
  const maintain = (always: boolean) => {
    running = store.maintain().then((report) => {
      const removed = Object.values(report).some((count) => count > 0);
      if (always || removed) log.info(report, 'store maintenance done');
    }, warnMaintenance(log));
  };
  if (store instanceof SqliteStore) {
    void store.integrity.catch((error: unknown) =>
      log.error({ err: error }, error instanceof Error ? error.message : String(error)),
    );
    void store.checkpointer?.failed.then((error) =>
      log.warn({ err: error }, 'WAL checkpoints are back on the event loop: the checkpoint worker stopped'),
    );
    // Writes that waited for the worker's checkpoints (a slow disk), at most once a minute (hold-report.ts).
    if (store.checkpointer)
      stopHoldReport = new HoldReport(store.checkpointer, log).start(options.holdReportEveryMs);
    await importOldFiles(store, log);
  }
  return {
    store,
    startHousekeeping() {
      // DynamoDB needs none: TTL expires items, the bucket's lifecycle rule old and unfinished audio.
      if (store.backend !== 'sqlite' || timer) return;
      maintain(true);
      timer = setInterval(() => maintain(false), options.maintenanceIntervalMs ?? MAINTENANCE_INTERVAL_MS);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      stopHoldReport();
      await running;
      await store.close();
    },
  };
}

async function importOldFiles(store: SqliteStore, log: Logger): Promise<void> {
  try {
    const report = await importLegacyData(store);
    if (report.alreadyImported || report.users === 0) return;
    log.info(
      { ...report, alreadyImported: undefined },
      `imported ${report.historyItems} history items (${report.audioFiles} with audio), ${report.settings} ` +
        `settings and ${report.usageDays} usage days of ${report.users} users from the JSON files of an ` +
        `earlier Earshot into ${store.path}; the old files are kept (delete ${store.dataDir}/users when ` +
        `satisfied)${report.skipped.length ? `; ${report.skipped.length} unreadable files skipped` : ''}`,
    );
  } catch (error) {
    // Not marked as done: the next start tries again (the import is safe to repeat).
    log.warn(
      { err: error },
      'could not import the JSON files of an earlier Earshot; will retry at next start',
    );
  }
}

function warnMaintenance(log: Logger) {
  return (error: unknown) => log.warn({ err: error }, 'store maintenance failed; it runs again later');
}
