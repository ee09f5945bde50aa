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
});
