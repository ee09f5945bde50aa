/**
 * `/api/v1/oauth/…` for the console: the consent page's pending request and decision, and the Connect view's
 * grants. API keys only (an OAuth token must not approve more OAuth clients); each user sees only their own.
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { OAuthDecision, OAuthGrantList, OAuthPendingRequest } from '@earshot/protocol';
import { EarshotError } from '../../errors.js';
import { requireApiKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { publicOrigin } from '../public-origin.js';

const unknownRequest = () =>
  new EarshotError(
    'unknown_request',
    'No such sign-in request: it expired (after 10 minutes) or was already answered. Start again from the app.',
  );

export function registerOAuthConsoleApi(
  app: FastifyInstance,
  deps: AppDeps,
  authenticate: onRequestHookHandler,
): void {
  const { authorization, tokens } = deps.oauth;
  app.register(
    async (api) => {
      api.addHook('onRequest', authenticate);
      api.addHook('onRequest', requireApiKey);

      api.get<{ Params: { id: string } }>('/requests/:id', async (request): Promise<OAuthPendingRequest> => {
        const pending = await authorization.pending(request.params.id);
        if (!pending) throw unknownRequest();
        return pending;
      });

      api.post<{ Params: { id: string } }>(
        '/requests/:id/approve',
        async (request): Promise<OAuthDecision> => {
          const redirect = await authorization.approve(
            request.params.id,
            request.user,
            publicOrigin(deps.config, request),
          );
          if (!redirect) throw unknownRequest();
          request.log.info({ user: request.user }, 'OAuth client approved');
          return { redirect };
        },
      );

      api.post<{ Params: { id: string } }>('/requests/:id/deny', async (request): Promise<OAuthDecision> => {
        const redirect = await authorization.deny(request.params.id, publicOrigin(deps.config, request));
        if (!redirect) throw unknownRequest();
        return { redirect };
      });

      api.get('/grants', async (request): Promise<OAuthGrantList> => ({
        grants: await tokens.listGrants(request.user),
      }));

      api.delete<{ Params: { id: string } }>('/grants/:id', async (request, reply) => {
        if (!(await tokens.deleteGrant(request.user, request.params.id)))
          throw new EarshotError(
            'unknown_grant',
            'No such connected client (already revoked, or not yours).',
          );
        return reply.code(204).send();
      });
    },
    { prefix: '/api/v1/oauth' },
  );
}
