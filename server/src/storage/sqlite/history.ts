/** History rows in SQLite: keyset paging on seq (time order), trigram full-text search, expiry, audio bytes. */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { HistoryItem } from '@earshot/protocol';
import type { HistoryPage, HistoryQuery, StoredHistoryItem } from '../contract.js';
import { StoreInputError } from '../errors.js';
import { cacheKeyOf, checkLimit, decodeCursor, encodeCursor, expiryDay, lowerSearch } from '../shared.js';
import { transaction } from './database.js';

interface Row {
  seq: number;
  doc: string;
  expires_at: number | null;
}

export interface ExpiredRow {
  user: string;
  id: string;
  audio_bytes: number | null;
  expires_at: number;
}

/** Items stored in the same millisecond get consecutive seq values; past this many the put is refused. */
const PER_MS = 1024; // × createdAt in ms stays below 2^53 (exact in a JS number) until the year 2249
/** Needles under 3 characters (no trigrams) are matched by reading this many of the user's items per call. */
export const SHORT_SEARCH_BUDGET = 5000;
const LIVE = '(h.expires_at IS NULL OR h.expires_at > :now)';
const COLUMNS = 'h.seq, h.doc, h.expires_at';

export class HistoryTable {
  private readonly select: StatementSync;
  private readonly current: StatementSync;
  private readonly lastInMs: StatementSync;
  private readonly insert: StatementSync;
  private readonly update: StatementSync;
  private readonly remove: StatementSync;
  private readonly page: StatementSync;
  private readonly search: StatementSync;
  private readonly window: StatementSync;
  private readonly shortSearch: StatementSync;
  private readonly expired: StatementSync;
  private readonly addAudio: StatementSync;
  private readonly referenced: StatementSync;
  private readonly cached: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.select = db.prepare(
      'SELECT h.seq, h.doc, h.expires_at, h.audio_bytes FROM history h WHERE h.user = ? AND h.id = ?',
    );
    this.current = db.prepare(
      'SELECT seq, created_at, audio_bytes, expires_at FROM history WHERE user = ? AND id = ?',
    );
    this.lastInMs = db.prepare('SELECT max(seq) AS seq FROM history WHERE seq >= ? AND seq < ?');
    this.insert = db.prepare(
      `INSERT INTO history (seq, user, id, created_at, expires_at, audio_bytes, text, voice_name, doc, cache_key)
       VALUES (:seq, :user, :id, :created, :expires, :bytes, :text, :voice, :doc, :cacheKey)`,
    );
    this.update = db.prepare(
      `UPDATE history SET expires_at = :expires, audio_bytes = :bytes, text = :text, voice_name = :voice, doc = :doc,
         cache_key = :cacheKey WHERE seq = :seq`,
    );
    this.remove = db.prepare(
      'DELETE FROM history WHERE user = ? AND id = ? RETURNING audio_bytes, expires_at',
    );
    this.page = db.prepare(
      `SELECT ${COLUMNS} FROM history h WHERE h.user = :user AND h.seq < :below AND ${LIVE}
       ORDER BY h.seq DESC LIMIT :limit`,
    );
    // Driven by the full-text index in descending rowid (= time) order: it stops after LIMIT matches.
    this.search = db.prepare(
      `SELECT ${COLUMNS} FROM history_fts f JOIN history h ON h.seq = f.rowid
       WHERE history_fts MATCH :match AND f.rowid < :below AND h.user = :user AND ${LIVE}
       ORDER BY f.rowid DESC LIMIT :limit`,
    );
    this.window = db.prepare(
      `SELECT seq FROM history WHERE user = :user AND seq < :below ORDER BY seq DESC LIMIT 1 OFFSET ${SHORT_SEARCH_BUDGET - 1}`,
    );
    this.shortSearch = db.prepare(
      `SELECT ${COLUMNS} FROM history h WHERE h.user = :user AND h.seq < :below AND h.seq >= :floor AND ${LIVE}
         AND (instr(lower(h.text), :needle) > 0 OR instr(lower(h.voice_name), :needle) > 0)
       ORDER BY h.seq DESC LIMIT :limit`,
    );
    this.expired = db.prepare(
      'SELECT user, id, audio_bytes, expires_at FROM history WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
    );
    this.addAudio = db.prepare(
      `INSERT INTO audio_usage (user, expiry_day, bytes) VALUES (?, ?, ?)
       ON CONFLICT (user, expiry_day) DO UPDATE SET bytes = bytes + excluded.bytes`,
    );
    this.referenced = db.prepare(
      'SELECT 1 AS found FROM history WHERE user = ? AND id = ? AND audio_bytes IS NOT NULL',
    );
    this.cached = db.prepare(
      `SELECT ${COLUMNS} FROM history h WHERE h.user = :user AND h.cache_key = :key AND ${LIVE}
       ORDER BY h.seq DESC LIMIT 1`,
    );
  }

  /**
   * Inserts or replaces the item and its audio accounting. Opens no transaction: its statements run in the
   * caller's (the store's group commit, in a savepoint of their own), so many items can share one commit.
   */
  put(user: string, item: HistoryItem, expiresAt: number | null): void {
    const createdMs = Date.parse(item.createdAt);
    if (!Number.isFinite(createdMs) || createdMs < 0) {
      throw new StoreInputError(
        `history item ${item.id} has an invalid createdAt ${JSON.stringify(item.createdAt)}`,
      );
    }
    const fields = {
      expires: expiresAt,
      bytes: item.audio?.bytes ?? null,
      text: item.text,
      voice: item.voice.name,
      doc: JSON.stringify(item),
      cacheKey: cacheKeyOf(item),
    };
    const old = this.current.get(user, item.id) as
      { seq: number; created_at: string; audio_bytes: number | null; expires_at: number | null } | undefined;
    if (old?.audio_bytes) this.addAudio.run(user, expiryDay(old.expires_at), -old.audio_bytes);
    if (old && old.created_at === item.createdAt) {
      this.update.run({ ...fields, seq: old.seq });
    } else {
      if (old) this.remove.get(user, item.id);
      const base = createdMs * PER_MS;
      const last = (this.lastInMs.get(base, base + PER_MS) as { seq: number | null }).seq;
      const seq = last === null ? base : last + 1;
      if (seq >= base + PER_MS)
        throw new StoreInputError(`more than ${PER_MS} history items in one millisecond`);
      this.insert.run({ ...fields, seq, user, id: item.id, created: item.createdAt });
    }
    if (item.audio?.bytes) this.addAudio.run(user, expiryDay(expiresAt), item.audio.bytes);
  }

  get(user: string, id: string, now: number): (StoredHistoryItem & { audioBytes: number | null }) | null {
    const row = this.select.get(user, id) as (Row & { audio_bytes: number | null }) | undefined;
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
    return { ...toItem(row), audioBytes: row.audio_bytes };
  }

  /** Deletes the row and its audio accounting; true when there was one. */
  delete(user: string, id: string): boolean {
    return transaction(this.db, () => {
      const old = this.remove.get(user, id) as
        { audio_bytes: number | null; expires_at: number | null } | undefined;
      if (old?.audio_bytes) this.addAudio.run(user, expiryDay(old.expires_at), -old.audio_bytes);
      return old !== undefined;
    });
  }

  list(user: string, query: HistoryQuery, now: number): HistoryPage {
    const limit = checkLimit(query);
    let below = query.cursor ? readCursor(query.cursor) : Number.MAX_SAFE_INTEGER;
    if (query.before) {
      const beforeMs = Date.parse(query.before);
      if (!Number.isFinite(beforeMs))
        throw new StoreInputError(`before must be an ISO time, not ${JSON.stringify(query.before)}`);
      below = Math.min(below, Math.max(0, beforeMs) * PER_MS);
    }
    const params = { user, now, below, limit: limit + 1 };
    const needle = lowerSearch(query.search);
    let rows: Row[];
    let windowEnd: number | null = null;
    if (!needle) rows = this.page.all(params) as unknown as Row[];
    else if ([...needle].length >= 3) {
      rows = this.search.all({ ...params, match: `"${needle.replaceAll('"', '""')}"` }) as unknown as Row[];
    } else {
      windowEnd = (this.window.get({ user, below }) as { seq: number } | undefined)?.seq ?? null;
      rows = this.shortSearch.all({ ...params, needle, floor: windowEnd ?? 0 }) as unknown as Row[];
    }
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > limit && last) nextCursor = encodeCursor({ s: last.seq });
    // A short needle read its whole window without filling the page: go on below the window next time.
    else if (windowEnd !== null) nextCursor = encodeCursor({ s: windowEnd });
    return { items: items.map(toItem), nextCursor };
  }

  /** The newest live item with this cache key (completed, with audio), or null. */
  findCached(user: string, key: string, now: number): StoredHistoryItem | null {
    const row = this.cached.get({ user, key, now }) as Row | undefined;
    return row ? toItem(row) : null;
  }

  expiredBatch(now: number, limit: number): ExpiredRow[] {
    return this.expired.all(now, limit) as unknown as ExpiredRow[];
  }

  hasAudio(user: string, id: string): boolean {
    return this.referenced.get(user, id) !== undefined;
  }
}

function toItem(row: Row): StoredHistoryItem {
  const item = JSON.parse(row.doc) as HistoryItem;
  return row.expires_at === null ? item : { ...item, expiresAt: new Date(row.expires_at).toISOString() };
}

function readCursor(cursor: string): number {
  const value = decodeCursor(cursor) as { s?: unknown } | null;
  if (typeof value?.s !== 'number' || !Number.isSafeInteger(value.s) || value.s < 0) {
    throw new StoreInputError('invalid history cursor: pass nextCursor from the previous page unchanged');
  }
  return value.s;
}
