// The rendered nginx config, run with the machine's real nginx in front of two stand-in tasks.
import { once } from 'node:events';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoBackend, type EchoBackend } from '../src/proxy/testing/echo-backend.js';
import { openPlayer, openSocket, rawRequest } from '../src/proxy/testing/clients.js';
import { startLocalNginx, waitFor, type LocalNginx } from '../src/proxy/testing/local-nginx.js';

let a: EchoBackend;
let b: EchoBackend;
let nginx: LocalNginx;
let base: string;

beforeAll(async () => {
  a = await startEchoBackend('a');
  b = await startEchoBackend('b');
  nginx = await startLocalNginx({ tasks: [a.address, b.address] });
  base = `http://127.0.0.1:${nginx.httpPort}`;
});

afterAll(async () => {
  await nginx?.stop();
  await a?.close();
  await b?.close();
});

interface Echo {
  readonly backend: string;
  readonly key: string;
  readonly bytes: number;
  readonly headers: Record<string, string | undefined>;
}

async function apiAs(key: string, path = '/api/v1/settings'): Promise<Echo> {
  const response = await fetch(`${base}${path}`, {
    headers: { Authorization: `Bearer ${key}`, ...nginx.cloudFront },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Echo;
}

/** The body of a `location` block in the rendered config. */
function locationBlock(config: string, location: string): string {
  const start = config.indexOf(`location ${location} {`);
  expect(start, `location ${location}`).toBeGreaterThanOrEqual(0);
  // Up to the brace that closes this block (the origin check nests an `if { }` inside it).
  let depth = 0;
  for (let at = config.indexOf('{', start); at < config.length; at++) {
    if (config[at] === '{') depth++;
    if (config[at] === '}' && --depth === 0) return config.slice(start, at);
  }
  return config.slice(start);
}

describe('nginx in front of two tasks', () => {
  it('answers its own health check with security headers and no version', async () => {
    const response = await fetch(`${base}/nginx-health`);
    expect(response.status).toBe(200);
    // It names the upstream set it serves: earshot-upstreams waits for the new one after a reload.
    expect(await response.json()).toEqual({
      status: 'ok',
      upstreams: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(response.headers.get('server')).toBe('nginx');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    // No domain: no HSTS (it would pin browsers to a self-signed certificate).
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('refuses every API route with a JSON 403 without the origin secret CloudFront adds, or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { 'X-Earshot-Origin-Verify': 'not-the-secret' },
      { 'X-Earshot-Origin-Verify': '' },
    ];
    for (const headers of attempts) {
      for (const [method, path] of [
        ['GET', '/api/v1/settings'],
        ['POST', '/mcp'],
        ['GET', '/healthz'],
        ['GET', '/readyz'],
        ['GET', '/'],
      ] as const) {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { Authorization: 'Bearer k', ...headers },
          body: method === 'POST' ? '{}' : undefined,
        });
        expect(response.status, `${method} ${path}`).toBe(403);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
      }
      const player = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, 'k', { headers }).catch(
        (error: unknown) => error,
      );
      expect((player as { status?: number }).status).toBe(403);
    }
    // Nothing reached a task.
    expect([...a.seen, ...b.seen].filter((line) => line.endsWith(' k'))).toEqual([]);
  });

  it("keeps the tasks' internal routes to the proxy host: /internal/ from outside never reaches a task", async () => {
    for (const path of [
      '/internal/v1/route-ring',
      '/internal/../internal/v1/route-ring',
      '/%69nternal/v1/route-ring',
    ]) {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer k-internal',
          'X-Earshot-Proxy-Secret': 'guess',
          ...nginx.cloudFront,
        },
        body: '{}',
      });
      expect(response.status, path).toBe(404);
    }
    expect([...a.seen, ...b.seen].filter((line) => line.endsWith(' k-internal'))).toEqual([]);
  });

  it('routes each user to one task for REST, MCP and the player WebSocket, spreading users over both', async () => {
    const users = Array.from({ length: 24 }, (_, index) => `key-user-${index}-${'x'.repeat(index % 5)}`);
    const placement = new Map<string, string>();
    for (const key of users) {
      const rest = await apiAs(key);
      expect(rest.key).toBe(key);
      const again = await apiAs(key, '/api/v1/history');
      const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, key, {
        headers: nginx.cloudFront,
      });
      socket.close();
      expect(hello.key).toBe(key);
      expect([again.backend, hello.backend]).toEqual([rest.backend, rest.backend]);
      placement.set(key, rest.backend);
    }
    const counts = [...placement.values()].reduce<Record<string, number>>(
      (tally, backend) => ({ ...tally, [backend]: (tally[backend] ?? 0) + 1 }),
      {},
    );
    expect(Object.keys(counts).sort()).toEqual(['a', 'b']);
    // Both tasks saw MCP-style traffic only for their own users.
    for (const [key, backend] of placement) {
      const other = backend === 'a' ? b : a;
      expect(other.seen.some((line) => line.endsWith(` ${key}`))).toBe(false);
    }
  });

  it('routes every credential of one user alike: a tagged key, an OAuth token and a speech token reach one task', async () => {
    // Route tags as server/src/auth/route-tag.ts makes them: 12 base64url characters after the prefix.
    const tags = Array.from({ length: 16 }, (_, index) =>
      `tag${String(index).padStart(2, '0')}_-AbCdEf`.slice(0, 12),
    );
    const placement = new Map<string, string>();
    for (const tag of tags) {
      const key = await apiAs(`esk_${tag}.key-secret-${tag}`);
      const token = await apiAs(`eso_at_${tag}.token-secret`);
      const player = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, `esk_${tag}.other-key`, {
        headers: nginx.cloudFront,
      });
      player.socket.close();
      const inChat = await openSocket(
        `ws://127.0.0.1:${nginx.httpPort}/ws`,
        ['earshot.v1', `speech-token.est_${tag}.speech-secret`],
        { headers: nginx.cloudFront },
      );
      inChat.socket.close();
      expect([token.backend, player.hello.backend, inChat.hello.backend], tag).toEqual([
        key.backend,
        key.backend,
        key.backend,
      ]);
      placement.set(tag, key.backend);
    }
    // The tags spread over both tasks (all 16 on one has a chance of 2⁻¹⁵).
    expect(new Set(placement.values())).toEqual(new Set(['a', 'b']));
    // A credential without a tag still routes on all of it: the same tag-like text elsewhere does not count.
    const untagged = await apiAs(`xyz_${tags[0]!}.secret`);
    expect(untagged.key).toBe(`xyz_${tags[0]!}.secret`);
  });

  it('upgrades /ws to a WebSocket with the earshot.v1 subprotocol and exchanges frames both ways', async () => {
    const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, 'frame-key', {
      headers: { Origin: 'https://console.example', ...nginx.cloudFront },
    });
    try {
      expect(hello.type).toBe('hello');
      // The upgrade carries the same forwarded headers as every other request (Host for the server's checks).
      expect(hello.headers).toMatchObject({
        host: `127.0.0.1:${nginx.httpPort}`,
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': `127.0.0.1:${nginx.httpPort}`,
        'x-real-ip': '127.0.0.1',
        origin: 'https://console.example',
      });
      expect(hello.headers?.['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      expect(socket.protocol).toBe('earshot.v1');
      const text = new Promise<string>((resolve) =>
        socket.once('message', (data) => resolve((data as Buffer).toString())),
      );
      socket.send('ping');
      expect(await text).toBe('echo:ping');
      const binary = new Promise<Buffer>((resolve) =>
        socket.once('message', (data) => resolve(data as Buffer)),
      );
      socket.send(Buffer.from([0, 1, 2, 255]));
      expect([...(await binary)]).toEqual([0, 1, 2, 255]);
    } finally {
      socket.close();
    }
    // Streams outlive nginx's 60 s default: the timeout is raised where they flow.
    for (const location of ['= /ws', '= /mcp']) {
      expect(locationBlock(nginx.configText, location)).toMatch(/proxy_read_timeout 3600s;/);
    }
    expect(locationBlock(nginx.configText, '= /ws')).toMatch(
      /proxy_set_header Connection \$connection_upgrade;/,
    );
  });

  it('streams /mcp server-sent events without buffering', async () => {
    const events: { n: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = request(
        `${base}/mcp`,
        {
          method: 'POST',
          // Like the MCP SDK's fetch, offer gzip: compressing an event stream would hold events back too.
          headers: {
            Authorization: 'Bearer sse-user',
            Accept: 'application/json, text/event-stream',
            'Accept-Encoding': 'gzip, deflate',
            ...nginx.cloudFront,
          },
        },
        (response) => {
          expect(response.statusCode).toBe(200);
          expect(response.headers['content-type']).toBe('text/event-stream');
          let pending = '';
          response.on('data', (chunk: Buffer) => {
            pending += chunk.toString();
            for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
              const data = /^data: (.*)$/m.exec(pending.slice(0, end))?.[1] ?? '{}';
              events.push(JSON.parse(data) as { n: number });
              pending = pending.slice(end + 2);
              // The backend writes the second event only now: the first got through while the stream was open.
              if (events.length === 1) for (const backend of [a, b]) backend.releaseEventStreams();
            }
          });
          response.on('end', resolve);
          response.on('error', reject);
        },
      );
      call.on('error', reject);
      call.end('{"jsonrpc":"2.0","id":1,"method":"ping"}');
    });
    expect(events.map((event) => event.n)).toEqual([1, 2]);
    expect(locationBlock(nginx.configText, '= /mcp')).toMatch(/proxy_buffering off;[\s\S]*proxy_cache off;/);
  });

  it('rejects a body over 1 MB with a JSON 413 and passes one under it', async () => {
    const big = await fetch(`${base}/api/v1/speak`, {
      method: 'POST',
      headers: { Authorization: 'Bearer body-user', 'Content-Type': 'application/json', ...nginx.cloudFront },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('content-type')).toBe('application/json');
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    const small = await fetch(`${base}/api/v1/speak`, {
      method: 'POST',
      headers: { Authorization: 'Bearer body-user', 'Content-Type': 'application/json', ...nginx.cloudFront },
      body: 'x'.repeat(512 * 1024),
    });
    expect(small.status).toBe(200);
    expect(((await small.json()) as Echo).bytes).toBe(512 * 1024);
  });

  it('forwards Host, client address, scheme and a request id, and keeps the route-key lookup internal', async () => {
    const response = await rawRequest(`${base}/api/v1/voices`, {
      headers: {
        Authorization: 'Bearer header-user',
        Host: 'earshot.example:8443',
        Origin: 'https://console.example',
        ...nginx.cloudFront,
      },
    });
    const echo = JSON.parse(response.body) as Echo;
    // The origin secret stops at nginx: the tasks never see it.
    expect(echo.headers['x-earshot-origin-verify']).toBeUndefined();
    expect(echo.headers.host).toBe('earshot.example:8443');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers.origin).toBe('https://console.example');
    expect(echo.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers['x-request-id']).toBe(echo.headers['x-request-id']);
    // One security header, not the task's and nginx's both.
    expect(response.headers['x-content-type-options']).toBe('nosniff');

    const hidden = await fetch(`${base}/_nginx/route-key`, {
      headers: {
        ...nginx.cloudFront,
        'Sec-WebSocket-Protocol': `earshot.v1, bearer.${Buffer.from('secret').toString('base64url')}`,
      },
    });
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('x-earshot-route-key')).toBeNull();
  });

  it('writes a JSON access log without keys', async () => {
    await apiAs('log-secret-key-1');
    const { socket } = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, 'log-secret-key-2', {
      headers: nginx.cloudFront,
    });
    socket.close();
    await once(socket, 'close');
    const entries = async () =>
      (await nginx.accessLog())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    // nginx logs a WebSocket when the connection is finished, just after the client sees it close.
    // The upgraded one (an earlier test's players without the origin secret were logged with 403).
    await waitFor('the /ws 101 line in the access log', async () =>
      (await entries()).some((line) => line.uri === '/ws' && line.status === 101),
    );
    const lines = await entries();
    // The last: an earlier test's requests without the origin secret were logged with 403.
    expect(lines.findLast((line) => line.uri === '/api/v1/settings')).toMatchObject({
      method: 'GET',
      status: 200,
    });
    expect(lines.findLast((line) => line.uri === '/ws' && line.status === 101)).toMatchObject({
      method: 'GET',
    });
    const raw = await nginx.accessLog();
    expect(raw).not.toContain('log-secret-key');
    expect(raw).not.toContain(nginx.originSecret);
    expect(raw).not.toContain(Buffer.from('log-secret-key-2').toString('base64url'));
  });
});
