/** The public OAuth routes that store something are rate-limited per address, before any body is read. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_REDIRECT, pkcePair, registerClient } from './support/oauth.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('OAuth rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      oauthLimits: { registrationsPerMinute: 2, authorizationsPerMinute: 2 },
    });
  });
  afterAll(() => server?.close());

  it('answers 429 with retry-after past the registration limit, without parsing the body', async () => {
    const body = { client_name: 'x', redirect_uris: [LOOPBACK_REDIRECT] };
    expect((await registerClient(server.url, body)).status).toBe(201);
    expect((await registerClient(server.url, body)).status).toBe(201);
    const refused = await fetch(`${server.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{ not json',
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: string }).error).toBe('too_many_requests');
  });

  it('answers 429 past the authorize limit', async () => {
    const url = `${server.url}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'esc_unknown',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })}`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url, { redirect: 'manual' });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([400, 400, 429]);
  });

  it('counts each client apart behind trusted proxies, and ignores X-Forwarded-For from anyone else', async () => {
    const behindProxies = await startTestServer({
      oauthLimits: { registrationsPerMinute: 1, authorizationsPerMinute: 1 },
      env: { EARSHOT_TRUSTED_PROXY_HOPS: '2' },
    });
    try {
      const body = JSON.stringify({ client_name: 'x', redirect_uris: [LOOPBACK_REDIRECT] });
      const register = async (url: string, forwardedFor: string) =>
        (
          await fetch(`${url}/oauth/register`, {
            method: 'POST',
            // client → CloudFront (appends the client) → nginx (appends CloudFront) → Earshot; "spoofed" is the
            // client's own claim, which must not count.
            headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
            body,
          })
        ).status;
      expect(await register(behindProxies.url, 'spoofed, 198.51.100.7, 130.176.0.1')).toBe(201);
      expect(await register(behindProxies.url, 'spoofed, 198.51.100.8, 130.176.0.1')).toBe(201);
      expect(await register(behindProxies.url, 'other, 198.51.100.7, 130.176.0.2')).toBe(429);
      // Without trusted hops the header is the client's word: everyone here is one loopback address.
      const direct = await startTestServer({
        oauthLimits: { registrationsPerMinute: 1, authorizationsPerMinute: 1 },
      });
      try {
        expect(await register(direct.url, '198.51.100.7')).toBe(201);
        expect(await register(direct.url, '198.51.100.8')).toBe(429);
      } finally {
        await direct.close();
      }
    } finally {
      await behindProxies.close();
    }
  });
});
