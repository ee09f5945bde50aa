import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Temporary folders and clean-ups for one test file, undone after each test: the clean-ups first (closing what
 * holds files open), then the folders. Call at the top level of the file.
 */
export function testFolders(prefix: string): {
  /** A new empty folder under the system's temp folder, removed after the test. */
  readonly folder: () => Promise<string>;
  /** Runs `cleanup` after the test (its failure does not hide the test's own). */
  readonly afterTest: (cleanup: () => unknown) => void;
} {
  const folders: string[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
    await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return {
    folder: async () => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      folders.push(dir);
      return dir;
    },
    afterTest: (cleanup) => void cleanups.push(cleanup),
  };
}
