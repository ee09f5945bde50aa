/**
 * The checkpoint worker on a disk that fills up, for checkpoint-full-disk.test.ts. Run inside the small tmpfs
 * (`smallDisk`'s wrapper, or as root on its mount) with
 * `node --import tsx --conditions=@earshot/source checkpoint-full-disk-child.ts DIR`: it writes pages into the
 * log of a new database, fills the disk, asks the worker for a checkpoint (which must grow the database file),
 * then frees the disk and asks again. It prints what each request came to, as JSON.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CALLS_PER_LOOK, startCheckpointer } from '../../src/storage/sqlite/checkpointer.js';
import { fill } from './tmpfs.js';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: checkpoint-full-disk-child.ts DIR');
const path = join(dir, 'full.db');
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)');
// Looks only when nudged (CALLS_PER_LOOK store calls), at the first page waiting.
const checkpointer = startCheckpointer(db, { path, busyTimeoutMs: 100, pages: 1, everyMs: 3_600_000 });
await checkpointer.ready;
// The store's connection keeps no backstop here: only the worker copies the log back.
db.exec('PRAGMA wal_autocheckpoint = 0');
const look = () => {
  for (let i = 0; i < CALLS_PER_LOOK; i++) checkpointer.storeCalled();
};
const stillRunning = () =>
  Promise.race([checkpointer.failed.then((error) => error.message), Promise.resolve('running')]);

// ~300 kB in the log, none of it in the database file yet: copying it back grows that file.
for (let i = 0; i < 15; i++) db.exec('INSERT INTO t VALUES (randomblob(20000))');
const free = fill(dir);
// Whichever comes first: a skip (with why), a checkpoint, or the worker's end (which also rejects the other two).
const failed = checkpointer.failed.then((error) => `failed: ${error.message}`);
const skipped = checkpointer.nextSkip().catch(() => failed);
const checkpointed = checkpointer.next().then(
  () => 'checkpointed',
  () => failed,
);
look();
const whileFull = await Promise.race([skipped, checkpointed, failed]);
const workerWhileFull = await stillRunning();

free();
const next = checkpointer.next();
look();
const afterwards = await Promise.race([next.catch(() => failed), failed]);
const autocheckpoint = (db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
  .wal_autocheckpoint;
process.stdout.write(
  `${JSON.stringify({ whileFull, workerWhileFull, skipped: checkpointer.skipped, afterwards, autocheckpoint })}\n`,
);
await checkpointer.stop();
db.close();
