import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import fastifyStatic from '@fastify/static';
import { DEFAULT_SETTINGS, type OAuthGrant, type OAuthPendingRequest } from '@earshot/protocol';
import Fastify from 'fastify';
import { CONSOLE_DIR } from '../../src/http/static.js';

/** What the fake saw the console decide: which request, as which user. */
export interface Decision {
  readonly request: string;
  readonly decision: 'approve' | 'deny';
  readonly user: string;
}

export interface FakeConsentApi {
  readonly url: string;
  /** Raw key of each user. */
  readonly keys: Record<string, string>;
  readonly decisions: Decision[];
  readonly grants: Map<string, OAuthGrant & { user: string }>;
  /** A pending request as `GET /oauth/authorize` would leave one; returns its id. */
  addRequest(fields?: Partial<OAuthPendingRequest>): string;
  close(): Promise<void>;
}

/**
 * The built console on loopback with a fake of the `/api/v1` routes the consent page and the Connect view's
 * grants list use (the contract in packages/protocol/src/oauth.ts), for the view's behaviour in Chromium. The
 * real server's OAuth routes are proved end to end in oauth-consent.test.ts.
 */
export async function startFakeConsentApi(users = ['alice', 'mallory']): Promise<FakeConsentApi> {
  const keys = Object.fromEntries(
    users.map((user) => [user, `esk_${randomBytes(24).toString('base64url')}`]),
  );
  const requests = new Map<string, OAuthPendingRequest>();
  const decisions: Decision[] = [];
  const grants = new Map<string, OAuthGrant & { user: string }>();
  const app = Fastify();
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/' });
  let origin = '';

  app.register(
    async (api) => {
      api.decorateRequest('user', '');
      api.addHook('onRequest', async (request, reply) => {
        const key = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        const user = users.find((name) => keys[name] === key);
        if (!user) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Bad key.' } });
        (request as unknown as { user: string }).user = user;
      });
      const userOf = (request: unknown) => (request as { user: string }).user;
      api.get('/usage', async (request) => ({ user: userOf(request) }));
      api.get('/settings', async () => DEFAULT_SETTINGS);
      api.get<{ Params: { id: string } }>('/oauth/requests/:id', async (request, reply) => {
        const pending = requests.get(request.params.id);
        if (!pending)
          return reply.code(404).send({ error: { code: 'unknown_request', message: 'No such request.' } });
        return pending;
      });
      api.post<{ Params: { id: string; decision: string } }>(
        '/oauth/requests/:id/:decision',
        async (request, reply) => {
          const { id, decision } = request.params;
          if (!requests.delete(id) || (decision !== 'approve' && decision !== 'deny'))
            return reply.code(404).send({ error: { code: 'unknown_request', message: 'No such request.' } });
          decisions.push({ request: id, decision, user: userOf(request) });
          const answer = decision === 'approve' ? `code=code-${id}` : 'error=access_denied';
          return { redirect: `${origin}/callback?${answer}&state=s-${id}` };
        },
      );
      api.get('/oauth/grants', async (request) => ({
        grants: [...grants.values()]
          .filter((grant) => grant.user === userOf(request))
          .map(({ user: _user, ...grant }) => grant),
      }));
      api.delete<{ Params: { id: string } }>('/oauth/grants/:id', async (request, reply) => {
        const grant = grants.get(request.params.id);
        if (grant?.user !== userOf(request))
          return reply.code(404).send({ error: { code: 'unknown_grant', message: 'No such grant.' } });
        grants.delete(grant.id);
        return reply.code(204).send();
      });
    },
    { prefix: '/api/v1' },
  );
  app.get('/callback', async () => 'back at the client');

  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url: origin,
    keys,
    decisions,
    grants,
    addRequest(fields = {}) {
      const id = randomBytes(16).toString('base64url');
      requests.set(id, {
        id,
        clientId: `client-${id}`,
        clientName: 'Claude',
        redirectOrigin: origin,
        scope: 'earshot',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        ...fields,
      });
      return id;
    },
    close: () => app.close(),
  };
}
