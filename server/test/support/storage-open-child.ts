/**
 * Opens (and closes) the SQLite store of each folder named on stdin, answering "opened" or the error:
 * several of these sent one new folder at once open it together. Prints "waiting" when ready.
 * Run with `node --import tsx --conditions=@earshot/source storage-open-child.ts`.
 */
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/storage/sqlite/store.js';

const lines = createInterface({ input: process.stdin });
process.stdout.write('waiting\n');
for await (const line of lines) {
  const dataDir = line.trim();
  if (!dataDir) continue;
  try {
    const store = SqliteStore.open({ dataDir, maintainOnOpen: false, integrityCheck: 'none' });
    await store.close();
    process.stdout.write('opened\n');
  } catch (error) {
    process.stdout.write(`${(error as Error).message}\n`);
  }
}
