// Following tasks as they come and go: the real earshot-upstreams script re-renders the upstreams and reloads the
// real nginx; with no task, nginx answers "service sleeping" itself.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayer, UnexpectedResponse } from '../src/proxy/testing/clients.js';
import { startEchoBackend, type EchoBackend } from '../src/proxy/testing/echo-backend.js';
import {
  freePort,
  startLocalNginx,
  upstreamsScript,
  waitFor,
  type LocalNginx,
} from '../src/proxy/testing/local-nginx.js';

const run = promisify(execFile);

interface SleepingBody {
  readonly error: { readonly code: string; readonly message: string };
}

describe('upstream discovery with real nginx', () => {
  let a: EchoBackend;
  let b: EchoBackend;
  let nginx: LocalNginx;
  let base: string;

  beforeAll(async () => {
    a = await startEchoBackend('a');
    b = await startEchoBackend('b');
    // The production form of the sleeping server (a loopback port; the other tests use a unix socket).
    nginx = await startLocalNginx({
      tasks: [],
      runtime: { sleepingServer: `127.0.0.1:${await freePort()}`, workerShutdownTimeout: '1s' },
    });
    base = `http://127.0.0.1:${nginx.httpPort}`;
  });

  afterAll(async () => {
    await nginx?.stop();
    await a?.close();
    await b?.close();
  });

  async function backendFor(key: string): Promise<string> {
    const response = await fetch(`${base}/api/v1/settings`, {
      headers: { Authorization: `Bearer ${key}`, ...nginx.cloudFront },
    });
    if (response.status !== 200) return `status ${response.status}`;
    return ((await response.json()) as { backend: string }).backend;
  }

  async function backendsOf(keys: readonly string[]): Promise<Set<string>> {
    return new Set(await Promise.all(keys.map(backendFor)));
  }

  // Placement depends on the tasks' random ports: 24 users make "all on one task" a one-in-a-million draw.
  const users = Array.from({ length: 24 }, (_, index) => `discovery-user-${index}`);

  /** Puts nginx in the state a test starts from (each test sets its own, so any order works). */
  async function serving(tasks: readonly string[], expected: readonly string[]): Promise<void> {
    await nginx.discover(tasks);
    await waitFor(`${expected.join(' and ')} to answer everyone`, async () => {
      const seen = await backendsOf(users);
      return seen.size === expected.length && expected.every((backend) => seen.has(backend));
    });
  }

  it('answers a JSON 503 "service_sleeping" while no task runs, for REST, MCP and players alike', async () => {
    await serving([], ['status 503']);
    expect(await readFile(nginx.upstreamsFile, 'utf8')).toContain('No task is running');
    const rest = await fetch(`${base}/api/v1/settings`, {
      headers: { Authorization: 'Bearer k', ...nginx.cloudFront },
    });
    expect(rest.status).toBe(503);
    expect(rest.headers.get('content-type')).toBe('application/json');
    expect(rest.headers.get('retry-after')).toBe('300');
    const body = (await rest.json()) as SleepingBody;
    expect(body.error.code).toBe('service_sleeping');
    expect(body.error.message).toMatch(/outside its active hours/);

    const mcp = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { Authorization: 'Bearer k', ...nginx.cloudFront },
      body: '{}',
    });
    expect(mcp.status).toBe(503);
    expect(((await mcp.json()) as SleepingBody).error.code).toBe('service_sleeping');

    const player = openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, 'k', { headers: nginx.cloudFront });
    await expect(player).rejects.toBeInstanceOf(UnexpectedResponse);
    const refused = (await player.catch((error: unknown) => error)) as UnexpectedResponse;
    expect(refused.status).toBe(503);
    expect((JSON.parse(refused.body) as SleepingBody).error.code).toBe('service_sleeping');

    // nginx itself stays healthy: the instance's health check must not fail outside active hours.
    expect((await fetch(`${base}/nginx-health`)).status).toBe(200);
  });

  it('picks up the first task, then a second, then loses one, reloading nginx each time', async () => {
    await serving([], ['status 503']);
    const first = await nginx.discover([a.address]);
    expect(first.stderr).toContain(`upstreams now: ${a.address}`);
    await waitFor('task a to serve everyone', async () => {
      const seen = await backendsOf(users);
      return seen.size === 1 && seen.has('a');
    });

    // Players connected while only a runs...
    const players = await Promise.all(
      users.map((key) =>
        openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, key, { headers: nginx.cloudFront }),
      ),
    );
    expect(new Set(players.map(({ hello }) => hello.backend))).toEqual(new Set(['a']));
    const closed = players.map(
      ({ socket }) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );

    await nginx.discover([a.address, b.address]);
    await waitFor('users to spread over a and b', async () => {
      const seen = await backendsOf(users);
      return seen.size === 2 && seen.has('a') && seen.has('b');
    });
    // ...are closed by the reload's worker_shutdown_timeout, and reconnect to the task their MCP calls now reach.
    await Promise.race([
      Promise.all(closed),
      new Promise((_resolve, reject) =>
        setTimeout(() => reject(new Error('old player sockets stayed open')), 8_000),
      ),
    ]);
    for (const key of users) {
      const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, key, {
        headers: nginx.cloudFront,
      });
      socket.close();
      expect(hello.backend).toBe(await backendFor(key));
    }

    await nginx.discover([b.address]);
    await waitFor('task b to serve everyone', async () => {
      const seen = await backendsOf(users);
      return seen.size === 1 && seen.has('b');
    });
  });

  it('leaves the file and nginx alone when the set of tasks did not change', async () => {
    await nginx.discover([b.address]);
    const before = await stat(nginx.upstreamsFile);
    const again = await nginx.discover([b.address]);
    expect(again.stderr).toBe('');
    expect((await stat(nginx.upstreamsFile)).mtimeMs).toBe(before.mtimeMs);
  });

  it('goes back to "service sleeping" when the last task is gone', async () => {
    await serving([b.address], ['b']);
    await nginx.discover([]);
    await waitFor('the sleeping answer', async () => (await backendsOf(users)).has('status 503'));
    expect(await backendsOf(users)).toEqual(new Set(['status 503']));
  });

  it('answers a JSON 502 when a listed task does not answer', async () => {
    // A port nothing listens on: a task that died between two discovery runs.
    await nginx.discover(['127.0.0.1:9']);
    await waitFor('the upstream-unavailable answer', async () => {
      const response = await fetch(`${base}/api/v1/settings`, {
        headers: { Authorization: 'Bearer k', ...nginx.cloudFront },
      });
      if (response.status !== 502) return false;
      return ((await response.json()) as SleepingBody).error.code === 'upstream_unavailable';
    });
    const player = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, 'k', {
      headers: nginx.cloudFront,
    }).catch((error: unknown) => error);
    expect(player).toBeInstanceOf(UnexpectedResponse);
    expect((player as UnexpectedResponse).status).toBe(502);
  });
});

describe('earshot-upstreams on its own', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-upstreams-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runScript(answer: string, extra: Record<string, string> = {}) {
    const resolver = join(dir, 'resolve.sh');
    await writeFile(resolver, `#!/bin/sh\ntest "$1" = api.earshot.test || exit 9\nprintf '${answer}'\n`, {
      mode: 0o755,
    });
    return run('bash', [upstreamsScript], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        EARSHOT_UPSTREAM_HOST: 'api.earshot.test',
        EARSHOT_UPSTREAM_PORT: '8080',
        EARSHOT_UPSTREAMS_FILE: join(dir, 'upstreams.conf'),
        EARSHOT_RESOLVE_CMD: resolver,
        EARSHOT_NGINX_RELOAD_CMD: 'true',
        ...extra,
      },
    });
  }

  it('adds the default port, drops junk, sorts, and hashes the user upstream on the route key', async () => {
    await runScript('10.0.1.9\\n10.0.1.10\\nnot-an-ip\\n10.0.1.9\\n;evil\\n10.0.1.11:9000\\n');
    const file = await readFile(join(dir, 'upstreams.conf'), 'utf8');
    expect(file.match(/server \S+/g)).toEqual([
      'server 10.0.1.10:8080',
      'server 10.0.1.11:9000',
      'server 10.0.1.9:8080',
      'server 10.0.1.10:8080',
      'server 10.0.1.11:9000',
      'server 10.0.1.9:8080',
    ]);
    expect(file).toMatch(/upstream earshot_user \{\n {4}hash \$earshot_route_key consistent;/);
    expect(file).toMatch(/upstream earshot_any \{\n {4}server 10\.0\.1\.10:8080/);
  });

  it('needs two empty answers in a row before going to sleep (one failed lookup must not take the service down)', async () => {
    await runScript('10.0.1.9\\n', { EARSHOT_EMPTY_CONFIRMATIONS: '2' });
    const once = await runScript('', { EARSHOT_EMPTY_CONFIRMATIONS: '2' });
    expect(once.stderr).toMatch(/answer 1 of 2/);
    expect(await readFile(join(dir, 'upstreams.conf'), 'utf8')).toContain('server 10.0.1.9:8080');
    // An answer in between resets the count.
    await runScript('10.0.1.9\\n', { EARSHOT_EMPTY_CONFIRMATIONS: '2' });
    await runScript('', { EARSHOT_EMPTY_CONFIRMATIONS: '2' });
    expect(await readFile(join(dir, 'upstreams.conf'), 'utf8')).toContain('server 10.0.1.9:8080');
    await runScript('', { EARSHOT_EMPTY_CONFIRMATIONS: '2' });
    expect(await readFile(join(dir, 'upstreams.conf'), 'utf8')).toContain('No task is running');
  });

  it('restores the previous file when nginx rejects the new one', async () => {
    await runScript('10.0.1.20\\n');
    const failed = await runScript('10.0.1.21\\n', { EARSHOT_NGINX_RELOAD_CMD: 'false' }).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/restoring the previous file/);
    expect(await readFile(join(dir, 'upstreams.conf'), 'utf8')).toContain('server 10.0.1.20:8080');
  });
});
