import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { freshBundle } = (await import(pathToFileURL(join(repoRoot, 'server/bin/fresh-bundle.js')).href)) as {
  freshBundle: (bundle: string, sources: readonly string[]) => boolean;
};

const dir = mkdtempSync(join(tmpdir(), 'earshot-fresh-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `path` (under the test folder) with its modification time `seconds` after an arbitrary start. */
function file(path: string, seconds: number): string {
  const full = join(dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, path);
  const at = 1_700_000_000 + seconds;
  utimesSync(full, at, at);
  return full;
}

describe('which build the earshot launcher starts in the repo', () => {
  it('the bundle, when no source changed after it was built', () => {
    const bundle = file('a/dist/main.js', 100);
    file('a/src/cli/main.ts', 50);
    file('a/src/deep/er/module.ts', 99);
    const script = file('a/scripts/bundle.mjs', 10);
    expect(freshBundle(bundle, [join(dir, 'a/src'), script, join(dir, 'a/missing/src')])).toBe(true);
  });

  it('the sources, when any file under them is newer than the bundle, however deep', () => {
    const bundle = file('b/dist/main.js', 100);
    file('b/src/cli/main.ts', 50);
    file('b/src/deep/er/edited.ts', 101);
    expect(freshBundle(bundle, [join(dir, 'b/src')])).toBe(false);
  });

  it('the sources, when a single file named (the build script) is newer', () => {
    const bundle = file('c/dist/main.js', 100);
    expect(freshBundle(bundle, [file('c/scripts/bundle.mjs', 200)])).toBe(false);
  });

  it('the sources, when there is no bundle', () => {
    file('d/src/main.ts', 1);
    expect(freshBundle(join(dir, 'd/dist/main.js'), [join(dir, 'd/src')])).toBe(false);
  });
});
