import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyRing } from '../auth/keys.js';
import { bearerToken } from '../auth/request-guard.js';

/** The user of an omitted-auth (loopback test) server. */
export const ANONYMOUS_USER = 'default';

/**
 * Returns the user of the request's bearer key, or sends 401 with a hint and returns undefined.
 * The key itself is never logged or echoed.
 */
export function makeAuthenticate(keyRing: KeyRing, omitAuth: boolean) {
  return (request: FastifyRequest, reply: FastifyReply): string | undefined => {
    const user = keyRing.authenticate(bearerToken(request.headers.authorization));
    if (user) return user;
    if (omitAuth) return ANONYMOUS_USER;
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
