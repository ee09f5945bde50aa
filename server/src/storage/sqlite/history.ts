/** History rows in SQLite: keyset paging on (created_at, id), trigram full-text search, expiry, audio bytes. */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { HistoryItem } from '@earshot/protocol';
import type { HistoryPage, HistoryQuery, StoredHistoryItem } from '../contract.js';
import { StoreInputError } from '../errors.js';
import { checkLimit, decodeCursor, encodeCursor, expiryDay, lowerSearch } from '../shared.js';
import { transaction } from './database.js';

interface Row {
  doc: string;
  created_at: string;
  id: string;
  expires_at: number | null;
}

export interface ExpiredRow {
  user: string;
  id: string;
  audio_bytes: number | null;
  expires_at: number;
}

/** Past every created_at (ISO times start with a digit): the first page's upper bound. */
const TOP = '\u{10FFFF}';
const LIVE = '(expires_at IS NULL OR expires_at > :now)';
const PAGE = `(created_at, id) < (:created, :id) AND ${LIVE} ORDER BY created_at DESC, id DESC LIMIT :limit`;

export class HistoryTable {
  private readonly select: StatementSync;
  private readonly selectAudio: StatementSync;
  private readonly upsert: StatementSync;
  private readonly remove: StatementSync;
  private readonly page: StatementSync;
  private readonly search: StatementSync;
  private readonly scanSearch: StatementSync;
  private readonly expired: StatementSync;
  private readonly addAudio: StatementSync;
  private readonly referenced: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.select = db.prepare('SELECT doc, created_at, id, expires_at, audio_bytes FROM history WHERE user = ? AND id = ?');
    this.selectAudio = db.prepare('SELECT audio_bytes, expires_at FROM history WHERE user = ? AND id = ?');
    this.upsert = db.prepare(
      `INSERT INTO history (user, id, created_at, expires_at, audio_bytes, text, voice_name, doc)
       VALUES (:user, :id, :created, :expires, :bytes, :text, :voice, :doc)
       ON CONFLICT (user, id) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at,
         audio_bytes = excluded.audio_bytes, text = excluded.text, voice_name = excluded.voice_name, doc = excluded.doc`,
    );
    this.remove = db.prepare('DELETE FROM history WHERE user = ? AND id = ? RETURNING audio_bytes, expires_at');
    this.page = db.prepare(`SELECT doc, created_at, id, expires_at FROM history WHERE user = :user AND ${PAGE}`);
    this.search = db.prepare(
      `SELECT doc, created_at, id, expires_at FROM history WHERE user = :user AND seq IN
         (SELECT rowid FROM history_fts WHERE history_fts MATCH :match) AND ${PAGE}`,
    );
    // Trigrams need 3 characters; shorter needles walk the user's rows in time order.
    this.scanSearch = db.prepare(
      `SELECT doc, created_at, id, expires_at FROM history WHERE user = :user AND
         (instr(lower(text), :needle) > 0 OR instr(lower(voice_name), :needle) > 0) AND ${PAGE}`,
    );
    this.expired = db.prepare(
      'SELECT user, id, audio_bytes, expires_at FROM history WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
    );
    this.addAudio = db.prepare(
      `INSERT INTO audio_usage (user, expiry_day, bytes) VALUES (?, ?, ?)
       ON CONFLICT (user, expiry_day) DO UPDATE SET bytes = bytes + excluded.bytes`,
    );
    this.referenced = db.prepare('SELECT 1 AS found FROM history WHERE user = ? AND id = ? AND audio_bytes IS NOT NULL');
  }

  put(user: string, item: HistoryItem, expiresAt: number | null): void {
    transaction(this.db, () => {
      const old = this.selectAudio.get(user, item.id) as { audio_bytes: number | null; expires_at: number | null } | undefined;
      if (old?.audio_bytes) this.addAudio.run(user, expiryDay(old.expires_at), -old.audio_bytes);
      this.upsert.run({
        user,
        id: item.id,
        created: item.createdAt,
        expires: expiresAt,
        bytes: item.audio?.bytes ?? null,
        text: item.text,
        voice: item.voice.name,
        doc: JSON.stringify(item),
      });
      if (item.audio?.bytes) this.addAudio.run(user, expiryDay(expiresAt), item.audio.bytes);
    });
  }

  get(user: string, id: string, now: number): (StoredHistoryItem & { audioBytes: number | null }) | null {
    const row = this.select.get(user, id) as (Row & { audio_bytes: number | null }) | undefined;
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
    return { ...toItem(row), audioBytes: row.audio_bytes };
  }

  /** Deletes the row and its audio accounting; true when there was one. */
  delete(user: string, id: string): boolean {
    return transaction(this.db, () => {
      const old = this.remove.get(user, id) as { audio_bytes: number | null; expires_at: number | null } | undefined;
      if (old?.audio_bytes) this.addAudio.run(user, expiryDay(old.expires_at), -old.audio_bytes);
      return old !== undefined;
    });
  }

  list(user: string, query: HistoryQuery, now: number): HistoryPage {
    const limit = checkLimit(query);
    const after = query.cursor ? readCursor(query.cursor) : undefined;
    const params = {
      user,
      now,
      created: after?.created ?? query.before ?? TOP,
      id: after?.id ?? '',
      limit: limit + 1,
    };
    const needle = lowerSearch(query.search);
    let rows: Row[];
    if (!needle) rows = this.page.all(params) as unknown as Row[];
    else if ([...needle].length < 3) rows = this.scanSearch.all({ ...params, needle }) as unknown as Row[];
    else rows = this.search.all({ ...params, match: `"${needle.replaceAll('"', '""')}"` }) as unknown as Row[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toItem),
      nextCursor: more && last ? encodeCursor({ c: last.created_at, i: last.id }) : null,
    };
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

function readCursor(cursor: string): { created: string; id: string } {
  const value = decodeCursor(cursor) as { c?: unknown; i?: unknown } | null;
  if (typeof value?.c !== 'string' || typeof value.i !== 'string') {
    throw new StoreInputError('invalid history cursor: pass nextCursor from the previous page unchanged');
  }
  return { created: value.c, id: value.i };
}
