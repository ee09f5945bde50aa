/**
 * Opening the SQLite file: pragmas for several processes on one folder, a damage check, migrations.
 *
 * Why `node:sqlite` and not better-sqlite3: it is built into Node ≥ 22.13 (the package's engines floor), so
 * `npm install` compiles nothing and there is no native module built for one Node that fails to load in
 * another (better-sqlite3 12.x builds for the Node that ran the install). Both are synchronous and ship
 * FTS5; the API differences do not matter at the size of statements used here.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { StoreCorruptError, StoreError, StoreFullError, StoreUnavailableError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export interface DatabaseOptions {
  /** How long a statement waits for another process's write lock (blocking this thread). Default 5000. */
  readonly busyTimeoutMs?: number;
  /**
   * How deeply to look for damage. Every open checks the header, the schema and the file's length (cheap,
   * catches "not a database" and truncation). `background` (default) then runs `PRAGMA quick_check` on a
   * worker thread (`SqliteStore.integrity`); `quick` runs it before open returns (reads every page: ~40 ms
   * per 10,000 history items — for `earshot doctor`); `none` skips it.
   */
  readonly integrityCheck?: 'background' | 'quick' | 'none';
  /** Caps the database's size in pages; tests use it to fill the "disk" without filling one. */
  readonly maxPageCount?: number;
}

const WAL_HEADER_BYTES = 32;
// Primary SQLite result codes (node:sqlite reports the extended code in `errcode`).
const SQLITE_BUSY = 5;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;

export function openDatabase(dataDir: string, path: string, options: DatabaseOptions = {}): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    db = new DatabaseSync(path);
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    switchToWal(db, busyTimeoutMs);
    // In WAL mode NORMAL never corrupts and survives a process crash; a power cut may undo the last commits.
    db.exec('PRAGMA synchronous = NORMAL');
    if (options.maxPageCount) db.exec(`PRAGMA max_page_count = ${Math.floor(options.maxPageCount)}`);
    shallowCheck(db, path);
    if (options.integrityCheck === 'quick') quickCheck(db, path);
    migrate(db, path);
    return db;
  } catch (error) {
    try {
      db?.close();
    } catch {
      // Already failing; the first error is the one to report.
    }
    throw sqliteError(error, path, 'open the database');
  }
}

/**
 * `PRAGMA journal_mode = WAL`, retried: two processes opening a new database at once make one of them get
 * SQLITE_BUSY at once — SQLite does not call the busy handler for a journal mode change. Blocks for a few
 * milliseconds at most per try, only while opening.
 */
function switchToWal(db: DatabaseSync, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let waitMs = 2; ; waitMs = Math.min(waitMs * 2, 50)) {
    try {
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined;
      if (mode?.journal_mode !== 'wal')
        throw new Error(`could not switch to WAL (got ${mode?.journal_mode})`);
      return;
    } catch (error) {
      const code = (error as { errcode?: number }).errcode;
      if (code === undefined || (code & 0xff) !== SQLITE_BUSY || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs);
    }
  }
}

/** Reads the header and schema, and compares the file's length with the page count its header gives. */
function shallowCheck(db: DatabaseSync, path: string): void {
  db.prepare('SELECT count(*) FROM sqlite_schema').get();
  const pages = Number((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
  const pageSize = Number((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
  const expected = pages * pageSize;
  if (statSync(path).size >= expected) return;
  // The page count includes pages the WAL holds: another process opening the same new folder may have just
  // written its migration there (or be checkpointing it into the file). Looked at in this order — count, WAL,
  // file again (a checkpoint grows the file before it empties the WAL) — only a file that is still short with an
  // empty WAL was cut short. (The WAL used to be looked at first: a migration landing in between made a new
  // database opened by several processes at once look damaged.)
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > WAL_HEADER_BYTES) return;
  const size = statSync(path).size;
  if (size < expected) {
    throw new StoreCorruptError(
      path,
      `the file has ${size} bytes, its header says ${expected}: it was cut short`,
    );
  }
}

function quickCheck(db: DatabaseSync, path: string): void {
  const rows = db.prepare('PRAGMA quick_check(5)').all() as { quick_check?: string }[];
  const problems = rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  if (problems.length > 0) throw new StoreCorruptError(path, `quick_check: ${problems.join('; ')}`);
}

function migrate(db: DatabaseSync, path: string): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new StoreUnavailableError(
      `${path} has schema version ${version}, newer than this Earshot understands (${SCHEMA_VERSION}): ` +
        'upgrade Earshot, or point EARSHOT_DATA_DIR at another folder.',
    );
  }
  while (userVersion(db) < SCHEMA_VERSION) {
    transaction(db, () => {
      // Another process may have migrated while this one waited for the lock.
      const current = userVersion(db);
      if (current >= SCHEMA_VERSION) return;
      db.exec(MIGRATIONS[current]!);
      db.exec(`PRAGMA user_version = ${current + 1}`);
    });
  }
}

function userVersion(db: DatabaseSync): number {
  return Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
}

/** Runs `work` in BEGIN IMMEDIATE … COMMIT: the write lock is taken first, so read-then-write is atomic. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Maps an error from node:sqlite (or the file system around it) to the StoreError callers act on. */
export function sqliteError(error: unknown, path: string, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { code?: string; errcode?: number; errstr?: string; message?: string } | null;
  const primary = typeof e?.errcode === 'number' ? e.errcode & 0xff : undefined;
  const detail = e?.errstr ?? e?.message ?? String(error);
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
    return new StoreCorruptError(path, detail, { cause: error });
  }
  if (primary === SQLITE_FULL || e?.code === 'ENOSPC' || e?.code === 'EDQUOT') {
    return new StoreFullError(
      `The database ${path} is full: could not ${what} (${detail}). Free some disk space.`,
      {
        cause: error,
      },
    );
  }
  return new StoreUnavailableError(`Could not ${what} in ${path}: ${detail}.`, { cause: error });
}

/**
 * `PRAGMA quick_check` on its own read-only connection in a worker thread: it reads every page, which at
 * 100,000 history items takes most of a second that the event loop must not spend.
 */
export function integrityInBackground(
  path: string,
  busyTimeoutMs: number,
): { readonly done: Promise<void>; cancel(): Promise<void> } {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { DatabaseSync } = require('node:sqlite');
    let problems;
    try {
      const db = new DatabaseSync(workerData.path, { readOnly: true });
      db.exec('PRAGMA busy_timeout = ' + workerData.busyTimeoutMs);
      problems = db.prepare('PRAGMA quick_check(5)').all().map((row) => row.quick_check).filter((text) => text !== 'ok');
      db.close();
    } catch (error) {
      problems = [String(error && error.message || error)];
    }
    parentPort.postMessage(problems);
  `;
  const worker = new Worker(source, { eval: true, workerData: { path, busyTimeoutMs } });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('message', (problems: string[]) => {
      if (problems.length === 0) resolve();
      else reject(new StoreCorruptError(path, `quick_check: ${problems.join('; ')}`));
    });
    worker.once('error', (error) => reject(sqliteError(error, path, 'check the database')));
    // Terminated by close() before it answered: nothing was found.
    worker.once('exit', () => resolve());
  });
  return {
    done,
    async cancel() {
      await worker.terminate();
    },
  };
}
