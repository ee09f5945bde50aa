import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthError } from '../../auth/oauth/index.js';
import type { RateLimiter } from '../rate-limit.js';

export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply.code(error.status).header('cache-control', 'no-store').send(error.toJSON());
}

/** Seconds to wait, or 0: the limiter's answer as a 429 when over. */
export function limited(limiter: RateLimiter, request: FastifyRequest, reply: FastifyReply): boolean {
  const wait = limiter.take(request.ip);
  if (wait === 0) return false;
  void reply
    .code(429)
    .header('retry-after', String(wait))
    .header('cache-control', 'no-store')
    .send({ error: 'too_many_requests', error_description: `Too many requests; retry in ${wait} s.` });
  return true;
}
