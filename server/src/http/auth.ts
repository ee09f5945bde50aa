import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { KeyRing } from '../auth/keys.js';
import { bearerToken } from '../auth/request-guard.js';

/** The user of an omitted-auth (loopback test) server. */
export const ANONYMOUS_USER = 'default';

export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => string | undefined;

/** True when the request says a body follows (which an unauthenticated caller must not get to send). */
function announcesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Returns the user of the request's bearer key, or sends 401 with a hint and returns undefined.
 * The key itself is never logged or echoed.
 */
export function makeAuthenticate(keyRing: KeyRing, omitAuth: boolean): Authenticate {
  return (request, reply) => {
    const user = keyRing.authenticate(bearerToken(request.headers.authorization));
    if (user) return user;
    if (omitAuth) return ANONYMOUS_USER;
    // The body of a refused request is never read: close the connection after the answer instead of
    // draining a body nobody asked for (keep-alive would make Node read it to find the next request).
    if (announcesBody(request)) void reply.header('connection', 'close');
    void reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="earshot"')
      .send({
        error: {
          code: 'unauthorized',
          message: request.headers.authorization
            ? 'The API key is not valid. Use the key printed when Earshot started (or from EARSHOT_API_KEY).'
            : 'Missing API key: send "Authorization: Bearer <key>" (the key is printed when Earshot starts).',
        },
      });
    return undefined;
  };
}

/**
 * The same check as an onRequest hook: it runs before Fastify reads or parses the body, so a request without a
 * valid key gets 401 whatever its body (bad JSON, a huge one) and the body is never buffered.
 */
export function authenticateBeforeBody(authenticate: Authenticate): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const user = authenticate(request, reply);
    if (user === undefined) return reply;
    request.user = user;
  };
}
