// Bundles the server's own code into a few ES module chunks: `node server/scripts/bundle.mjs [OUTDIR]`
// (npm run build does, into server/dist/bundle). `npm start`, the Docker image, `earshot` without tsx and the
// benchmark run this bundle, and scripts/pack.mjs publishes the same build, so what is measured is what users get.
// Why a bundle: Node resolves, reads and links every module file at start; the server and its workspace packages
// as ~30 chunks instead of ~170 files start ~90 ms sooner without Node's compile cache, 30–60 ms with it (2 cores).
// The workspace packages (@earshot/protocol, @earshot/flite) are private, so they are bundled too; every real npm
// dependency stays external, to be installed beside it, and any other package (a transitive one the server happens
// to import) fails the build, so nothing undeclared is ever shipped.
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { listSources, recordSources, repoBundle } from '../bin/fresh-bundle.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The repo's bundle: beside dist/cli/, so paths the code finds from its own file (../../package.json) hold. */
const REPO_BUNDLE_DIR = join(root, 'server/dist/bundle');

/** @type {Record<string, string>} */
const workspaces = { '@earshot/protocol': 'packages/protocol', '@earshot/flite': 'packages/flite' };

/** @typedef {{ name: string, version: string, description?: string, license?: string, engines?: object, dependencies?: Record<string, string> }} Manifest */

/**
 * @param {string} path
 * @returns {Manifest}
 */
export function manifest(path) {
  /** @type {unknown} */
  const parsed = JSON.parse(readFileSync(join(root, path), 'utf8'));
  return /** @type {Manifest} */ (parsed);
}

/**
 * The npm packages the bundle imports: server/package.json's dependencies, with each workspace package replaced
 * by its own dependencies (it is bundled).
 * @returns {Record<string, string>}
 */
export function externalDependencies() {
  /** @type {Record<string, string>} */
  const dependencies = {};
  for (const [name, range] of Object.entries(manifest('server/package.json').dependencies ?? {})) {
    if (name in workspaces) {
      for (const [dependency, wanted] of Object.entries(
        manifest(`${workspaces[name]}/package.json`).dependencies ?? {},
      ))
        if (!(dependency in workspaces)) dependencies[dependency] = wanted;
    } else dependencies[name] = range;
  }
  return dependencies;
}

/**
 * Builds the bundle into `outdir` (its main.js is the CLI) with the Flite worker files beside it.
 * @param {string} outdir
 */
export async function bundleServer(outdir) {
  // Chunk names carry a content hash: an earlier build's chunks would stay beside the new ones.
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'server/src/cli/main.ts')],
    outdir,
    bundle: true,
    // Each command loads its modules lazily (main.ts): chunks keep --version and --help instant.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    conditions: ['@earshot/source'],
    logLevel: 'warning',
    plugins: [onlyDeclaredDependencies(new Set(Object.keys(externalDependencies())))],
  });
  // thread.ts starts `new URL('./worker.js', import.meta.url)`: its chunk sits in outdir, so the worker goes there.
  // The worker imports the Opus encoder (opus/opus.js) itself, so that file goes beside it at the same path.
  for (const file of ['worker.js', 'wasi-shim.js', 'opus/opus.js'])
    cpSync(join(root, 'packages/flite/src', file), join(outdir, file));
}

/**
 * Keeps each declared dependency external and lets esbuild bundle the workspace packages; any other package
 * fails the build.
 * @param {Set<string>} declared
 * @returns {import('esbuild').Plugin}
 */
function onlyDeclaredDependencies(declared) {
  const builtins = new Set(builtinModules);
  return {
    name: 'only-declared-dependencies',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^[^./]/ }, ({ path }) => {
        if (path.startsWith('node:') || builtins.has(path)) return { path, external: true };
        const name = path.startsWith('@') ? path.split('/', 2).join('/') : (path.split('/', 1)[0] ?? path);
        if (name in workspaces) return undefined;
        if (declared.has(name)) return { path, external: true };
        return { errors: [{ text: `${name} is imported but not a dependency in server/package.json` }] };
      });
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outdir = resolve(process.argv[2] ?? REPO_BUNDLE_DIR);
  // The repo's bundle records what it was built from, for the launcher (bin/fresh-bundle.js); the listing is taken
  // before the build reads the sources.
  const repo = repoBundle(join(root, 'server'));
  const listing = outdir === REPO_BUNDLE_DIR ? listSources(repo.bundle, repo.sources) : undefined;
  await bundleServer(outdir);
  if (listing) recordSources(repo.bundle, listing);
}
