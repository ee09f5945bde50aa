import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

type Listing = Record<string, [number, number]>;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { freshBundle, listSources, recordSources } = (await import(
  pathToFileURL(join(repoRoot, 'server/bin/fresh-bundle.js')).href
)) as {
  freshBundle: (bundle: string, sources: readonly string[]) => boolean;
  listSources: (bundle: string, sources: readonly string[]) => Listing;
  recordSources: (bundle: string, listing: Listing) => void;
};

const dir = mkdtempSync(join(tmpdir(), 'earshot-fresh-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `path` (under the test folder) with `text` and a modification time `seconds` after an arbitrary start. */
function file(path: string, seconds: number, text = path): string {
  const full = join(dir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
  const at = 1_700_000_000 + seconds;
  utimesSync(full, at, at);
  return full;
}

/** A project `name` built as `npm run build` does: sources, then the bundle and the listing it was built from. */
function built(name: string): { bundle: string; sources: string[] } {
  file(`${name}/src/cli/main.ts`, 50);
  file(`${name}/src/deep/er/module.ts`, 99);
  const sources = [
    join(dir, name, 'src'),
    file(`${name}/scripts/bundle.mjs`, 10),
    join(dir, name, 'missing'),
  ];
  const bundle = file(`${name}/dist/main.js`, 100);
  recordSources(bundle, listSources(bundle, sources));
  return { bundle, sources };
}

describe('which build the earshot launcher starts in the repo', () => {
  it('the bundle, when the sources are those it was built from', () => {
    const { bundle, sources } = built('a');
    expect(freshBundle(bundle, sources)).toBe(true);
  });

  it('the sources, when a file was edited, however deep', () => {
    const { bundle, sources } = built('b');
    file('b/src/deep/er/module.ts', 101, 'edited');
    expect(freshBundle(bundle, sources)).toBe(false);
  });

  it('the sources, when a file was put back with an older time than the bundle (a restore, an rsync -t)', () => {
    const { bundle, sources } = built('c');
    // Same size, a time before the build: a check of times against the bundle's alone would take the bundle.
    file('c/src/cli/main.ts', 60, 'c/src/cli/xxxx.ts');
    expect(freshBundle(bundle, sources)).toBe(false);
  });

  it('the sources, when a file was added or removed', () => {
    const added = built('d');
    file('d/src/new.ts', 20);
    expect(freshBundle(added.bundle, added.sources)).toBe(false);
    const removed = built('e');
    unlinkSync(join(dir, 'e/src/deep/er/module.ts'));
    expect(freshBundle(removed.bundle, removed.sources)).toBe(false);
  });

  it('the sources, when the single file named (the build script) changed', () => {
    const { bundle, sources } = built('f');
    file('f/scripts/bundle.mjs', 200);
    expect(freshBundle(bundle, sources)).toBe(false);
  });

  it('the sources, when there is no bundle, or a bundle without its listing (an older build)', () => {
    file('g/src/main.ts', 1);
    expect(freshBundle(join(dir, 'g/dist/main.js'), [join(dir, 'g/src')])).toBe(false);
    const bundle = file('g/dist/main.js', 100);
    expect(freshBundle(bundle, [join(dir, 'g/src')])).toBe(false);
  });
});
