// The checkpoint worker on a disk that fills up for a while: a checkpoint that cannot grow the database file is
// skipped and tried again, and the worker copies the log back once there is room. Before, SQLite's "disk full"
// ended the worker, and the store's connection checkpointed on the event loop for the rest of the process's life.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { smallDiskForEachTest } from './support/small-disk-per-test.js';
import { runChildOnDisk } from './support/tmpfs.js';

const CHILD = fileURLToPath(new URL('./support/checkpoint-full-disk-child.ts', import.meta.url));

interface ChildReport {
  readonly whileFull: string;
  readonly workerWhileFull: string;
  readonly skipped: { readonly busy: number; readonly full: number };
  readonly afterwards: { readonly log: number; readonly checkpointed: number } | string;
  readonly autocheckpoint: number;
}

describe('the checkpoint worker on a disk that fills up', () => {
  const diskOfThisTest = smallDiskForEachTest('2m', 'checkpoint full-disk test');

  it('skips a checkpoint the full disk refuses, keeps running, and checkpoints once there is room', async (ctx) => {
    const disk = diskOfThisTest();
    // Never a silent pass: a machine that cannot mount a tmpfs says so in the test's name in the report.
    if (typeof disk === 'string') return ctx.skip(disk);
    const report = await runChildOnDisk<ChildReport>(disk, CHILD, [disk.dir]);
    expect(report.whileFull).toBe('full');
    expect(report.workerWhileFull).toBe('running');
    expect(report.skipped).toEqual({ busy: 0, full: 1 });
    expect(report.afterwards).toMatchObject({ checkpointed: expect.any(Number) as number });
    const afterwards = report.afterwards as { log: number; checkpointed: number };
    expect(afterwards.checkpointed).toBe(afterwards.log);
    expect(afterwards.log).toBeGreaterThan(0);
    // Still the worker's: the store's connection was not given its checkpoints back.
    expect(report.autocheckpoint).toBe(0);
  });
});
