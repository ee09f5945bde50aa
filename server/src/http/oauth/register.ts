/** `POST /oauth/register`: RFC 7591 dynamic client registration, public clients only. */
import { OAUTH_SCOPE } from '@earshot/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OAuthError } from '../../auth/oauth/index.js';
import { OAUTH_LIFETIMES } from '../../auth/oauth/lifetimes.js';
import { MAX_URI_LENGTH, redirectUriProblem } from '../../auth/oauth/redirect-uri.js';
import { newId } from '../../auth/oauth/secrets.js';
import type { AppDeps } from '../deps.js';
import type { RateLimiter } from '../rate-limit.js';
import { limited } from './replies.js';

/** A registration is well under a kilobyte; this bounds the JSON parser's work. */
const REGISTRATION_LIMIT_BYTES = 16 * 1024;

/** Unknown fields (logo_uri, contacts…) are accepted and ignored, as RFC 7591 §2 allows. */
const RegistrationSchema = z.object({
  redirect_uris: z.array(z.string().max(MAX_URI_LENGTH)).min(1).max(10),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().max(MAX_URI_LENGTH).optional(),
  token_endpoint_auth_method: z.string().max(100).optional(),
  grant_types: z.array(z.string().max(100)).max(5).optional(),
  response_types: z.array(z.string().max(100)).max(5).optional(),
  scope: z.string().max(200).optional(),
});

export function registerClientRoute(app: FastifyInstance, deps: AppDeps, limiter: RateLimiter): void {
  app.post(
    '/oauth/register',
    {
      bodyLimit: REGISTRATION_LIMIT_BYTES,
      // Counted before the body is read: a flood never gets parsed.
      onRequest: async (request, reply) => {
        if (limited(limiter, request, reply)) return reply;
      },
    },
    async (request, reply) => {
      const parsed = RegistrationSchema.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw new OAuthError(
          'invalid_client_metadata',
          `${where}${issue?.message ?? 'malformed registration'}`,
        );
      }
      const body = parsed.data;
      for (const uri of body.redirect_uris) {
        const problem = redirectUriProblem(uri);
        if (problem) throw new OAuthError('invalid_redirect_uri', `Refused: ${problem}.`);
      }
      if (body.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== 'none')
        throw new OAuthError(
          'invalid_client_metadata',
          'Only public clients are registered: token_endpoint_auth_method must be "none" (use PKCE).',
        );
      const grantTypes = body.grant_types ?? ['authorization_code', 'refresh_token'];
      if (grantTypes.some((type) => type !== 'authorization_code' && type !== 'refresh_token'))
        throw new OAuthError(
          'invalid_client_metadata',
          'grant_types may be authorization_code and refresh_token.',
        );
      if ((body.response_types ?? ['code']).some((type) => type !== 'code'))
        throw new OAuthError('invalid_client_metadata', 'response_types may only be code.');
      const clientUri = body.client_uri?.startsWith('https://') ? body.client_uri : null;
      const now = deps.oauth.now();
      const client = {
        clientId: newId('esc_'),
        clientName: body.client_name ?? null,
        clientUri,
        redirectUris: body.redirect_uris,
        createdAt: now.toISOString(),
      };
      // Kept a day unless a token is issued to it (tokens.ts keeps it then): see OAUTH_LIFETIMES.
      await deps.oauth.store.putClient(client, new Date(now.getTime() + OAUTH_LIFETIMES.unusedClient));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          client_id: client.clientId,
          client_id_issued_at: Math.floor(Date.parse(client.createdAt) / 1000),
          redirect_uris: client.redirectUris,
          ...(client.clientName ? { client_name: client.clientName } : {}),
          ...(clientUri ? { client_uri: clientUri } : {}),
          token_endpoint_auth_method: 'none',
          grant_types: grantTypes,
          response_types: ['code'],
          scope: OAUTH_SCOPE,
        });
    },
  );
}
