import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temporary directories of this run; removed at exit even when a run is interrupted or throws. */
const live = new Set<string>();
process.on('exit', () => {
  for (const dir of live) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort at exit.
    }
  }
});

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  live.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Stops tracking a directory without removing it (kept on purpose, or unmounted and removed elsewhere). */
export function keepTempDir(dir: string): void {
  live.delete(dir);
}
