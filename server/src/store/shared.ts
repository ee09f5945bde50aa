/** What the local and S3 stores share: the names they accept and how history is searched. */
import type { HistoryItem } from '@earshot/protocol';
import type { HistoryQuery } from './types.js';

/** History ids and user names that may become file names or object keys (no separators, no dots first). */
export const HISTORY_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Newest first, created before `before`, with `search` in the text or the voice name; at most `limit`. */
export function queryHistory(items: Iterable<HistoryItem>, query: HistoryQuery): HistoryItem[] {
  const needle = query.search?.toLowerCase();
  return [...items]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .filter((item) => !query.before || item.createdAt < query.before)
    .filter(
      (item) =>
        !needle || item.text.toLowerCase().includes(needle) || item.voice.name.toLowerCase().includes(needle),
    )
    .slice(0, query.limit);
}
