/**
 * Keeps V8's compiled code for the modules a command loads on disk, so the next start reads it instead of
 * compiling again (Node's module compile cache): measured 5–10% of `earshot serve`'s or `earshot mcp`'s start
 * once warm. Every agent session spawns `earshot mcp`, so after the first start all of them are warm.
 *
 * The cache lives with the install that runs, in its node_modules folder (`node_modules/.cache/earshot`, where
 * build tools keep theirs): it goes when the install goes, belongs to whoever owns the install, and a clone's
 * test runs leave nothing in the home or temp folders. Node checks each entry against the module's source, so an
 * upgrade never runs stale code. Where the folder cannot be written (an install owned by another user), Node
 * skips the cache and a start is as before. Node's own settings win: NODE_COMPILE_CACHE=dir moves it,
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import { existsSync } from 'node:fs';
import module from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Turns the cache on for modules loaded from now on. Returns the folder in use, or undefined when there is
 * none (no node_modules above this file, turned off, or a folder Node could not use).
 */
export function keepCompiledCode(from: string = fileURLToPath(import.meta.url)): string | undefined {
  const directory = installCacheDir(from);
  if (directory === undefined) return undefined;
  return module.enableCompileCache(directory).directory;
}

/** The cache folder of the install `file` belongs to: the nearest node_modules at or above it, `.cache/earshot`. */
export function installCacheDir(file: string): string | undefined {
  for (let dir = dirname(file); ;) {
    // Earshot installed as a package (…/node_modules/earshot/dist/…), or a checkout with its own node_modules.
    if (basename(dir) === 'node_modules') return join(dir, '.cache', 'earshot');
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'earshot');
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `earshot doctor`'s line on the cache, for this process: where it is, or why there is none (never a failure). */
export function compileCacheStatus(env: NodeJS.ProcessEnv = process.env): string {
  return describeCompileCache(
    module.getCompileCacheDir(),
    env,
    installCacheDir(fileURLToPath(import.meta.url)),
  );
}

/** The words of compileCacheStatus, from what it found (apart, so each case is tested). */
export function describeCompileCache(
  active: string | undefined,
  env: NodeJS.ProcessEnv,
  installDir: string | undefined,
): string {
  const without = 'so every start compiles every module it loads';
  if (active) return `${active} (later starts read their compiled code from it)`;
  if (env.NODE_DISABLE_COMPILE_CACHE) return `off (NODE_DISABLE_COMPILE_CACHE is set), ${without}`;
  const wanted = env.NODE_COMPILE_CACHE || installDir;
  if (!wanted) return `none (no node_modules folder at or above Earshot), ${without}`;
  return `not in use: ${wanted} cannot be created or written by this user, ${without}`;
}
