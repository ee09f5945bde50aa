// Builds the publishable `earshot` package and packs it with `npm pack`:
//   node server/scripts/pack.mjs [DEST]   (npm run package: builds first, then this; the tarball goes to DEST)
// dist/ holds the bundle scripts/bundle.mjs builds (the one the repo runs, workspace packages inside, the Flite
// worker beside the chunk that starts it); every real npm dependency stays external and is listed in the generated
// package.json, taken from server/package.json (plus what the bundled workspace packages depend on) so it never
// drifts. The console (web/dist, from `npm run build`) is copied to dist/console. Prints the tarball's path.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleServer, externalDependencies, manifest } from './bundle.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dest = resolve(process.argv[2] ?? '.');
const server = manifest('server/package.json');
const dependencies = externalDependencies();

if (!existsSync(join(root, 'web/dist/index.html'))) {
  console.error('web/dist is missing: run "npm run build" first (npm run package does).');
  process.exit(1);
}

mkdirSync(dest, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), 'earshot-package-'));
try {
  await bundleServer(join(stage, 'dist'));
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
