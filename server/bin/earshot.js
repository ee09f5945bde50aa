#!/usr/bin/env node
// The `earshot` command. A small committed launcher rather than a compiled file, so the bin exists the moment
// npm links it (`npm ci` in the repo links it before anything is built) and an old Node gets one clear line.
// It runs, in order:
// - in the repo (src/ beside bin/): the bundle `npm run build` makes (server/dist/bundle) when no source changed
//   after it was built (an MCP client starting `earshot mcp` gets an answer in about a second rather than after
//   tsx has compiled every file); otherwise the TypeScript sources through tsx, so `npx earshot` is never stale and
//   needs no build; without tsx (a production install) the bundle whatever its age;
// - in the published package (no src/): the bundle in dist/ that scripts/pack.mjs builds.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tooOldNode } from './node-version.js';

const problem = tooOldNode(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}

const here = (/** @type {string} */ path) => new URL(path, import.meta.url);
const source = here('../src/cli/main.ts');
const compiled = here('../dist/bundle/main.js');

/** @type {string | undefined} */
let fresh;
if (!existsSync(source)) {
  await import(here('../dist/main.js').href);
} else if ((fresh = await freshBundleOfRepo())) {
  await import(pathToFileURL(fresh).href);
} else if (await startTsx()) {
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  console.error(
    'earshot is not built and tsx is not installed: run "npm ci" then "npm run build" in the repo.',
  );
  process.exit(1);
}

/**
 * The repo's bundle when its sources are those it was built from (fresh-bundle.js, which only a checkout has:
 * the published package ships its bundle alone).
 * @returns {Promise<string | undefined>}
 */
async function freshBundleOfRepo() {
  const { freshRepoBundle } = await import('./fresh-bundle.js');
  return freshRepoBundle(fileURLToPath(here('..')));
}

/**
 * Loads TypeScript through tsx, with the workspace packages resolved to their sources (their `@earshot/source`
 * export condition, which tsx does not take from tsconfig). False when tsx is not installed.
 * @returns {Promise<boolean>}
 */
async function startTsx() {
  /** @type {{ register(): unknown }} */
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    return false;
  }
  const { register } = await import('node:module');
  const addCondition =
    'export async function resolve(specifier, context, next) {' +
    ' return next(specifier, { ...context, conditions: [...context.conditions, "@earshot/source"] }); }';
  register(`data:text/javascript,${encodeURIComponent(addCondition)}`);
  tsx.register();
  return true;
}
