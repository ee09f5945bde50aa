/**
 * The local store: one SQLite file `<dataDir>/earshot.db` (WAL, so several processes on one data folder stay
 * consistent) and audio files under `<dataDir>/audio/`. node:sqlite is synchronous: every statement is small
 * and indexed, every read-modify-write runs in a BEGIN IMMEDIATE transaction, and the audio path never touches
 * the database (sinks write files; the history row comes after). The writes at a speech's end (history,
 * settling the budget) share transactions through a group commit (group-commit.ts); the rest are one each.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { HistoryItem, UserSettings } from '@earshot/protocol';
import type {
  AudioSink,
  AudioSinkOptions,
  BudgetDecision,
  BudgetRequest,
  DailyUsage,
  HistoryPage,
  HistoryQuery,
  MaintenanceReport,
  PutHistoryOptions,
  Reservation,
  SettingsPatch,
  Store,
  StoredAudio,
  StoredHistoryItem,
  UsageAmount,
} from '../contract.js';
import { AudioMissingError, StoreCorruptError, fileError, type StoreError } from '../errors.js';
import {
  DEFAULT_MAX_AUDIO_BYTES,
  DEFAULT_RESERVATION_LEASE_MS,
  HISTORY_ID,
  checkAmount,
  checkId,
  checkUser,
  lastDays,
  mergeSettings,
  utcDay,
  withDefaults,
} from '../shared.js';
import { AudioFiles } from './audio-files.js';
import {
  integrityInBackground,
  openDatabase,
  sqliteError,
  transaction,
  type DatabaseOptions,
} from './database.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { HistoryTable } from './history.js';
import { SqliteOAuth } from './oauth.js';
import { UsageTable } from './usage.js';

export interface SqliteStoreOptions extends DatabaseOptions {
  /** The folder holding `earshot.db` and `audio/` (EARSHOT_DATA_DIR). */
  readonly dataDir: string;
  /** Audio files younger than this are never treated as orphans (a speech in another process). Default 15 min. */
  readonly orphanGraceMs?: number;
  readonly reservationLeaseMs?: number;
  /** Runs `maintain()` in the background right after opening (default true); see `SqliteStore.maintenance`. */
  readonly maintainOnOpen?: boolean;
  /**
   * How long a group commit of end-of-speech writes stays open, in ms. Default 0: one event-loop turn
   * (group-commit.ts says why, with the measurements).
   */
  readonly groupCommitWindowMs?: number;
  /**
   * Where WAL checkpoints run: `background` on a worker thread with its own connection, so commits on the event
   * loop copy the log back and fsync only past a backstop, and group commits wait for the worker rather than grow
   * the log past its hold mark (checkpointer.ts: what the server asks for); `inline`
   * (default: one-shot commands, tests) leaves them to SQLite, on the connection that commits.
   */
  readonly checkpoint?: 'background' | 'inline';
  /** The background checkpoint's threshold in pages and how often it looks, in ms (tests make them small). */
  readonly checkpointPages?: number;
  readonly checkpointEveryMs?: number;
  /** Tests only: pauses the checkpoint worker before each checkpoint (CheckpointerOptions.pause). */
  readonly checkpointPause?: Int32Array;
  readonly now?: () => Date;
}

export const DATABASE_FILE = 'earshot.db';
const EXPIRY_BATCH = 200;

export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly path: string;
  readonly oauth: SqliteOAuth;
  /** The maintenance started at open (resolves to zeros when `maintainOnOpen` is false). */
  readonly maintenance: Promise<MaintenanceReport>;
  /**
   * The background integrity check (`integrityCheck: 'background'`): rejects with StoreCorruptError when
   * the file is damaged; from then on every call fails with that error. The server logs it and exits.
   */
  readonly integrity: Promise<void>;
  private damage: StoreCorruptError | undefined;
  private readonly stopIntegrityCheck: (() => Promise<void>) | undefined;
  private readonly audio: AudioFiles;
  private readonly history: HistoryTable;
  private readonly statements: Record<string, StatementSync>;
  private readonly now: () => Date;
  private readonly usage: UsageTable;
  /** Where putHistory and the budget settles are batched; `commits` counts its transactions (for tests). */
  readonly writes: GroupCommit;
  /** The worker that checkpoints the log (`checkpoint: 'background'`), when there is one; see checkpointer.ts. */
  readonly checkpointer: Checkpointer | undefined;
  private closed = false;

  /** Opens (creating or migrating) the database; throws StoreCorruptError naming the file if it is damaged. */
  static open(options: SqliteStoreOptions): SqliteStore {
    const path = join(options.dataDir, DATABASE_FILE);
    return new SqliteStore(openDatabase(options.dataDir, path, options), path, options);
  }

  private constructor(
    private readonly db: DatabaseSync,
    path: string,
    private readonly options: SqliteStoreOptions,
  ) {
    this.path = path;
    this.now = options.now ?? (() => new Date());
    this.audio = new AudioFiles(join(options.dataDir, 'audio'));
    this.history = new HistoryTable(db);
    this.writes = new GroupCommit(db, (error, what) => this.mapError(error, what), {
      windowMs: options.groupCommitWindowMs,
      holdBack: () => this.checkpointer?.holdWrites(),
    });
    this.usage = new UsageTable(db, options.reservationLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS, (work) =>
      this.write('settle a reservation', work),
    );
    this.oauth = new SqliteOAuth(db, (what, work) => this.run(what, work), this.now);
    const prepare = (sql: string) => db.prepare(sql);
    this.statements = {
      getSettings: prepare('SELECT doc FROM settings WHERE user = ?'),
      dataVersion: prepare('PRAGMA data_version'),
      putSettings: prepare(
        `INSERT INTO settings (user, doc, version) VALUES (?, ?, 1)
         ON CONFLICT (user) DO UPDATE SET doc = excluded.doc, version = version + 1`,
      ),
      audioUsage: prepare(
        'SELECT coalesce(sum(bytes), 0) AS bytes FROM audio_usage WHERE user = ? AND expiry_day >= ?',
      ),
      getMeta: prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
      ready: prepare(
        "INSERT INTO meta (key, value) VALUES ('ready', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
    };
    const check =
      (options.integrityCheck ?? 'background') === 'background'
        ? integrityInBackground(path, options.busyTimeoutMs ?? 5000)
        : undefined;
    this.stopIntegrityCheck = check ? () => check.cancel() : undefined;
    this.integrity = (check?.done ?? Promise.resolve()).catch((error: unknown) => {
      if (error instanceof StoreCorruptError) this.damage = error;
      throw error;
    });
    this.integrity.catch(() => undefined);
    this.checkpointer =
      options.checkpoint === 'background'
        ? startCheckpointer(db, {
            path,
            busyTimeoutMs: options.busyTimeoutMs ?? 5000,
            pages: options.checkpointPages,
            everyMs: options.checkpointEveryMs,
            pause: options.checkpointPause,
          })
        : undefined;
    this.maintenance =
      options.maintainOnOpen === false
        ? Promise.resolve({ expiredItems: 0, orphanFiles: 0, temporaryFiles: 0, reclaimedReservations: 0 })
        : this.maintain();
    this.maintenance.catch(() => undefined);
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  async getSettings(user: string): Promise<UserSettings> {
    checkUser(user);
    return this.run('read settings', () => this.readSettings(user));
  }

  /**
   * `PRAGMA data_version` of this connection: it changes only when another connection (another process, or
   * another store object in this one) committed to the file since it was last asked — never for this
   * connection's own commits. Each call starts a read transaction that looks at the WAL index, so it sees
   * commits as soon as a read would; a few microseconds.
   */
  changeMark(): number {
    const row = this.run('read the data version', () => this.statements.dataVersion!.get()) as {
      data_version: number | bigint;
    };
    return Number(row.data_version);
  }

  async patchSettings(user: string, patch: SettingsPatch): Promise<UserSettings> {
    checkUser(user);
    return this.run('save settings', () =>
      transaction(this.db, () => {
        const next = mergeSettings(this.readSettings(user), patch);
        this.statements.putSettings!.run(user, JSON.stringify(next));
        return next;
      }),
    );
  }

  async putHistory(user: string, item: HistoryItem, options: PutHistoryOptions = {}): Promise<void> {
    checkUser(user);
    checkId(item.id);
    const expiresAt = options.expiresAt ? options.expiresAt.getTime() : null;
    return this.write('save history', () => this.history.put(user, item, expiresAt));
  }

  async getHistory(user: string, id: string, now = this.now()): Promise<StoredHistoryItem | null> {
    checkUser(user);
    if (!HISTORY_ID.test(id)) return null;
    const found = this.run('read history', () => this.history.get(user, id, now.getTime()));
    if (!found) return null;
    const { audioBytes: _bytes, ...item } = found;
    return item;
  }

  async deleteHistory(user: string, id: string): Promise<boolean> {
    checkUser(user);
    if (!HISTORY_ID.test(id)) return false;
    const deleted = this.run('delete history', () => this.history.delete(user, id));
    // The row is gone; a file that cannot be removed now is an orphan that maintain() removes later.
    if (deleted) await this.audio.remove(user, id).catch(() => undefined);
    return deleted;
  }

  async listHistory(user: string, query: HistoryQuery): Promise<HistoryPage> {
    checkUser(user);
    return this.run('list history', () =>
      this.history.list(user, query, (query.now ?? this.now()).getTime()),
    );
  }

  async findCached(user: string, cacheKey: string, now = this.now()): Promise<StoredHistoryItem | null> {
    checkUser(user);
    return this.run('look up stored audio', () => this.history.findCached(user, cacheKey, now.getTime()));
  }

  async addUsage(user: string, amount: UsageAmount, at = this.now()): Promise<void> {
    checkUser(user);
    checkAmount('characters', amount.characters);
    checkAmount('credits', amount.credits);
    this.run('record usage', () => this.usage.bump(user, utcDay(at), amount.characters, amount.credits));
  }

  async getUsage(user: string, days: number, now = this.now()): Promise<DailyUsage[]> {
    checkUser(user);
    const dates = lastDays(days, now);
    return this.run('read usage', () => this.usage.days(user, dates));
  }

  async reserveBudget(request: BudgetRequest): Promise<BudgetDecision> {
    checkUser(request.user);
    checkAmount('characters', request.characters);
    const at = request.at ?? this.now();
    return this.run('reserve the daily budget', () =>
      this.usage.reserve(request.user, request.characters, request.limit, at),
    );
  }

  async commitReservation(reservation: Reservation, actual: UsageAmount): Promise<void> {
    checkAmount('characters', actual.characters);
    checkAmount('credits', actual.credits);
    return this.usage.commit(reservation, actual);
  }

  async refundReservation(reservation: Reservation): Promise<void> {
    return this.usage.refund(reservation);
  }

  openAudio(user: string, id: string, options: AudioSinkOptions = {}): AudioSink {
    checkUser(user);
    checkId(id);
    return this.audio.openSink(user, id, options.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES);
  }

  async readAudio(user: string, id: string): Promise<StoredAudio> {
    checkUser(user);
    if (!HISTORY_ID.test(id))
      throw new AudioMissingError('no_item', `No history item ${JSON.stringify(id)}.`);
    const found = this.run('read history', () => this.history.get(user, id, this.now().getTime()));
    if (!found) throw new AudioMissingError('no_item', `No history item ${id}.`);
    if (found.audioBytes === null)
      throw new AudioMissingError('no_audio', `History item ${id} has no stored audio.`);
    return this.audio.read(user, id, found.audioBytes);
  }

  async getAudioUsage(user: string, now = this.now()): Promise<{ bytes: number }> {
    checkUser(user);
    const row = this.run('read audio usage', () => this.statements.audioUsage!.get(user, utcDay(now))) as {
      bytes: number;
    };
    return { bytes: Number(row.bytes) };
  }

  async maintain(now = this.now()): Promise<MaintenanceReport> {
    let expiredItems = 0;
    for (;;) {
      const batch = this.run('remove expired history', () =>
        this.history.expiredBatch(now.getTime(), EXPIRY_BATCH),
      );
      for (const row of batch) {
        if (this.run('remove expired history', () => this.history.delete(row.user, row.id))) expiredItems++;
        if (row.audio_bytes !== null) await this.audio.remove(row.user, row.id).catch(() => undefined);
      }
      if (batch.length < EXPIRY_BATCH) break;
    }
    const reclaimedReservations = this.run('reclaim reservations', () => this.usage.reclaimExpired(now));
    this.oauth.expire(now);
    const swept = await this.audio.sweep(now, this.options.orphanGraceMs ?? 15 * 60_000, (user, id) =>
      this.run('check audio files', () => this.history.hasAudio(user, id)),
    );
    return { expiredItems, reclaimedReservations, ...swept };
  }

  async checkReady(): Promise<void> {
    this.run('write the readiness mark', () => this.statements.ready!.run(this.now().toISOString()));
    const probe = join(this.audio.root, `.ready.${process.pid}.tmp`);
    try {
      await writeFile(probe, 'ok', { mode: 0o600 }).catch(async (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await mkdir(this.audio.root, { recursive: true, mode: 0o700 });
        await writeFile(probe, 'ok', { mode: 0o600 });
      });
    } catch (error) {
      throw fileError(error, `write audio files in ${this.audio.root}`);
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance.catch(() => undefined);
    await this.stopIntegrityCheck?.();
    await this.checkpointer?.stop();
    await this.audio.drain();
    // Writes queued until now (a speech that ended while the audio drained) commit before the file closes;
    // later ones are refused with StoreUnavailableError rather than lost.
    this.writes.close();
    this.db.close();
  }

  /** Pages the log holds before this connection checkpoints by itself (a backstop while the worker does it). */
  autocheckpointPages(): number {
    const row = this.db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number };
    return Number(row.wal_autocheckpoint);
  }

  /** Where the audio of a history item lives (for the legacy import and `earshot doctor`). */
  audioFilePath(user: string, id: string): string {
    checkUser(user);
    checkId(id);
    return this.audio.path(user, id);
  }

  readMeta(key: string): string | null {
    const row = this.run('read meta', () => this.statements.getMeta!.get(key)) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  /** Adds usage days and sets `key` in one transaction, unless `key` is already set (then false). */
  addUsageOnce(
    key: string,
    value: string,
    days: readonly ({ user: string; day: string } & UsageAmount)[],
  ): boolean {
    return this.run('import usage', () =>
      transaction(this.db, () => {
        if (this.statements.getMeta!.get(key)) return false;
        for (const d of days) this.usage.bump(d.user, d.day, d.characters, d.credits);
        this.statements.setMeta!.run(key, value);
        return true;
      }),
    );
  }

  private readSettings(user: string): UserSettings {
    const row = this.statements.getSettings!.get(user) as { doc: string } | undefined;
    return withDefaults(row ? (JSON.parse(row.doc) as Partial<UserSettings>) : null);
  }

  private run<T>(what: string, work: () => T): T {
    if (this.damage) throw this.damage;
    // Reads count too (see Checkpointer.storeCalled).
    this.checkpointer?.storeCalled();
    try {
      return work();
    } catch (error) {
      throw this.mapError(error, what);
    }
  }

  /** Like `run`, through the group commit: resolves once the transaction holding `work` committed. */
  private write<T>(what: string, work: () => T): Promise<T> {
    if (this.damage) return Promise.reject(this.damage);
    this.checkpointer?.storeCalled();
    return this.writes.write(what, work);
  }

  /** The StoreError for a failure; the first sign of damage is kept, and every later call fails with it. */
  private mapError(error: unknown, what: string): StoreError {
    const mapped = sqliteError(error, this.path, what);
    return mapped instanceof StoreCorruptError ? (this.damage ??= mapped) : mapped;
  }
}
