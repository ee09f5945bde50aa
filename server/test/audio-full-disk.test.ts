// A clip whose one write meets a disk with room for only part of it: the file system takes what fits (a short
// write), the sink writes on and meets ENOSPC, and the clip is refused as "disk full" with nothing left behind,
// never kept as complete with its end missing.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { smallDiskForEachTest } from './support/small-disk-per-test.js';
import { runChildOnDisk, type SmallDisk } from './support/tmpfs.js';

const CHILD = fileURLToPath(new URL('./support/audio-full-disk-child.ts', import.meta.url));

interface ChildReport {
  readonly kept: boolean;
  readonly bytes?: number;
  readonly name?: string;
  readonly message?: string;
  readonly left: readonly { readonly name: string; readonly bytes: number }[];
}

function runChild(disk: SmallDisk, roomBytes: number, clipBytes: number): Promise<ChildReport> {
  return runChildOnDisk(disk, CHILD, [disk.dir, String(roomBytes), String(clipBytes)]);
}

describe('an audio clip on a disk that fills up during its write', () => {
  const diskOfThisTest = smallDiskForEachTest('1m', 'audio full-disk test');

  it('is refused as disk full after a short write, and leaves no file', async (ctx) => {
    const disk = diskOfThisTest();
    // Never a silent pass: a machine that cannot mount a tmpfs says so in the test's name in the report.
    if (typeof disk === 'string') return ctx.skip(disk);
    const report = await runChild(disk, 24 * 1024, 60_000);
    expect(report).toMatchObject({ kept: false, name: 'StoreFullError' });
    expect(report.message).toMatch(/^The disk is full: .*ENOSPC/);
    expect(report.left).toEqual([]);
  });

  it('is kept whole when it fits', async (ctx) => {
    const disk = diskOfThisTest();
    if (typeof disk === 'string') return ctx.skip(disk);
    const report = await runChild(disk, 256 * 1024, 60_000);
    expect(report).toMatchObject({
      kept: true,
      bytes: 60_000,
      left: [{ name: 'clip.audio', bytes: 60_000 }],
    });
  });
});
