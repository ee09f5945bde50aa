// The Host and Origin checks follow the route a request reaches, however its path is spelled; and the Host check
// fails closed on a non-loopback bind. Raw requests over loopback: fetch and ws would normalise the paths.
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, LEVEL, type CapturedLog } from './support/log-capture.js';
import { playerProtocols } from './support/player.js';
import { openRaw, within } from './support/raw-http.js';
import { startTestServer, type TestServer } from './support/server.js';

const EVIL = 'https://evil.example';

interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request with the path exactly as given; resolves with the status and the body. */
function send(baseUrl: string, sent: Sent): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      method: sent.method ?? 'GET',
      path: sent.path,
      headers: sent.headers,
      agent: false,
    });
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(sent.body);
  });
}

/** Spellings of one path that a router might take for it: percent-encoding, dot segments, slashes, case. */
function spellings(path: string): string[] {
  const [first = '', ...rest] = path.slice(1).split('/');
  const hex = (char: string) => `%${char.charCodeAt(0).toString(16)}`;
  const tail = rest.length ? `/${rest.join('/')}` : '';
  const encodedFirst = `/${hex(first[0]!)}${first.slice(1)}${tail}`;
  return [
    path,
    encodedFirst,
    `/${hex(first[0]!).toUpperCase()}${first.slice(1)}${tail}`,
    `/${hex(first[0]!).replace('%', '%25')}${first.slice(1)}${tail}`,
    `/${first.split('').map(hex).join('')}${tail}`,
    `${path.slice(0, -1)}${hex(path.at(-1)!)}`,
    path.replace(/\//g, '%2f').replace(/^%2f/, '/'),
    path.replace(/\//g, '%2F').replace(/^%2F/, '/'),
    `/${path}`,
    path.replace(/\//g, '//'),
    `/.${path}`,
    `/%2e${path}`,
    `/%2E${path}`,
    `/x/..${path}`,
    `/x/%2e%2e${path}`,
    `${path}/`,
    `${path}/.`,
    path.toUpperCase(),
    `${path}?x=1`,
    `${path};x`,
    `${path}%20`,
    `${path}%00`,
    `${path}#x`,
    path.replace(/^\/(\w+)\//, '/$1/./'),
    path.replace(/^\/(\w+)\//, '/$1/%2e/'),
  ];
}

/**
 * For every spelling: sent with a foreign Origin it never succeeds; if it reaches a route without an Origin
 * (a 2xx or a 405), it is refused with 403 once a foreign Origin is added. Returns the spellings that reached
 * a route, so a test can check it tried some that do.
 */
async function expectGuarded(baseUrl: string, path: string, base: Omit<Sent, 'path'>): Promise<string[]> {
  const routed: string[] = [];
  for (const spelling of spellings(path)) {
    const plain = await send(baseUrl, { ...base, path: spelling });
    const foreign = await send(baseUrl, {
      ...base,
      path: spelling,
      headers: { ...base.headers, origin: EVIL },
    });
    expect(foreign.status, `${base.method ?? 'GET'} ${spelling} from ${EVIL}`).not.toBeLessThan(300);
    if (plain.status < 300 || plain.status === 405) {
      routed.push(spelling);
      expect(foreign.status, `${spelling} reached a route; from ${EVIL} it must be refused`).toBe(403);
    }
  }
  return routed;
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function upgradeStatus(baseUrl: string, path: string, headers: Record<string, string>) {
  const connection = await openRaw(baseUrl);
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${new URL(baseUrl).host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  connection.write(`${lines.join('\r\n')}\r\n\r\n`);
  const { status } = await within(connection.head(), 8_000, `no answer to an upgrade of ${path}`);
  connection.socket.destroy();
  return status;
}

describe.each<{ auth: string; env: Record<string, string> }>([
  { auth: 'with keys', env: {} },
  { auth: 'with auth turned off', env: { EARSHOT_DANGEROUSLY_OMIT_AUTH: '1' } },
])('Origin checks follow the route, whatever the path spelling ($auth)', ({ env }) => {
  let server: TestServer;
  let auth: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ env });
    auth = { authorization: `Bearer ${server.keys.alice}` };
  });
  afterAll(() => server.close());

  it('guards /api/v1 under every spelling', async () => {
    const routed = await expectGuarded(server.url, '/api/v1/settings', { headers: auth });
    expect(routed).toContain('/%61pi/v1/settings');
    expect(routed).toContain('/api/v1/setting%73');
    const put = await expectGuarded(server.url, '/api/v1/settings', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ autoPlay: false }),
    });
    expect(put).toContain('/%61pi/v1/settings');
  });

  it('guards /mcp under every spelling', async () => {
    const routed = await expectGuarded(server.url, '/mcp', {
      method: 'POST',
      headers: { ...auth, ...mcpHeaders },
      body: initialize,
    });
    expect(routed).toContain('/%6dcp');
    expect(await expectGuarded(server.url, '/mcp', { headers: auth })).toContain('/%6dcp');
  });

  it('guards /ws under every spelling', async () => {
    const protocols = { 'Sec-WebSocket-Protocol': playerProtocols(server.keys.alice!).join(', ') };
    let routed = 0;
    for (const spelling of spellings('/ws')) {
      const same = await upgradeStatus(server.url, spelling, { ...protocols, Origin: server.url });
      const foreign = await upgradeStatus(server.url, spelling, { ...protocols, Origin: EVIL });
      expect(foreign, `upgrade ${spelling} from ${EVIL}`).not.toBe(101);
      if (same === 101) {
        routed++;
        expect(foreign, `upgrade ${spelling} from ${EVIL}`).toBe(403);
      }
    }
    expect(routed).toBeGreaterThan(1);
  });

  it('keeps health and the console page open to any origin, and grants foreign preflights nothing', async () => {
    expect((await send(server.url, { path: '/healthz', headers: { origin: EVIL } })).status).toBe(200);
    expect((await send(server.url, { path: '/readyz', headers: { origin: EVIL } })).status).toBe(200);
    // 200, or 503 when the console is not built: either way not refused.
    expect((await send(server.url, { path: '/', headers: { origin: EVIL } })).status).not.toBe(403);
    const preflight = await send(server.url, {
      method: 'OPTIONS',
      path: '/%61pi/v1/settings',
      headers: { origin: EVIL, 'access-control-request-method': 'PUT' },
    });
    expect(preflight.status).toBe(403);
  });
});

describe('Host names on a non-loopback bind fail closed', () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  async function start(env: Record<string, string>): Promise<{ server: TestServer; log: CapturedLog }> {
    const log = captureLog('info');
    const server = await startTestServer({ env: { HOST: '0.0.0.0', ...env }, logger: log.logger });
    servers.push(server);
    return { server, log };
  }

  const withHost = async (server: TestServer, host: string, path = '/api/v1/voices') =>
    (
      await send(server.url, {
        path,
        headers: { host, authorization: `Bearer ${server.keys.alice}` },
      })
    ).status;

  it('serves loopback names and IP literals only, and warns once at start what to set', async () => {
    const { server, log } = await start({});
    const port = new URL(server.url).port;
    expect(await withHost(server, `evil.example:${port}`)).toBe(403);
    expect(await withHost(server, 'evil.example')).toBe(403);
    expect(await withHost(server, `127.0.0.1.nip.io:${port}`)).toBe(403);
    expect(await withHost(server, `127.0.0.1:${port}`)).toBe(200);
    expect(await withHost(server, `localhost:${port}`)).toBe(200);
    expect(await withHost(server, '10.1.2.3')).toBe(200);
    expect(await withHost(server, '[::1]')).toBe(200);
    expect(await withHost(server, '[2001:db8::1]:443')).toBe(200);
    expect(await withHost(server, 'evil.example', '/healthz')).toBe(200);
    expect(
      await upgradeStatus(server.url, '/ws', {
        'Sec-WebSocket-Protocol': playerProtocols(server.keys.alice!).join(', '),
        Origin: `http://evil.example:${port}`,
        Host: `evil.example:${port}`,
      }),
    ).toBe(403);
    const warnings = log.lines().filter((line) => /EARSHOT_ALLOWED_HOSTS/.test(line.msg ?? ''));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(LEVEL.warn);
    expect(warnings[0]!.msg).toContain('EARSHOT_PUBLIC_URL');
  });

  it("serves EARSHOT_PUBLIC_URL's host and EARSHOT_ALLOWED_HOSTS, and nothing else, without a warning", async () => {
    const { server, log } = await start({
      EARSHOT_PUBLIC_URL: 'https://earshot.example.com',
      EARSHOT_ALLOWED_HOSTS: 'Alias.Example, other.example:8443',
    });
    expect(await withHost(server, 'earshot.example.com')).toBe(200);
    expect(await withHost(server, 'EARSHOT.example.com:443')).toBe(200);
    expect(await withHost(server, 'alias.example')).toBe(200);
    expect(await withHost(server, 'other.example:8443')).toBe(200);
    expect(await withHost(server, 'other.example:9999')).toBe(403);
    expect(await withHost(server, 'evil.example')).toBe(403);
    expect(log.lines().filter((line) => /EARSHOT_ALLOWED_HOSTS/.test(line.msg ?? ''))).toHaveLength(0);
  });
});
