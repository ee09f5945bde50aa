import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeCompileCache, installCacheDir } from './compile-cache.js';

const run = promisify(execFile);
const MODULE = fileURLToPath(new URL('./compile-cache.ts', import.meta.url));

describe('the compile cache folder of an install', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'earshot-compile-cache-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is in the node_modules Earshot was installed into', () => {
    const file = join(root, 'app', 'node_modules', 'earshot', 'dist', 'main.js');
    expect(installCacheDir(file)).toBe(join(root, 'app', 'node_modules', '.cache', 'earshot'));
  });

  it("is in a checkout's own node_modules, the nearest above the file", async () => {
    await mkdir(join(root, 'repo', 'node_modules'), { recursive: true });
    const file = join(root, 'repo', 'server', 'dist', 'cli', 'main.js');
    expect(installCacheDir(file)).toBe(join(root, 'repo', 'node_modules', '.cache', 'earshot'));
    await mkdir(join(root, 'repo', 'server', 'node_modules'), { recursive: true });
    expect(installCacheDir(file)).toBe(join(root, 'repo', 'server', 'node_modules', '.cache', 'earshot'));
  });

  it('is none when no node_modules is above the file', () => {
    // The temp folder's own parents may hold a node_modules: start from the filesystem root's level instead.
    expect(installCacheDir('/earshot-compile-cache-test/dist/main.js')).toBeUndefined();
  });
});

describe('keepCompiledCode, in a fresh Node', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'earshot-compile-cache-'));
    await mkdir(join(root, 'node_modules', 'earshot', 'dist'), { recursive: true });
    // A module for the cache to keep, loaded after the cache is on.
    await writeFile(join(root, 'loaded.mjs'), 'export const answer = 42;\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Runs keepCompiledCode as if from an installed Earshot under `root`, loads a module, writes the cache out. */
  async function child(env: NodeJS.ProcessEnv): Promise<string> {
    const script = [
      `const { keepCompiledCode } = await import(${JSON.stringify(MODULE)});`,
      `const directory = keepCompiledCode(${JSON.stringify(join(root, 'node_modules', 'earshot', 'dist', 'main.js'))});`,
      `await import(${JSON.stringify(join(root, 'loaded.mjs'))});`,
      `(await import('node:module')).flushCompileCache();`,
      'process.stdout.write(String(directory));',
    ].join('\n');
    const { NODE_COMPILE_CACHE: _moved, NODE_DISABLE_COMPILE_CACHE: _off, ...inherited } = process.env;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...inherited, ...env },
    });
    return stdout;
  }

  it("keeps the compiled code of modules loaded afterwards in the install's node_modules", async () => {
    const directory = await child({});
    expect(directory).toBe(join(root, 'node_modules', '.cache', 'earshot'));
    // Node keeps one folder per Node version and V8 flags, holding an entry per module.
    const [versioned] = await readdir(directory);
    expect(versioned).toMatch(/^v\d+\./);
    expect((await readdir(join(directory, versioned!))).length).toBeGreaterThan(0);
  });

  it('keeps nothing when NODE_DISABLE_COMPILE_CACHE=1', async () => {
    expect(await child({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBe('undefined');
    expect(await readdir(join(root, 'node_modules'))).toEqual(['earshot']);
  });
});

describe("earshot doctor's line on the cache", () => {
  const INSTALL = '/opt/earshot/node_modules/.cache/earshot';
  it('names the folder in use, or says why there is none', () => {
    expect(describeCompileCache(INSTALL, {}, INSTALL)).toBe(
      `${INSTALL} (later starts read their compiled code from it)`,
    );
    expect(describeCompileCache(undefined, { NODE_DISABLE_COMPILE_CACHE: '1' }, INSTALL)).toMatch(
      /^off \(NODE_DISABLE_COMPILE_CACHE is set\), so every start compiles/,
    );
    expect(describeCompileCache(undefined, {}, undefined)).toMatch(/^none \(no node_modules folder/);
    // Node could not use the folder: the one it was asked for (NODE_COMPILE_CACHE) or the install's.
    expect(describeCompileCache(undefined, {}, INSTALL)).toBe(
      `not in use: ${INSTALL} cannot be created or written by this user, so every start compiles every module it loads`,
    );
    expect(describeCompileCache(undefined, { NODE_COMPILE_CACHE: '/ro/cache' }, INSTALL)).toMatch(
      /^not in use: \/ro\/cache /,
    );
  });
});
