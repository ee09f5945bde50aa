/**
 * A second OS process on one SQLite data folder, for the store's multi-process tests. Run with
 * `node --import tsx --conditions=@earshot/source storage-child.ts DATA_DIR LABEL`: it opens the store,
 * prints "ready", waits for "go" on stdin, then records usage, history and reservations as fast as it can
 * and prints a JSON summary.
 */
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { historyItem } from './storage-items.js';

const [dataDir, label] = process.argv.slice(2);
if (!dataDir || !label) throw new Error('usage: storage-child.ts DATA_DIR LABEL');
const NOON = new Date('2026-03-10T12:00:00.000Z');
const store = SqliteStore.open({ dataDir, maintainOnOpen: false, now: () => NOON });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  let reserved = 0;
  for (let i = 0; i < 200; i++) {
    await store.addUsage('shared', { characters: 1, credits: 1 });
    if (i % 10 === 0) {
      const id = `${label}-${i}`;
      await store.putHistory(
        'shared',
        historyItem(id, new Date(NOON.getTime() + i).toISOString(), `from ${label}`),
      );
    }
    if (i % 8 === 0 && (await store.reserveBudget({ user: 'budget', characters: 1, limit: 30 })).ok)
      reserved++;
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ reserved })}\n`);
  break;
}
lines.close();
