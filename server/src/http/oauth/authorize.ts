/**
 * `GET /oauth/authorize`: checks the request and sends the browser to the console's consent page. Until the
 * client and redirect URI are verified, errors are a plain 400 page (never a redirect to an unverified URI).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_URI_LENGTH } from '../../auth/oauth/redirect-uri.js';
import type { AppDeps } from '../deps.js';
import { publicOrigin } from '../public-origin.js';
import type { RateLimiter } from '../rate-limit.js';
import { limited } from './replies.js';

const value = (max: number) => z.string().max(max).optional();
const AuthorizeQuerySchema = z.object({
  response_type: value(50),
  client_id: value(MAX_URI_LENGTH),
  redirect_uri: value(MAX_URI_LENGTH),
  code_challenge: value(200),
  code_challenge_method: value(20),
  state: value(1000),
  scope: value(200),
  resource: value(MAX_URI_LENGTH),
});

function page(message: string): string {
  return `Earshot could not start this sign-in.\n\n${message}\n\nGo back to the app you came from and try again.\n`;
}

export function registerAuthorizeRoute(app: FastifyInstance, deps: AppDeps, limiter: RateLimiter): void {
  app.get('/oauth/authorize', async (request, reply) => {
    if (limited(limiter, request, reply)) return reply;
    const query = request.query as Record<string, unknown>;
    // A repeated parameter arrives as an array: refused like any malformed request (RFC 6749 §3.1).
    const parsed = AuthorizeQuerySchema.safeParse(query);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') ?? 'the query';
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(page(`The parameter ${field} is repeated, too long or malformed.`));
    }
    const outcome = await deps.oauth.authorization.authorize(parsed.data, publicOrigin(deps.config, request));
    if (outcome.kind === 'page')
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(page(outcome.message));
    return reply.code(302).header('cache-control', 'no-store').header('location', outcome.location).send();
  });
}
