/**
 * The public OAuth endpoints under /oauth: registration (RFC 7591), authorize, token, revocation (RFC 7009).
 * Encapsulated so their form parser and OAuth-shaped errors (`{ error, error_description }`) apply here only;
 * the rest of Earshot keeps its own error shape.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../auth/oauth/index.js';
import { StoreError } from '../../storage/index.js';
import type { AppDeps } from '../deps.js';
import { publicOrigin } from '../public-origin.js';
import { RateLimiter } from '../rate-limit.js';
import { registerAuthorizeRoute } from './authorize.js';
import { registerClientRoute } from './register.js';
import { sendOAuthError } from './replies.js';

/** A token request is a few hundred bytes; nothing legitimate comes near this. */
const FORM_LIMIT_BYTES = 8 * 1024;

/** application/x-www-form-urlencoded → a flat record; a repeated parameter is an error (RFC 6749 §3.1). */
export function parseForm(body: string): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(form, name))
      throw new OAuthError('invalid_request', `The parameter ${name} is repeated.`);
    form[name] = value;
  }
  return form;
}

export function registerOAuthEndpoints(app: FastifyInstance, deps: AppDeps): void {
  app.register(async (oauth) => {
    oauth.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
      (_request, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );
    oauth.setErrorHandler((thrown: FastifyError | OAuthError, request, reply) => {
      if (thrown instanceof OAuthError) return sendOAuthError(reply, thrown);
      if (thrown instanceof StoreError) {
        request.log.warn({ err: thrown }, 'OAuth request failed: store unavailable');
        return sendOAuthError(
          reply,
          new OAuthError('temporarily_unavailable', 'The store is unavailable; retry shortly.', 503),
        );
      }
      const status = thrown.statusCode ?? 500;
      if (status < 500) {
        const description =
          thrown.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Send the parameters as application/x-www-form-urlencoded (JSON for registration).'
            : thrown.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
              ? 'The request body is too large.'
              : 'The request is malformed.';
        return sendOAuthError(
          reply,
          new OAuthError('invalid_request', description, status === 413 ? 413 : 400),
        );
      }
      request.log.error({ err: thrown }, 'OAuth request failed');
      return reply
        .code(500)
        .header('cache-control', 'no-store')
        .send({ error: 'server_error', error_description: 'Internal error; the server log has details.' });
    });

    const { limits } = deps.oauth;
    const registrations = new RateLimiter({ limit: limits.registrationsPerMinute, windowMs: 60_000 });
    const authorizations = new RateLimiter({ limit: limits.authorizationsPerMinute, windowMs: 60_000 });
    registerClientRoute(oauth, deps, registrations);
    registerAuthorizeRoute(oauth, deps, authorizations);

    const { tokens } = deps.oauth;
    oauth.post('/oauth/token', async (request, reply) => {
      const form = formOf(request);
      const response = await tokens.exchange(form, publicOrigin(deps.config, request));
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
    });

    oauth.post('/oauth/revoke', async (request, reply) => {
      const form = formOf(request);
      if (!form.token) throw new OAuthError('invalid_request', 'token is required.');
      await tokens.revoke(form.token);
      return reply.code(200).header('cache-control', 'no-store').send();
    });
  });
}

/** The parsed form, or invalid_request when the body was something else (or none). */
function formOf(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  const isForm = request.headers['content-type']
    ?.toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
  if (!isForm || typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  const form = body as Record<string, unknown>;
  if (!Object.values(form).every((value) => typeof value === 'string'))
    throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  return form as Record<string, string>;
}
