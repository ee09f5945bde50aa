/** What both backends share: accepted names, the settings merge, cursors, UTC days, exact-length streams. */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { DEFAULT_SETTINGS, type HistoryItem, type UserSettings } from '@earshot/protocol';
import type { HistoryQuery, SettingsPatch } from './contract.js';
import { AudioMissingError, StoreInputError } from './errors.js';

/** History ids and user names that may become file names or keys (no separators, no leading dot). */
export const HISTORY_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A clip bigger than this is not kept unless the caller says otherwise. */
export const DEFAULT_MAX_AUDIO_BYTES = 16 * 1024 * 1024;
/** How long a reservation holds before another process may reclaim it (a crashed speech's booking). */
export const DEFAULT_RESERVATION_LEASE_MS = 60 * 60 * 1000;
export const MAX_HISTORY_PAGE = 500;
/** Audio of items that never expire is counted under this day. */
export const NO_EXPIRY_DAY = '9999-12-31';

export function checkUser(user: string): void {
  if (!USER_NAME.test(user))
    throw new StoreInputError(`invalid user name for storage: ${JSON.stringify(user)}`);
}

export function checkId(id: string): void {
  if (!HISTORY_ID.test(id)) throw new StoreInputError(`invalid history id ${JSON.stringify(id)}`);
}

export function checkLimit(query: HistoryQuery): number {
  const limit = query.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
    throw new StoreInputError(`history page size must be 1–${MAX_HISTORY_PAGE}, not ${limit}`);
  }
  return limit;
}

export function checkAmount(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new StoreInputError(`${name} must be ≥ 0, not ${value}`);
}

/** YYYY-MM-DD of `at` in UTC. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The `days` UTC days ending with the day of `now`, oldest first. */
export function lastDays(days: number, now: Date): string[] {
  if (!Number.isInteger(days) || days < 1 || days > 3660)
    throw new StoreInputError(`days must be 1–3660, not ${days}`);
  const result: string[] = [];
  for (let i = days - 1; i >= 0; i--) result.push(utcDay(new Date(now.getTime() - i * 86_400_000)));
  return result;
}

export function expiryDay(expiresAtMs: number | null): string {
  return expiresAtMs === null ? NO_EXPIRY_DAY : utcDay(new Date(expiresAtMs));
}

/** Saved settings (possibly from an older version) over today's defaults. */
export function withDefaults(saved: Partial<UserSettings> | null | undefined): UserSettings {
  return { ...DEFAULT_SETTINGS, ...saved };
}

/** The one settings merge both backends apply inside their atomic update. */
export function mergeSettings(current: UserSettings, patch: SettingsPatch): UserSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || key === 'voiceSettings') continue;
    next[key] = value;
  }
  if (patch.voiceSettings) {
    const voiceSettings: Record<string, unknown> = { ...current.voiceSettings };
    for (const [key, value] of Object.entries(patch.voiceSettings))
      if (value !== undefined) voiceSettings[key] = value;
    next.voiceSettings = voiceSettings;
  }
  return next as unknown as UserSettings;
}

/** Cursors are base64url JSON, opaque to callers; a damaged one is a 400, not a 500. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): unknown {
  try {
    if (cursor.length > 2048) throw new Error('too long');
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StoreInputError('invalid history cursor: pass nextCursor from the previous page unchanged');
  }
}

/** The key an identical later request finds this item by: only a completed item with audio can answer it. */
export function cacheKeyOf(item: HistoryItem): string | null {
  return item.cacheKey && item.status === 'completed' && item.audio ? item.cacheKey : null;
}

export function lowerSearch(search: string | undefined): string | undefined {
  const needle = search?.trim().toLowerCase();
  return needle ? needle : undefined;
}

/**
 * Passes exactly `bytes` bytes through and fails the stream if the source ends short: a reader that
 * announced a content-length must never end early in silence (or hang).
 */
export function exactLength(source: Readable, bytes: number, what: string): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const room = bytes - seen;
      if (room <= 0) return callback();
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      seen += part.length;
      callback(null, part);
    },
    flush(callback: TransformCallback) {
      if (seen < bytes) {
        callback(new AudioMissingError('short', `${what} ended after ${seen} of ${bytes} bytes`));
      } else callback();
    },
  });
  source.on('error', (error) => guard.destroy(error));
  guard.on('close', () => source.destroy());
  return source.pipe(guard);
}
