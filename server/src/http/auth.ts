import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, onRequestHookHandler } from 'fastify';
import type { KeyRing } from '../auth/keys.js';
import type { Tokens } from '../auth/oauth/index.js';
import { ACCESS_TOKEN_PREFIX } from '../auth/oauth/index.js';
import { bearerToken } from '../auth/request-guard.js';
import type { Config } from '../config/env.js';
import { publicOrigin, resourceMetadataUrl } from './public-origin.js';

/** The user of an omitted-auth (loopback test) server. */
export const ANONYMOUS_USER = 'default';

/** How a request proved who it is: an API key, an OAuth access token, or nothing (omitted auth). */
export type AuthMethod = 'key' | 'oauth' | 'none';

/**
 * The request's user, or undefined once it has been answered 401. At once for an API key (the in-memory key ring),
 * a promise for an OAuth access token (the store): the common case costs no turns of the microtask queue.
 */
export type Authenticate = (
  request: FastifyRequest,
  reply: FastifyReply,
) => string | undefined | Promise<string | undefined>;

/** A presented credential's user, or why it was refused. */
export type Resolution =
  | { readonly user: string; readonly method: 'key' | 'oauth' }
  | { readonly user: null; readonly oauthRefused: boolean };

/**
 * Resolves a presented key or token: API keys from the in-memory key ring (no I/O), OAuth access tokens
 * (`eso_at_…`) from the store. Used by the HTTP routes and the player socket alike.
 */
export function makeResolver(
  keyRing: KeyRing,
  tokens: Tokens,
): (presented: string | undefined) => Resolution | Promise<Resolution> {
  return (presented) => {
    if (presented?.startsWith(ACCESS_TOKEN_PREFIX)) {
      return tokens
        .check(presented)
        .then((check): Resolution =>
          'user' in check ? { user: check.user, method: 'oauth' } : { user: null, oauthRefused: true },
        );
    }
    const user = keyRing.authenticate(presented);
    return user ? { user, method: 'key' } : { user: null, oauthRefused: false };
  };
}

/** True when the request says a body follows (which an unauthenticated caller must not get to send). */
function announcesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Returns the user of the request's bearer key or access token, or sends 401 with a hint and returns undefined.
 * The 401 names the protected resource metadata (RFC 9728 §5.1), where an MCP client starts the OAuth flow.
 * The key or token itself is never logged or echoed.
 */
export function makeAuthenticate(
  resolve: ReturnType<typeof makeResolver>,
  config: Pick<Config, 'omitAuth' | 'publicUrl'>,
): Authenticate {
  const decide = (
    request: FastifyRequest,
    reply: FastifyReply,
    presented: string | undefined,
    resolution: Resolution,
  ) => {
    if (resolution.user !== null) {
      request.authMethod = resolution.method;
      return resolution.user;
    }
    if (config.omitAuth) {
      request.authMethod = 'none';
      return ANONYMOUS_USER;
    }
    // The body of a refused request is never read: close the connection after the answer instead of
    // draining a body nobody asked for (keep-alive would make Node read it to find the next request).
    if (announcesBody(request)) void reply.header('connection', 'close');
    const metadata = resourceMetadataUrl(publicOrigin(config, request));
    const challenge = presented
      ? `Bearer resource_metadata="${metadata}", error="invalid_token"`
      : `Bearer resource_metadata="${metadata}"`;
    void reply
      .code(401)
      .header('www-authenticate', challenge)
      .send({
        error: {
          code: 'unauthorized',
          message: resolution.oauthRefused
            ? 'The access token is not valid: it expired or was revoked. Refresh it, or connect the client again.'
            : request.headers.authorization
              ? 'The API key is not valid. Use the key printed when Earshot started (or from EARSHOT_API_KEY).'
              : 'Missing API key: send "Authorization: Bearer <key>" (the key is printed when Earshot starts).',
        },
      });
    return undefined;
  };
  return (request, reply) => {
    const presented = bearerToken(request.headers.authorization);
    const resolution = resolve(presented);
    return resolution instanceof Promise
      ? resolution.then((resolved) => decide(request, reply, presented, resolved))
      : decide(request, reply, presented, resolution);
  };
}

/**
 * The same check as an onRequest hook: it runs before Fastify reads or parses the body, so a request without a
 * valid key gets 401 whatever its body (bad JSON, a huge one) and the body is never buffered.
 */
export function authenticateBeforeBody(authenticate: Authenticate): onRequestHookHandler {
  // Callback style, so an API key is checked and the request goes on in the same turn (an async hook costs a
  // promise and its turns, on every call's way in). A refused request has been answered: done is not called.
  return (request, reply, done) => {
    const admit = (user: string | undefined) => {
      if (user === undefined) return;
      request.user = user;
      done();
    };
    const user = authenticate(request, reply);
    if (user instanceof Promise) user.then(admit, done);
    else admit(user);
  };
}

/**
 * For routes only an API key may use (approving OAuth clients, revoking grants): a client holding an access
 * token must not mint itself more access. Runs after `authenticateBeforeBody`.
 */
export const requireApiKey: onRequestAsyncHookHandler = async (request, reply) => {
  if (request.authMethod === 'oauth') {
    return reply.code(403).send({
      error: {
        code: 'forbidden',
        message: 'OAuth access tokens cannot manage OAuth grants; use your API key (the console does).',
      },
    });
  }
};

declare module 'fastify' {
  interface FastifyRequest {
    authMethod: AuthMethod;
  }
}
