// Whether the bundle `npm run build` made can stand in for the sources: the launcher starts it (a few dozen files,
// read from the compile cache) instead of compiling every source file through tsx, which took an MCP client's
// `earshot mcp` seconds to answer. Kept to plain JavaScript the launcher can import before anything is built.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Beside the bundle: every source file it was built from, with its size and modification time then. */
const SOURCES_FILE = 'sources.json';

/** @typedef {Record<string, [size: number, mtimeMs: number]>} SourceListing */

/**
 * Every file under `sources` (folders, searched through; or single files; missing ones skipped) with its size and
 * modification time, keyed by its path relative to `bundle`'s folder. A stat call per file (~250 here: 10–18 ms in
 * a new process, 3 ms warm).
 * @param {string} bundle
 * @param {readonly string[]} sources
 * @returns {SourceListing}
 */
export function listSources(bundle, sources) {
  const base = dirname(bundle);
  /** @type {SourceListing} */
  const listing = {};
  const add = (/** @type {string} */ path, /** @type {import('node:fs').Stats} */ info) => {
    listing[relative(base, path)] = [info.size, info.mtimeMs];
  };
  for (const source of sources) {
    /** @type {import('node:fs').Stats} */
    let info;
    try {
      info = statSync(source);
    } catch {
      continue; // a package without that folder
    }
    if (!info.isDirectory()) {
      add(source, info);
      continue;
    }
    for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      add(path, statSync(path));
    }
  }
  return listing;
}

/**
 * Records beside `bundle` the sources as they are now. The build takes the listing before it reads them, so a file
 * changed while it runs no longer matches, and the sources run.
 * @param {string} bundle
 * @param {SourceListing} listing taken by listSources(bundle, …)
 */
export function recordSources(bundle, listing) {
  writeFileSync(join(dirname(bundle), SOURCES_FILE), JSON.stringify(listing));
}

/**
 * True when `bundle` exists and the files under `sources` are exactly those it was built from: none added, none
 * removed, each with the size and modification time it had then (recordSources). An edit, a checkout, a `git pull`
 * or a file restored with an older time all differ, and the sources run instead, so the launcher is never stale.
 * A bundle without its listing (from an older build) is not trusted.
 * @param {string} bundle
 * @param {readonly string[]} sources
 * @returns {boolean}
 */
export function freshBundle(bundle, sources) {
  /** @type {SourceListing} */
  let built;
  try {
    statSync(bundle);
    /** @type {unknown} */
    const parsed = JSON.parse(readFileSync(join(dirname(bundle), SOURCES_FILE), 'utf8'));
    built = /** @type {SourceListing} */ (parsed);
  } catch {
    return false;
  }
  const now = listSources(bundle, sources);
  const names = Object.keys(now);
  if (names.length !== Object.keys(built).length) return false;
  return names.every((name) => {
    const then = built[name];
    return then !== undefined && then[0] === now[name]?.[0] && then[1] === now[name]?.[1];
  });
}

/**
 * What the repo's bundle is built from, relative to the server folder: its and the workspace packages' sources, and
 * the build script (its `workspaces` list names the same packages).
 */
const BUNDLE_SOURCES = ['src', 'scripts/bundle.mjs', '../packages/protocol/src', '../packages/flite/src'];

/**
 * The repo's bundle and what it is built from, under `serverDir`.
 * @param {string} serverDir
 * @returns {{ bundle: string, sources: string[] }}
 */
export function repoBundle(serverDir) {
  return {
    bundle: join(serverDir, 'dist', 'bundle', 'main.js'),
    sources: BUNDLE_SOURCES.map((path) => join(serverDir, path)),
  };
}

/**
 * The repo's bundle (`dist/bundle/main.js` under `serverDir`) when it is fresh (see freshBundle), else undefined.
 * @param {string} serverDir
 * @returns {string | undefined}
 */
export function freshRepoBundle(serverDir) {
  const { bundle, sources } = repoBundle(serverDir);
  return freshBundle(bundle, sources) ? bundle : undefined;
}
