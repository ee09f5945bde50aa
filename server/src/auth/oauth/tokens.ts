/**
 * The back half: the token endpoint's two grants, access-token checks for every authenticated route, revocation,
 * and the user's list of grants. A token is only as alive as its grant: every check reads the grant, so deleting
 * a grant (the user's revoke, a replayed code, a reused refresh token) stops all its tokens at once.
 */
import { routeTagOf } from '../route-tag.js';
import { OAUTH_SCOPE, type OAuthGrant } from '@earshot/protocol';
import type { StoredOAuthGrant, StoredOAuthSecret } from '../../storage/index.js';
import type { CodeData, OAuthDeps } from './authorization.js';
import { isMetadataClientId } from './client-metadata.js';
import { OAuthError } from './errors.js';
import { OAUTH_LIFETIMES } from './lifetimes.js';
import {
  ACCESS_TOKEN_PREFIX,
  CODE_PREFIX,
  MAX_SECRET_LENGTH,
  REFRESH_TOKEN_PREFIX,
  hashSecret,
  newSecret,
  verifyPkce,
} from './secrets.js';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly scope: string;
}

/** The form fields of `POST /oauth/token` (bounded by the route). */
export type TokenParams = Readonly<Record<string, string | undefined>>;

/** Why an access token was refused (for logs and the `error="invalid_token"` header), or its user. */
export type TokenCheck = { readonly user: string; readonly grantId: string } | { readonly refused: string };

export class Tokens {
  constructor(private readonly deps: OAuthDeps) {}

  async exchange(params: TokenParams, origin: string): Promise<TokenResponse> {
    const grantType = params.grant_type;
    if (grantType === 'authorization_code') return this.redeemCode(params, origin);
    if (grantType === 'refresh_token') return this.refresh(params, origin);
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing.');
    throw new OAuthError('unsupported_grant_type', 'Use authorization_code or refresh_token.');
  }

  private async redeemCode(params: TokenParams, origin: string): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = params;
    if (!code || !redirectUri || !verifier)
      throw new OAuthError('invalid_request', 'code, redirect_uri and code_verifier are required.');
    const secret = await this.useOnce(code, 'code');
    const data = JSON.parse(secret.data ?? '{}') as CodeData;
    if (params.client_id !== undefined && params.client_id !== data.clientId)
      throw new OAuthError('invalid_grant', 'The code was issued to another client.');
    if (redirectUri !== data.redirectUri)
      throw new OAuthError(
        'invalid_grant',
        'redirect_uri differs from the one in the authorization request.',
      );
    if (!verifyPkce(verifier, data.codeChallenge))
      throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge.');
    this.checkResource(params.resource, origin);
    return this.issue(secret);
  }

  private async refresh(params: TokenParams, origin: string): Promise<TokenResponse> {
    if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
    const secret = await this.useOnce(params.refresh_token, 'refresh');
    const grant = await this.deps.store.getGrant(secret.user, secret.grantId, this.deps.now());
    if (!grant) throw new OAuthError('invalid_grant', 'The grant was revoked; authorize again.');
    if (params.client_id !== undefined && params.client_id !== grant.clientId)
      throw new OAuthError('invalid_grant', 'The refresh token was issued to another client.');
    const scopes = (params.scope ?? OAUTH_SCOPE).split(' ').filter(Boolean);
    if (scopes.some((scope) => scope !== OAUTH_SCOPE))
      throw new OAuthError('invalid_scope', `The only scope is "${OAUTH_SCOPE}".`);
    this.checkResource(params.resource, origin);
    return this.issue(secret);
  }

  /**
   * Marks a code or refresh token used. A second use means it leaked (or a client misbehaves): the grant and
   * every token from it are revoked (OAuth 2.1 §4.1.3 for codes, §4.3.1 refresh token rotation).
   */
  private async useOnce(value: string, kind: 'code' | 'refresh'): Promise<StoredOAuthSecret> {
    const what = kind === 'code' ? 'authorization code' : 'refresh token';
    // The prefix first: a token of another kind must not be marked used (and later count as reused) by mistake.
    const prefix = kind === 'code' ? CODE_PREFIX : REFRESH_TOKEN_PREFIX;
    const ours = value.startsWith(prefix) && value.length <= MAX_SECRET_LENGTH;
    const used = ours ? await this.deps.store.useSecret(hashSecret(value), this.deps.now()) : null;
    if (!used || used.secret.kind !== kind)
      throw new OAuthError('invalid_grant', `The ${what} is not valid or has expired.`);
    if (!used.firstUse) {
      await this.deps.store.deleteGrant(used.secret.user, used.secret.grantId);
      throw new OAuthError('invalid_grant', `The ${what} was already used; the grant has been revoked.`);
    }
    return used.secret;
  }

  private checkResource(resource: string | undefined, origin: string): void {
    if (resource !== undefined && resource !== `${origin}/mcp`)
      throw new OAuthError('invalid_target', `The resource must be ${origin}/mcp.`);
  }

  private async issue(from: StoredOAuthSecret): Promise<TokenResponse> {
    const now = this.deps.now().getTime();
    const grant = await this.deps.store.getGrant(from.user, from.grantId, new Date(now));
    if (!grant)
      throw new OAuthError('invalid_grant', 'The grant was revoked or has expired; authorize again.');
    // The user's route tag after the prefix (route-tag.ts): behind the AWS proxy, the user's task.
    const access = newSecret(`${ACCESS_TOKEN_PREFIX}${routeTagOf(from.user)}.`);
    const refresh = newSecret(REFRESH_TOKEN_PREFIX);
    const base = { user: from.user, grantId: from.grantId, used: false };
    await this.deps.store.putSecret({
      ...base,
      hash: hashSecret(access),
      kind: 'access',
      expiresAt: now + OAUTH_LIFETIMES.access,
    });
    await this.deps.store.putSecret({
      ...base,
      hash: hashSecret(refresh),
      kind: 'refresh',
      expiresAt: now + OAUTH_LIFETIMES.refresh,
    });
    await this.deps.store.touchGrant(from.user, from.grantId, {
      lastUsedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + OAUTH_LIFETIMES.refresh).toISOString(),
    });
    // A client in use stays registered (a metadata-document client is not stored: nothing to keep).
    if (!isMetadataClientId(grant.clientId))
      await this.deps.store.keepClient(grant.clientId, new Date(now + OAUTH_LIFETIMES.client));
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: OAUTH_LIFETIMES.access / 1000,
      refresh_token: refresh,
      scope: OAUTH_SCOPE,
    };
  }

  /** The user an access token acts for: two indexed reads (token by hash, then its grant). */
  async check(token: string): Promise<TokenCheck> {
    if (!token.startsWith(ACCESS_TOKEN_PREFIX) || token.length > MAX_SECRET_LENGTH)
      return { refused: 'not an Earshot access token' };
    const now = this.deps.now();
    const secret = await this.deps.store.getSecret(hashSecret(token), now);
    if (!secret || secret.kind !== 'access') return { refused: 'unknown or expired access token' };
    const grant = await this.deps.store.getGrant(secret.user, secret.grantId, now);
    if (!grant) return { refused: 'the grant was revoked' };
    const last = grant.lastUsedAt ? Date.parse(grant.lastUsedAt) : 0;
    if (now.getTime() - last >= OAUTH_LIFETIMES.lastUsedResolution) {
      // Bookkeeping for the grants list; a failure here must not refuse a valid token.
      void this.deps.store
        .touchGrant(grant.user, grant.id, { lastUsedAt: now.toISOString() })
        .catch(() => undefined);
    }
    return { user: grant.user, grantId: grant.id };
  }

  /** RFC 7009: unknown, expired or malformed tokens are not an error. A refresh token takes its grant along. */
  async revoke(token: string): Promise<void> {
    if (token.length > MAX_SECRET_LENGTH) return;
    const hash = hashSecret(token);
    const secret = await this.deps.store.getSecret(hash, this.deps.now());
    if (!secret) return;
    if (secret.kind === 'access') await this.deps.store.deleteSecret(hash);
    else await this.deps.store.deleteGrant(secret.user, secret.grantId);
  }

  async listGrants(user: string): Promise<OAuthGrant[]> {
    const grants = await this.deps.store.listGrants(user, this.deps.now());
    return grants.map(publicGrant);
  }

  async deleteGrant(user: string, id: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return false;
    return this.deps.store.deleteGrant(user, id);
  }
}

function publicGrant(grant: StoredOAuthGrant): OAuthGrant {
  return {
    id: grant.id,
    clientId: grant.clientId,
    clientName: grant.clientName,
    createdAt: grant.createdAt,
    lastUsedAt: grant.lastUsedAt,
    expiresAt: grant.expiresAt,
  };
}
