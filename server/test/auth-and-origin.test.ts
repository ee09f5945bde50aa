import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp } from './support/mcp.js';
import { connectPlayer, playerHandshakeStatus, playerProtocols } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const CONSOLE_ORIGIN = 'https://console.example.com';

/** The method and full path of every route in Fastify's `printRoutes({ commonPrefix: false })` tree (no HEAD). */
function routesOf(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const parents: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│├└─\s]*)(\S+) \(([^)]*)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (parents[depth - 1] ?? '') + match[2]!;
    parents[depth] = path;
    parents.length = depth + 1;
    for (const method of match[3]!.split(', ')) if (method !== 'HEAD') routes.push({ method, path });
  }
  return routes;
}

describe('authentication and cross-origin protection on a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { EARSHOT_ALLOWED_ORIGINS: CONSOLE_ORIGIN } });
  });
  afterAll(() => server.close());

  const initialize = (headers: Record<string, string>) =>
    fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });

  it('refuses /mcp without a key, with a wrong key, and with a malformed header', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer not-a-real-key-at-all' },
      { authorization: server.keys.alice! },
    ]) {
      const response = await initialize(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(JSON.stringify(body)).not.toContain(server.keys.alice);
    }
    await expect(connectMcp(server.url, undefined)).rejects.toThrow();
    expect((await initialize({ authorization: `Bearer ${server.keys.alice}` })).status).toBe(200);
  });

  it('refuses every REST route without a key', async () => {
    // Every route the server really has (so a new one is covered the day it is added), not a list kept by hand.
    const routes = routesOf(server.running.app.printRoutes({ commonPrefix: false })).filter(
      ({ path }) => path.startsWith('/api/') || path === '/mcp',
    );
    expect(routes.map(({ path }) => path)).toEqual(
      expect.arrayContaining(['/mcp', '/api/v1/speak', '/api/v1/settings', '/api/v1/history/:id/audio']),
    );
    for (const { method, path } of routes) {
      const response = await fetch(`${server.url}${path.replace(/:\w+/g, 'sp_x')}`, { method });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });

  it('keeps health checks and the player page public', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).not.toMatch(/<script>(?!<)/);
  });

  it('opens a player only with a valid key offered as a subprotocol', async () => {
    expect(await playerHandshakeStatus(server.url, playerProtocols(server.keys.alice!))).toBe(101);
    expect(await playerHandshakeStatus(server.url, playerProtocols('wrong-key-wrong-key'))).toBe(401);
    expect(await playerHandshakeStatus(server.url, ['earshot.v1'])).toBe(401);
    expect(
      await playerHandshakeStatus(server.url, [
        `bearer.${Buffer.from(server.keys.alice!).toString('base64url')}`,
      ]),
    ).toBe(400);
    const player = await connectPlayer(server.url, server.keys.bob!);
    expect(player.socket.protocol).toBe('earshot.v1');
    expect((await player.waitFor('hello')).user).toBe('bob');
    await player.close();
  });

  it('refuses cross-site WebSocket hijacking and cross-site MCP calls, but allows the configured console', async () => {
    const key = server.keys.alice!;
    expect(await playerHandshakeStatus(server.url, playerProtocols(key), 'https://evil.example')).toBe(403);
    expect(await playerHandshakeStatus(server.url, playerProtocols(key), CONSOLE_ORIGIN)).toBe(101);
    const evil = await initialize({ authorization: `Bearer ${key}`, origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    const console = await initialize({ authorization: `Bearer ${key}`, origin: CONSOLE_ORIGIN });
    expect(console.status).toBe(200);
    expect(console.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    const preflight = await fetch(`${server.url}/api/v1/settings`, {
      method: 'OPTIONS',
      headers: {
        origin: CONSOLE_ORIGIN,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
  });

  it('refuses DNS-rebinding requests whose Host is not a loopback name', async () => {
    const { request } = await import('node:http');
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/api/v1/voices`, {
          headers: { host, authorization: `Bearer ${server.keys.alice}` },
        });
        req.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    const port = new URL(server.url).port;
    expect(await status(`evil.example:${port}`)).toBe(403);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    const protocols = playerProtocols(server.keys.alice!);
    expect(
      await playerHandshakeStatus(
        server.url,
        protocols,
        `http://evil.example:${port}`,
        `evil.example:${port}`,
      ),
    ).toBe(403);
  });

  it('answers malformed input with clear errors and keeps serving', async () => {
    const headers = { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' };
    const badJson = await fetch(`${server.url}/api/v1/speak`, { method: 'POST', headers, body: '{"text":' });
    expect(badJson.status).toBe(400);
    const extra = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'hi', evil: 1 }),
    });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
    const huge = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'a'.repeat(600_000) }),
    });
    expect(huge.status).toBe(413);
    const traversal = await fetch(`${server.url}/api/v1/history/..%2F..%2Fsettings/audio`, { headers });
    expect(traversal.status).toBe(404);
    const ok = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'Still here.' }),
    });
    expect(ok.status).toBe(200);
  });

  it('counts usage per user per day', async () => {
    const headers = { authorization: `Bearer ${server.keys.bob}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'Count these words.' }),
    });
    const usage = (await (await fetch(`${server.url}/api/v1/usage?days=7`, { headers })).json()) as {
      user: string;
      today: { characters: number };
      days: unknown[];
    };
    expect(usage.user).toBe('bob');
    expect(usage.today.characters).toBeGreaterThanOrEqual('Count these words.'.length);
    expect(usage.days).toHaveLength(7);
  });
});
