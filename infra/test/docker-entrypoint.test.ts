// The Dockerfile's runtime contract, checked without a Docker daemon: its instructions are parsed, the paths it copies
// exist in the built repo, and its CMD runs with its ENV as a plain process — as an unprivileged user who cannot
// write to the application files (what the read-only root file system and USER give the container) — then /healthz
// and the HEALTHCHECK command itself are exercised.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../src/proxy/testing/local-nginx.js';

const run = promisify(execFile);
const repoRoot = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, backslash continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(args)?.[1];
      stages.push({ from: args, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const all = (keyword: string): string[] =>
  runtime.instructions
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args);
const one = (keyword: string): string => {
  const found = all(keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!;
};

/** `ENV A=1 B=2` lines of the runtime stage as an object. */
function runtimeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all('ENV')) {
    for (const [, key = '', value = ''] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g))
      env[key] = value.replace(/^"|"$/g, '');
  }
  return env;
}

const cmd = JSON.parse(one('CMD')) as string[];
const healthcheck = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(one('HEALTHCHECK'))?.[1] ?? 'null') as string[];

describe('Dockerfile', () => {
  it('builds in stages on Node 24 LTS and ships a runtime stage for the target platform (arm64 on Fargate)', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(stages[0]!.from).toBe('--platform=$BUILDPLATFORM ${NODE_IMAGE} AS build');
    expect(stages[1]!.from).toBe('--platform=$TARGETPLATFORM ${NODE_IMAGE} AS deps');
    expect(runtime.from).toBe('--platform=$TARGETPLATFORM ${NODE_IMAGE} AS runtime');
    expect(stages[1]!.instructions.find((i) => i.keyword === 'RUN')?.args).toMatch(/npm ci --omit=dev/);
    // Nothing is built or installed in the runtime stage: it only copies.
    expect(all('RUN')).toEqual([]);
  });

  it('runs as a non-root user, listens on 8080 on all interfaces, checks /healthz, and keeps data under /tmp', () => {
    expect(one('USER')).toBe('node');
    expect(one('EXPOSE')).toBe('8080');
    expect(runtimeEnv()).toEqual({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8080',
      EARSHOT_DATA_DIR: '/tmp/earshot',
    });
    expect(cmd).toEqual(['node', 'server/dist/bundle/main.js', 'serve']);
    expect(one('HEALTHCHECK')).toMatch(/^--interval=30s --timeout=5s --start-period=20s --retries=3 CMD \[/);
    expect(healthcheck.slice(0, 2)).toEqual(['node', '-e']);
    expect(healthcheck[2]).toContain('/healthz');
  });

  it('copies only paths that exist after `npm run build`, including what CMD runs', () => {
    const copied = all('COPY').map((args) => /\/app\/(\S+)\s+\S+$/.exec(args)?.[1] ?? args);
    expect(copied).toContain('server/dist');
    for (const path of copied) {
      expect(existsSync(join(repoRoot, path)), `${path} (run "npm run build" first)`).toBe(true);
    }
    expect(existsSync(join(repoRoot, cmd[1]!))).toBe(true);
    // The build stage's own COPY sources come from the build context, which .dockerignore must not hide.
    const contextSources = stages[0]!.instructions
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.startsWith('--from'))
      .flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1));
    const ignored = dockerignore.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    for (const source of contextSources) {
      expect(existsSync(join(repoRoot, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.env', '**/.env', '.earshot']) {
      expect(ignored).toContain(pattern);
    }
  });
});

describe('the image entrypoint as a plain process', () => {
  it('serves /healthz with the image environment as an unprivileged user, passes its HEALTHCHECK, and stops on SIGTERM', async () => {
    const mainJs = join(repoRoot, cmd[1]!);
    if (!existsSync(mainJs))
      throw new Error(`${mainJs} is missing: run "npm run build" first (npm test does).`);
    const home = await mkdtemp(join(tmpdir(), 'earshot-image-'));
    const port = await freePort();
    // The image's environment; HOST narrows to loopback for the test and the data dir is this test's own /tmp.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...runtimeEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
      EARSHOT_DATA_DIR: join(home, 'earshot'),
      EARSHOT_API_KEYS: `ops:${'0'.repeat(64)}`,
    };
    // Like USER node on a read-only root file system: the built repository is mounted read-only at /app's stand-in
    // in a mount namespace of the server's own (so it need not be readable from where the checkout lives, which
    // may be a private 0700 folder), and the server runs without any capability — as nobody when the test runs
    // as root, as the test's own (unprivileged) user otherwise, inside a user namespace that allows the mount.
    const app = join(home, 'app');
    await mkdir(app);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(home, 65_534, 65_534);
    const unprivileged = [
      'setpriv',
      ...(asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups'] : []),
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
    ];
    const namespaces = asRoot ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
    // The Node running this test, as seen through the mount when it lives in the repository (the pinned one).
    const node = process.execPath.startsWith(`${repoRoot}/`)
      ? join(app, relative(repoRoot, process.execPath))
      : process.execPath;
    const [binary, ...args] = [
      'unshare',
      ...namespaces,
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind -o ro "$1" "$2" && cd "$2" && shift 2 && exec "$@"',
      'sh',
      repoRoot,
      app,
      ...unprivileged,
      node,
      ...cmd.slice(1),
    ];
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const healthcheckExit = async (): Promise<number> => {
      const [node, ...rest] = healthcheck;
      expect(node).toBe('node');
      return run(process.execPath, rest, { env, timeout: 5_000 }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    };
    try {
      // waitFor takes a failed fetch for "not yet"; an exit is final, so it ends the wait with the output.
      await Promise.race([
        waitFor(
          'the server to answer /healthz',
          async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
          60_000,
        ),
        exited.then((code) => {
          throw new Error(`the server exited (${String(code)}) before answering: ${output}`);
        }),
      ]);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await healthcheckExit()).toBe(0);
      // The server (unshare, sh and setpriv exec into it: same pid) runs as a user other than root, with no
      // capability, and that user cannot change the application files.
      const commandLine = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
      expect(commandLine.slice(1, -1)).toEqual(cmd.slice(1));
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      expect(uid).toBe(asRoot ? 65_534 : process.getuid?.());
      expect(uid).not.toBe(0);
      expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toMatch(/^0+$/);
      const enter = ['-t', String(child.pid), ...(asRoot ? [] : ['-U', '--preserve-credentials']), '-m'];
      const probe = await run('nsenter', [...enter, ...unprivileged, 'touch', join(app, cmd[1]!)]).then(
        () => 'written',
        (error: { stderr: string }) => error.stderr,
      );
      expect(probe).toMatch(/Permission denied|Read-only file system/);
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
      ]);
      expect(code).toBe(0);
      // With the server gone, the same HEALTHCHECK reports unhealthy.
      expect(await healthcheckExit()).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  }, 120_000);
});
