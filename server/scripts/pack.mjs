// Builds the publishable `earshot` package and packs it with `npm pack`:
//   node server/scripts/pack.mjs [DEST]   (npm run package: builds first, then this; the tarball goes to DEST)
// The workspace packages (@earshot/protocol, @earshot/flite) are private, so esbuild bundles them, with the
// server, into dist/; every real npm dependency stays external and is listed in the generated package.json,
// taken from server/package.json (plus what the bundled workspace packages depend on) so it never drifts.
// The console (web/dist, from `npm run build`) is copied to dist/console, the Flite worker beside the chunk
// that starts it. Prints the tarball's path.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dest = resolve(process.argv[2] ?? '.');

/** @typedef {{ name: string, version: string, description?: string, license?: string, engines?: object, dependencies?: Record<string, string> }} Manifest */
/**
 * @param {string} path
 * @returns {Manifest}
 */
function manifest(path) {
  return /** @type {Manifest} */ (parseJson(readFileSync(join(root, path), 'utf8')));
}

const server = manifest('server/package.json');
/** @type {Record<string, string>} */
const workspaces = { '@earshot/protocol': 'packages/protocol', '@earshot/flite': 'packages/flite' };
/** @type {Record<string, string>} */
const dependencies = {};
for (const [name, range] of Object.entries(server.dependencies ?? {})) {
  if (name in workspaces) {
    // A workspace package's own dependencies come along, except the workspace packages it uses (bundled too).
    for (const [dependency, wanted] of Object.entries(
      manifest(`${workspaces[name]}/package.json`).dependencies ?? {},
    ))
      if (!(dependency in workspaces)) dependencies[dependency] = wanted;
  } else dependencies[name] = range;
}

if (!existsSync(join(root, 'web/dist/index.html'))) {
  console.error('web/dist is missing: run "npm run build" first (npm run package does).');
  process.exit(1);
}

mkdirSync(dest, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), 'earshot-package-'));
try {
  await build({
    entryPoints: [join(root, 'server/src/cli/main.ts')],
    outdir: join(stage, 'dist'),
    bundle: true,
    // Each command loads its modules lazily (main.ts): chunks keep --version and --help instant.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    conditions: ['@earshot/source'],
    logLevel: 'warning',
    plugins: [onlyDeclaredDependencies(new Set(Object.keys(dependencies)))],
  });
  // thread.ts starts `new URL('./worker.js', import.meta.url)`: its chunk sits in dist/, so the worker goes there.
  // The worker imports the Opus encoder (opus/opus.js) itself, so that file goes beside it at the same path.
  for (const file of ['worker.js', 'wasi-shim.js', 'opus/opus.js'])
    cpSync(join(root, 'packages/flite/src', file), join(stage, 'dist', file));
  cpSync(join(root, 'web/dist'), join(stage, 'dist/console'), { recursive: true });
  for (const file of ['earshot.js', 'node-version.js'])
    cpSync(join(root, 'server/bin', file), join(stage, 'bin', file));
  cpSync(join(root, 'README.md'), join(stage, 'README.md'));
  const repository = process.env.GITHUB_REPOSITORY;
  const published = {
    name: server.name,
    version: server.version,
    description: server.description,
    license: server.license,
    keywords: ['mcp', 'model-context-protocol', 'text-to-speech', 'elevenlabs', 'tts', 'agent'],
    // npm publish --provenance checks this against the workflow's repository.
    ...(repository ? { repository: { type: 'git', url: `git+https://github.com/${repository}.git` } } : {}),
    type: 'module',
    bin: { earshot: 'bin/earshot.js' },
    files: ['bin', 'dist'],
    engines: server.engines,
    dependencies,
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  const npmPack = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: stage,
    encoding: 'utf8',
  });
  const report = /** @type {{ filename: string }[]} */ (parseJson(npmPack));
  const [packed] = report;
  if (!packed) throw new Error('npm pack reported no tarball');
  process.stdout.write(`${join(dest, packed.filename)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/**
 * @param {string} text
 * @returns {unknown}
 */
function parseJson(text) {
  return JSON.parse(text);
}

/**
 * Keeps each declared dependency external and lets esbuild bundle the workspace packages; any other package
 * (a transitive one the server happens to import) fails the build, so the tarball never ships an undeclared copy.
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
