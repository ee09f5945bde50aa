// Apart from tmpfs.ts, which the children running on the small disk import too: they run outside vitest.
import { afterEach, beforeEach } from 'vitest';
import { smallDisk, type SmallDisk } from './tmpfs.js';

/**
 * A small disk of its own for each test of the calling suite (each fills it), made before and removed after it.
 * The getter gives the disk, or why none could be made (the test then skips with that reason, never a silent pass).
 */
export function smallDiskForEachTest(size: string, what: string): () => SmallDisk | string {
  let disk: SmallDisk | string = 'not made yet';
  beforeEach(() => {
    disk = smallDisk(size);
    if (typeof disk === 'string') console.warn(`${what}: ${disk}`);
  });
  afterEach(() => {
    if (typeof disk !== 'string') disk.cleanup();
  });
  return () => disk;
}
