/**
 * OAuth 2.1 end to end on a real server: the official MCP client discovers Earshot from a 401, registers,
 * sends the user to authorize; the user approves with their key (as the console's consent page does); the
 * client redeems the code and its access token speaks to that user's player. Then the ways tokens stop working.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTagOf } from '../src/auth/route-tag.js';
import { connectPlayer } from './support/player.js';
import {
  LOOPBACK_REDIRECT,
  MemoryOAuthProvider,
  approve,
  codeFor,
  consoleCall,
  pendingRequestId,
  pkcePair,
  redeem,
  registerClient,
  tokenRequest,
} from './support/oauth.js';
import { startTestServer, type TestServer } from './support/server.js';

const HOUR = 3_600_000;

describe('OAuth 2.1 for remote MCP clients', () => {
  let server: TestServer;
  let clockOffset = 0;

  beforeAll(async () => {
    server = await startTestServer({ oauthNow: () => new Date(Date.now() + clockOffset) });
  });
  afterAll(() => server?.close());

  const mcpClient = async (provider: MemoryOAuthProvider) => {
    const client = new Client({ name: 'oauth-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      authProvider: provider,
    });
    return { client, transport, connect: () => client.connect(transport) };
  };

  it('runs the whole flow with the MCP SDK client and speaks to the approving user’s player', async () => {
    const provider = new MemoryOAuthProvider();
    const first = await mcpClient(provider);
    await expect(first.connect()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.client?.client_id).toMatch(/^esc_/);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.href.startsWith(`${server.url}/oauth/authorize?`)).toBe(true);
    expect(authorizationUrl.searchParams.get('resource')).toBe(`${server.url}/mcp`);

    const requestId = await pendingRequestId(authorizationUrl);
    const pending = await consoleCall(server.url, server.keys.alice!, 'GET', `/requests/${requestId}`);
    expect(pending).toMatchObject({
      status: 200,
      body: {
        id: requestId,
        clientId: provider.client!.client_id,
        clientName: 'Test Agent',
        redirectOrigin: 'http://127.0.0.1:33418',
        scope: 'earshot',
      },
    });
    const redirect = await approve(server.url, server.keys.alice!, requestId);
    expect(redirect.origin + redirect.pathname).toBe(provider.redirectUrl);
    expect(redirect.searchParams.get('state')).toBe('st-123');
    expect(redirect.searchParams.get('iss')).toBe(server.url);
    // The request was single use.
    expect((await consoleCall(server.url, server.keys.alice!, 'GET', `/requests/${requestId}`)).status).toBe(
      404,
    );

    await first.transport.finishAuth(redirect.searchParams);
    // The access token carries alice's route tag, so the AWS proxy sends it to alice's task (route-tag.ts).
    expect(provider.saved?.access_token?.startsWith(`eso_at_${routeTagOf('alice')}.`)).toBe(true);
    expect(provider.saved?.refresh_token).toMatch(/^eso_rt_/);

    const player = await connectPlayer(server.url, server.keys.alice!);
    const bobPlayer = await connectPlayer(server.url, server.keys.bob!);
    const second = await mcpClient(provider);
    await second.connect();
    const result = await second.client.callTool({
      name: 'speak',
      arguments: { text: 'Signed in with OAuth.' },
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'completed', playersReached: 1 });
    const started = await player.waitFor('speech.start');
    expect(started.text).toBe('Signed in with OAuth.');
    expect(bobPlayer.received('speech.start')).toEqual([]);

    // The grant is alice's, listed in her Connect view and not in bob's.
    const grants = await consoleCall(server.url, server.keys.alice!, 'GET', '/grants');
    expect(grants.body?.grants).toEqual([
      expect.objectContaining({ clientId: provider.client!.client_id, clientName: 'Test Agent' }),
    ]);
    expect((await consoleCall(server.url, server.keys.bob!, 'GET', '/grants')).body).toEqual({ grants: [] });
    await second.client.close();
    await Promise.all([player.close(), bobPlayer.close()]);
  });

  it('answers 401 with the resource metadata URL, and error="invalid_token" for a bad token', async () => {
    const bare = await fetch(`${server.url}/mcp`, { method: 'POST' });
    expect(bare.status).toBe(401);
    const metadata = `${server.url}/.well-known/oauth-protected-resource/mcp`;
    expect(bare.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadata}"`);
    const bad = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer eso_at_nothing' },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${metadata}", error="invalid_token"`,
    );
  });

  it('serves the discovery documents publicly, with CORS for browser clients', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const response = await fetch(`${server.url}${path}`, { headers: { origin: 'https://agent.example' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: `${server.url}/mcp`,
        authorization_servers: [server.url],
        bearer_methods_supported: ['header'],
        scopes_supported: ['earshot'],
        resource_name: 'Earshot',
      });
    }
    const as = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(await as.json()).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth/authorize`,
      token_endpoint: `${server.url}/oauth/token`,
      registration_endpoint: `${server.url}/oauth/register`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['earshot'],
      client_id_metadata_document_supported: true,
    });
    const preflight = await fetch(`${server.url}/oauth/token`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://agent.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    // The console's API keeps its own policy: a foreign origin gets no CORS grant there.
    const api = await fetch(`${server.url}/api/v1/oauth/grants`, {
      method: 'OPTIONS',
      headers: { origin: 'https://agent.example', 'access-control-request-method': 'GET' },
    });
    expect(api.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a replayed code is refused and revokes the grant and every token from it', async () => {
    const { clientId, code, verifier, redirectUri } = await codeFor(server.url, server.keys.alice!);
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: clientId,
    };
    const first = await tokenRequest(server.url, form);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const token = String(first.body?.access_token);
    expect(await mcpStatus(token)).toBe(200);
    const replay = await tokenRequest(server.url, form);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await mcpStatus(token)).toBe(401);
    const refreshed = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: String(first.body?.refresh_token),
    });
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('rotates refresh tokens; reusing an old one revokes the grant', async () => {
    const granted = await codeFor(server.url, server.keys.alice!);
    const issued = await redeem(server.url, granted);
    const oldRefresh = String(issued.body?.refresh_token);
    const rotated = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: oldRefresh,
      client_id: granted.clientId,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body?.refresh_token).not.toBe(oldRefresh);
    const newAccess = String(rotated.body?.access_token);
    expect(await mcpStatus(newAccess)).toBe(200);
    const reuse = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: oldRefresh,
      client_id: granted.clientId,
    });
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await mcpStatus(newAccess)).toBe(401);
    const newer = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: String(rotated.body?.refresh_token),
    });
    expect(newer.status).toBe(400);
  });

  it('a refresh token presented as a code is refused without spending it', async () => {
    const a = await codeFor(server.url, server.keys.alice!);
    const issued = await redeem(server.url, a);
    const refresh = String(issued.body?.refresh_token);
    const misuse = await tokenRequest(server.url, {
      grant_type: 'authorization_code',
      code: refresh,
      code_verifier: a.verifier,
      redirect_uri: a.redirectUri,
    });
    expect(misuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const refreshed = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: refresh });
    expect(refreshed.status).toBe(200);
  });

  it('a wrong PKCE verifier is refused', async () => {
    const { clientId, code, redirectUri } = await codeFor(server.url, server.keys.alice!);
    const wrong = await tokenRequest(server.url, {
      grant_type: 'authorization_code',
      code,
      code_verifier: 'x'.repeat(43),
      redirect_uri: redirectUri,
      client_id: clientId,
    });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(String(wrong.body?.error_description)).toMatch(/code_verifier/);
  });

  it('an access token stops working after an hour, and a refresh gives a working one', async () => {
    const granted = await codeFor(server.url, server.keys.alice!);
    const issued = await redeem(server.url, granted);
    expect(issued.body?.expires_in).toBe(3600);
    const token = String(issued.body?.access_token);
    expect(await mcpStatus(token)).toBe(200);
    clockOffset = HOUR;
    try {
      const expired = await fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      const refreshed = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        refresh_token: String(issued.body?.refresh_token),
      });
      expect(await mcpStatus(String(refreshed.body?.access_token))).toBe(200);
    } finally {
      clockOffset = 0;
    }
  });

  it('forgets a registration no token was issued to after a day; keeps one in use 60 days past its last token', async () => {
    const DAY = 24 * HOUR;
    /** What authorize answers for the client at `offset` from now: 302 to the consent page, or 400 and why. */
    const authorizeAt = async (clientId: string, offset: number) => {
      clockOffset = offset;
      const url = new URL(`${server.url}/oauth/authorize`);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: LOOPBACK_REDIRECT,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }))
        url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: 'manual' });
      return { status: response.status, text: await response.text() };
    };
    try {
      const unused = await registerClient(server.url, {
        client_name: 'Unused',
        redirect_uris: [LOOPBACK_REDIRECT],
      });
      const unusedId = String(unused.body.client_id);
      expect((await authorizeAt(unusedId, 23 * HOUR)).status).toBe(302);
      const forgotten = await authorizeAt(unusedId, 25 * HOUR);
      expect(forgotten.status).toBe(400);
      expect(forgotten.text).toMatch(/Unknown or expired client_id: the app must register again/);

      clockOffset = 0;
      const used = await codeFor(server.url, server.keys.alice!);
      const issued = await redeem(server.url, used);
      expect(issued.status).toBe(200);
      expect((await authorizeAt(used.clientId, 59 * DAY)).status).toBe(302);
      // A refresh on day 29 (the refresh token lives 30) keeps the client until day 89.
      clockOffset = 29 * DAY;
      const refreshed = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        refresh_token: String(issued.body?.refresh_token),
      });
      expect(refreshed.status).toBe(200);
      expect((await authorizeAt(used.clientId, 88 * DAY)).status).toBe(302);
      expect((await authorizeAt(used.clientId, 90 * DAY)).status).toBe(400);
    } finally {
      clockOffset = 0;
    }
  });

  it('revocation: an access token at /oauth/revoke, a grant from the Connect view; unknown tokens are fine', async () => {
    const a = await codeFor(server.url, server.keys.alice!);
    const issued = await redeem(server.url, a);
    const token = String(issued.body?.access_token);
    expect((await tokenRequest(server.url, { token }, '/oauth/revoke')).status).toBe(200);
    expect(await mcpStatus(token)).toBe(401);
    expect((await tokenRequest(server.url, { token: 'eso_rt_unknown' }, '/oauth/revoke')).status).toBe(200);

    // The refresh token still works after the access token's revocation; the user's delete ends it all.
    const refreshed = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: String(issued.body?.refresh_token),
    });
    const fresh = String(refreshed.body?.access_token);
    expect(await mcpStatus(fresh)).toBe(200);
    const grants = (await consoleCall(server.url, server.keys.alice!, 'GET', '/grants')).body?.grants as {
      id: string;
      clientId: string;
    }[];
    const grant = grants.find((g) => g.clientId === a.clientId)!;
    expect(grant).toBeDefined();
    expect((await consoleCall(server.url, server.keys.bob!, 'DELETE', `/grants/${grant.id}`)).status).toBe(
      404,
    );
    expect(await mcpStatus(fresh)).toBe(200);
    expect((await consoleCall(server.url, server.keys.alice!, 'DELETE', `/grants/${grant.id}`)).status).toBe(
      204,
    );
    expect(await mcpStatus(fresh)).toBe(401);
  });

  it('an access token acts as its user on /api/v1 and /ws, but cannot approve clients or manage grants', async () => {
    const a = await codeFor(server.url, server.keys.bob!);
    const issued = await tokenRequest(server.url, {
      grant_type: 'authorization_code',
      code: a.code,
      code_verifier: a.verifier,
      redirect_uri: a.redirectUri,
      client_id: a.clientId,
    });
    const token = String(issued.body?.access_token);
    const usage = await fetch(`${server.url}/api/v1/usage`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(usage.status).toBe(200);
    expect(((await usage.json()) as { user: string }).user).toBe('bob');
    const player = await connectPlayer(server.url, token);
    expect((await player.waitFor('hello')).user).toBe('bob');
    await player.close();
    expect((await consoleCall(server.url, token, 'GET', '/grants')).status).toBe(403);
  });

  async function mcpStatus(token: string): Promise<number> {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    await response.arrayBuffer();
    return response.status;
  }
});
