/**
 * What Earshot's OAuth endpoints refuse, with the errors the specs name: registration (RFC 7591), authorize
 * (RFC 6749 §4.1.2.1: a page before the redirect URI is verified, a redirect after), token (§5.2), the consent
 * API, and client ID metadata documents fetched through an injected fetcher.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOOPBACK_REDIRECT,
  codeFor,
  consoleCall,
  pendingRequestId,
  pkcePair,
  registerClient,
  tokenRequest,
} from './support/oauth.js';
import { startTestServer, type TestServer } from './support/server.js';

const METADATA_URL = 'https://agent.example/oauth/client.json';
const documents = new Map<string, unknown>([
  [
    METADATA_URL,
    {
      client_id: METADATA_URL,
      client_name: 'Hosted Agent',
      redirect_uris: ['https://agent.example/callback'],
    },
  ],
  [
    'https://agent.example/other.json',
    { client_id: 'https://elsewhere.example/x', redirect_uris: ['https://a.example/cb'] },
  ],
]);

describe('OAuth refusals', () => {
  let server: TestServer;
  let registered: string;

  beforeAll(async () => {
    server = await startTestServer({
      fetchClientMetadata: async (url) => {
        const doc = documents.get(url.href);
        if (!doc) throw new Error('the client metadata document answered 404 (redirects are not followed)');
        return doc;
      },
    });
    const client = await registerClient(server.url, {
      client_name: 'Reg',
      redirect_uris: [LOOPBACK_REDIRECT],
    });
    registered = String(client.body.client_id);
  });
  afterAll(() => server?.close());

  const authorize = (params: Record<string, string>) => {
    const url = new URL(`${server.url}/oauth/authorize`);
    for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
    return fetch(url, { redirect: 'manual' });
  };
  const good = () => ({
    response_type: 'code',
    client_id: registered,
    redirect_uri: LOOPBACK_REDIRECT,
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    state: 'xyz',
  });

  describe('dynamic client registration', () => {
    it.each([
      ['http on a public host', 'http://agent.example/cb'],
      ['javascript:', 'javascript:alert(1)'],
      ['data:', 'data:text/html,hi'],
      ['file:', 'file:///etc/passwd'],
      ['a fragment', 'https://agent.example/cb#x'],
      ['a relative URI', '/cb'],
    ])('refuses a redirect URI with %s', async (_name, uri) => {
      const response = await registerClient(server.url, { redirect_uris: [uri] });
      expect(response).toMatchObject({ status: 400, body: { error: 'invalid_redirect_uri' } });
    });

    it.each([
      ['https', 'https://agent.example/cb'],
      ['loopback IPv4', 'http://127.0.0.1:9/cb'],
      ['loopback IPv6', 'http://[::1]:9/cb'],
      ['localhost', 'http://localhost/cb'],
      ['a native app scheme', 'cursor://anysphere.cursor-retrieval/oauth/callback'],
    ])('accepts a redirect URI on %s', async (_name, uri) => {
      const response = await registerClient(server.url, { redirect_uris: [uri], client_name: 'ok' });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(response.body.client_secret).toBeUndefined();
    });

    it('refuses confidential clients, missing redirect URIs, other grant types and oversized bodies', async () => {
      const secretClient = await registerClient(server.url, {
        redirect_uris: [LOOPBACK_REDIRECT],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(secretClient).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata' } });
      expect((await registerClient(server.url, { client_name: 'x' })).body.error).toBe(
        'invalid_client_metadata',
      );
      const implicit = await registerClient(server.url, {
        redirect_uris: [LOOPBACK_REDIRECT],
        grant_types: ['implicit'],
      });
      expect(implicit.body.error).toBe('invalid_client_metadata');
      const huge = await registerClient(server.url, {
        redirect_uris: [LOOPBACK_REDIRECT],
        logo: 'x'.repeat(20_000),
      });
      expect(huge).toMatchObject({ status: 413, body: { error: 'invalid_request' } });
    });
  });

  describe('authorize', () => {
    it('shows a plain 400 page, never a redirect, until the client and redirect URI are verified', async () => {
      for (const params of [
        { ...good(), client_id: '' },
        { ...good(), client_id: 'esc_unknown' },
        { ...good(), redirect_uri: 'https://attacker.example/cb' },
        { ...good(), redirect_uri: 'http://127.0.0.1:33418/other' },
      ]) {
        const response = await authorize(params);
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      }
      const repeated = await authorize({ ...good() });
      await repeated.arrayBuffer();
      const url = new URL(`${server.url}/oauth/authorize`);
      for (const [name, value] of Object.entries(good())) url.searchParams.append(name, value);
      url.searchParams.append('redirect_uri', 'https://attacker.example/cb');
      const twice = await fetch(url, { redirect: 'manual' });
      expect(twice.status).toBe(400);
      expect(twice.headers.get('location')).toBeNull();
    });

    it.each([
      ['no PKCE', { code_challenge: undefined }, 'invalid_request'],
      ['the plain method', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['no method', { code_challenge_method: undefined }, 'invalid_request'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['another scope', { scope: 'admin' }, 'invalid_scope'],
      ['another resource', { resource: 'https://elsewhere.example/mcp' }, 'invalid_target'],
    ])('redirects back with an error for %s, keeping state', async (_name, change, error) => {
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...good(), ...change }))
        if (value !== undefined) params[name] = value;
      const response = await authorize(params);
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(LOOPBACK_REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('xyz');
      expect(location.searchParams.get('iss')).toBe(server.url);
    });

    it('sends a good request to the consent page; a loopback redirect URI may change its port (RFC 8252)', async () => {
      const response = await authorize({
        ...good(),
        redirect_uri: 'http://127.0.0.1:40111/callback',
        scope: 'earshot',
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toMatch(
        new RegExp(`^${server.url}/#/consent\\?request=req_[\\w-]+$`),
      );
    });
  });

  describe('consent API', () => {
    it('denies with access_denied and the state; unknown or answered requests are 404 unknown_request', async () => {
      const id = await pendingRequestId(
        new URL(`${server.url}/oauth/authorize?${new URLSearchParams(good())}`),
      );
      expect((await consoleCall(server.url, 'esk_wrong', 'GET', `/requests/${id}`)).status).toBe(401);
      const denied = await consoleCall(server.url, server.keys.alice!, 'POST', `/requests/${id}/deny`);
      const redirect = new URL(String(denied.body?.redirect));
      expect(redirect.searchParams.get('error')).toBe('access_denied');
      expect(redirect.searchParams.get('state')).toBe('xyz');
      const again = await consoleCall(server.url, server.keys.alice!, 'POST', `/requests/${id}/approve`);
      expect(again).toMatchObject({ status: 404, body: { error: { code: 'unknown_request' } } });
      expect((await consoleCall(server.url, server.keys.alice!, 'GET', '/requests/req_nothing')).status).toBe(
        404,
      );
    });
  });

  describe('token endpoint', () => {
    it('refuses unknown grant types, JSON bodies, missing fields and mismatches, with no-store', async () => {
      const unsupported = await tokenRequest(server.url, { grant_type: 'client_credentials' });
      expect(unsupported).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
      expect(unsupported.headers.get('cache-control')).toBe('no-store');
      const json = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
      });
      expect(json.status).toBe(400);
      expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
      expect((await tokenRequest(server.url, { grant_type: 'authorization_code' })).body?.error).toBe(
        'invalid_request',
      );
      expect((await tokenRequest(server.url, {})).body?.error).toBe('invalid_request');

      const a = await codeFor(server.url, server.keys.alice!);
      const base = {
        grant_type: 'authorization_code',
        code: a.code,
        code_verifier: a.verifier,
        client_id: a.clientId,
      };
      const otherUri = await tokenRequest(server.url, {
        ...base,
        redirect_uri: 'http://127.0.0.1:1/elsewhere',
      });
      expect(otherUri.body?.error).toBe('invalid_grant');

      const b = await codeFor(server.url, server.keys.alice!);
      const wrongResource = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        code: b.code,
        code_verifier: b.verifier,
        redirect_uri: b.redirectUri,
        resource: 'https://elsewhere.example/mcp',
      });
      expect(wrongResource.body?.error).toBe('invalid_target');

      const c = await codeFor(server.url, server.keys.alice!);
      const otherClient = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        code: c.code,
        code_verifier: c.verifier,
        redirect_uri: c.redirectUri,
        client_id: registered,
      });
      expect(otherClient.body?.error).toBe('invalid_grant');
      expect(
        (await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'eso_rt_nope' })).body
          ?.error,
      ).toBe('invalid_grant');
    });

    it('refuses a repeated parameter', async () => {
      const response = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=a&refresh_token=b',
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    });
  });

  describe('client ID metadata documents', () => {
    it('uses the document’s name and redirect URIs for an https client_id', async () => {
      const params = { ...good(), client_id: METADATA_URL, redirect_uri: 'https://agent.example/callback' };
      const id = await pendingRequestId(
        new URL(`${server.url}/oauth/authorize?${new URLSearchParams(params)}`),
      );
      const pending = await consoleCall(server.url, server.keys.alice!, 'GET', `/requests/${id}`);
      expect(pending.body).toMatchObject({
        clientId: METADATA_URL,
        clientName: 'Hosted Agent',
        redirectOrigin: 'https://agent.example',
      });
      const approved = await consoleCall(server.url, server.keys.alice!, 'POST', `/requests/${id}/approve`);
      expect(String(approved.body?.redirect)).toMatch(/^https:\/\/agent\.example\/callback\?code=eso_ac_/);
    });

    it('refuses a redirect URI the document does not list, a document naming another client, and a failed fetch', async () => {
      for (const params of [
        { ...good(), client_id: METADATA_URL, redirect_uri: 'https://attacker.example/cb' },
        { ...good(), client_id: 'https://agent.example/other.json', redirect_uri: 'https://a.example/cb' },
        {
          ...good(),
          client_id: 'https://agent.example/missing.json',
          redirect_uri: 'https://agent.example/callback',
        },
        { ...good(), client_id: 'https://agent.example', redirect_uri: 'https://agent.example/callback' },
      ]) {
        const response = await authorize(params);
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
      }
    });
  });
});
