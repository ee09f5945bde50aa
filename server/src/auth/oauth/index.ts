/** Earshot's OAuth 2.1 authorization server, without HTTP: the routes in http/oauth/ translate to these. */
import type { OAuthStore } from '../../storage/index.js';
import { Authorization } from './authorization.js';
import { fetchClientMetadataDocument, type ClientMetadataFetcher } from './client-metadata.js';
import { Tokens } from './tokens.js';

export { OAuthError } from './errors.js';
export { Authorization, type AuthorizeParams } from './authorization.js';
export { Tokens, type TokenCheck } from './tokens.js';
export { ACCESS_TOKEN_PREFIX } from './secrets.js';
export type { ClientMetadataFetcher } from './client-metadata.js';

export interface OAuthServerOptions {
  readonly store: OAuthStore;
  readonly now?: () => Date;
  /** Default: the guarded https fetcher (public addresses only); tests pass their own. */
  readonly fetchMetadata?: ClientMetadataFetcher;
  readonly limits?: Partial<OAuthRateLimits>;
}

/** Per client address and minute, on the public routes that store something. */
export interface OAuthRateLimits {
  readonly registrationsPerMinute: number;
  /** Each authorize request may store a pending request. */
  readonly authorizationsPerMinute: number;
}

export interface OAuthServer {
  readonly authorization: Authorization;
  readonly tokens: Tokens;
  readonly store: OAuthStore;
  readonly now: () => Date;
  readonly limits: OAuthRateLimits;
}

export function createOAuthServer(options: OAuthServerOptions): OAuthServer {
  const deps = {
    store: options.store,
    now: options.now ?? (() => new Date()),
    fetchMetadata: options.fetchMetadata ?? fetchClientMetadataDocument,
  };
  return {
    authorization: new Authorization(deps),
    tokens: new Tokens(deps),
    store: deps.store,
    now: deps.now,
    limits: { registrationsPerMinute: 20, authorizationsPerMinute: 60, ...options.limits },
  };
}
