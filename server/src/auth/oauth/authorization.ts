/**
 * The front half of the authorization code flow: resolving the client (registered, or a metadata document URL),
 * checking an authorize request, keeping it pending for the consent page, and the user's approve or deny.
 * HTTP-free so the rules can be tested alone; the routes only translate.
 */
import { OAUTH_SCOPE, type OAuthPendingRequest } from '@earshot/protocol';
import type { OAuthStore, StoredOAuthClient, StoredOAuthGrant } from '../../storage/index.js';
import {
  isMetadataClientId,
  loadClientMetadata,
  type ClientMetadata,
  type ClientMetadataFetcher,
} from './client-metadata.js';
import { OAUTH_LIFETIMES } from './lifetimes.js';
import { redirectOrigin, redirectUriMatches, withQuery } from './redirect-uri.js';
import { CODE_PREFIX, hashSecret, isS256Challenge, newId, newSecret } from './secrets.js';

/** The query of `GET /oauth/authorize`, each value bounded by the route. */
export interface AuthorizeParams {
  readonly response_type?: string;
  readonly client_id?: string;
  readonly redirect_uri?: string;
  readonly code_challenge?: string;
  readonly code_challenge_method?: string;
  readonly state?: string;
  readonly scope?: string;
  readonly resource?: string;
}

/** What the authorize endpoint answers: a plain error page, an error redirect, or the consent page. */
export type AuthorizeOutcome =
  | { readonly kind: 'page'; readonly message: string }
  | { readonly kind: 'redirect'; readonly location: string };

/** Kept in the store between authorize and the user's decision. */
interface PendingDoc {
  readonly clientId: string;
  readonly clientName: string;
  readonly clientUri: string | null;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly state: string | null;
  readonly scope: string;
  readonly resource: string | null;
  readonly expiresAt: string;
}

/** What a code carries to the token endpoint. */
export interface CodeData {
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly clientId: string;
  readonly resource: string | null;
}

export interface OAuthDeps {
  readonly store: OAuthStore;
  readonly now: () => Date;
  readonly fetchMetadata: ClientMetadataFetcher;
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A lifetime in whole days, for messages ("1 day", "60 days"). */
function days(ms: number): string {
  const count = Math.round(ms / 86_400_000);
  return `${count} ${count === 1 ? 'day' : 'days'}`;
}

export class Authorization {
  constructor(private readonly deps: OAuthDeps) {}

  /** A registered client, or the metadata document a URL client_id names; null (or throws why) when neither. */
  async resolveClient(clientId: string): Promise<ClientMetadata | StoredOAuthClient | null> {
    if (isMetadataClientId(clientId)) return loadClientMetadata(clientId, this.deps.fetchMetadata);
    return this.deps.store.getClient(clientId, this.deps.now());
  }

  async authorize(params: AuthorizeParams, origin: string): Promise<AuthorizeOutcome> {
    // Until the client and its redirect URI are known good, errors are shown here, never redirected.
    if (!params.client_id) return { kind: 'page', message: 'The request has no client_id.' };
    let client: ClientMetadata | StoredOAuthClient | null;
    try {
      client = await this.resolveClient(params.client_id);
    } catch (error) {
      return { kind: 'page', message: `The client could not be verified: ${(error as Error).message}.` };
    }
    if (!client) {
      return {
        kind: 'page',
        message:
          'Unknown or expired client_id: the app must register again. (A registration no token was issued to ' +
          `lasts ${days(OAUTH_LIFETIMES.unusedClient)}; one in use, ${days(OAUTH_LIFETIMES.client)} after its ` +
          'last sign-in or refresh.) Remove Earshot from the app and add it back.',
      };
    }
    const redirectUri =
      params.redirect_uri ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (!redirectUri) return { kind: 'page', message: 'The request has no redirect_uri.' };
    if (!redirectUriMatches(redirectUri, client.redirectUris))
      return { kind: 'page', message: 'The redirect_uri is not one this client registered.' };

    const state = params.state ?? null;
    const fail = (error: string, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      location: withQuery(redirectUri, {
        error,
        error_description: description,
        state: state ?? undefined,
        iss: origin,
      }),
    });
    if (params.response_type !== 'code')
      return fail('unsupported_response_type', 'Only response_type=code is supported.');
    if (!params.code_challenge)
      return fail('invalid_request', 'PKCE is required: send code_challenge (S256).');
    if (params.code_challenge_method !== 'S256')
      return fail('invalid_request', 'code_challenge_method must be S256.');
    if (!isS256Challenge(params.code_challenge))
      return fail('invalid_request', 'code_challenge must be 43 base64url characters (S256).');
    const scopes = (params.scope ?? OAUTH_SCOPE).split(' ').filter(Boolean);
    if (scopes.some((scope) => scope !== OAUTH_SCOPE))
      return fail('invalid_scope', `The only scope is "${OAUTH_SCOPE}".`);
    if (params.resource !== undefined && params.resource !== `${origin}/mcp`)
      return fail('invalid_target', `The resource must be ${origin}/mcp.`);

    const id = newId('req_');
    const expiresAt = new Date(this.deps.now().getTime() + OAUTH_LIFETIMES.request);
    const doc: PendingDoc = {
      clientId: client.clientId,
      clientName: client.clientName ?? client.clientId,
      clientUri: client.clientUri,
      redirectUri,
      codeChallenge: params.code_challenge,
      state,
      scope: OAUTH_SCOPE,
      resource: params.resource ?? null,
      expiresAt: expiresAt.toISOString(),
    };
    await this.deps.store.putRequest(id, JSON.stringify(doc), expiresAt);
    return { kind: 'redirect', location: `${origin}/#/consent?request=${id}` };
  }

  /** The pending request for the consent page; null when unknown, expired or already decided. */
  async pending(id: string): Promise<OAuthPendingRequest | null> {
    if (!REQUEST_ID.test(id)) return null;
    const raw = await this.deps.store.getRequest(id, this.deps.now());
    if (!raw) return null;
    const doc = JSON.parse(raw) as PendingDoc;
    return {
      id,
      clientId: doc.clientId,
      clientName: doc.clientName,
      ...(doc.clientUri ? { clientUri: doc.clientUri } : {}),
      redirectOrigin: redirectOrigin(doc.redirectUri),
      scope: doc.scope,
      expiresAt: doc.expiresAt,
    };
  }

  /** Approves for `user`: makes the grant and a code; returns the redirect, or null for an unknown request. */
  async approve(id: string, user: string, origin: string): Promise<string | null> {
    const doc = await this.take(id);
    if (!doc) return null;
    const now = this.deps.now();
    const grant: StoredOAuthGrant = {
      id: newId('grt_'),
      user,
      clientId: doc.clientId,
      clientName: doc.clientName,
      createdAt: now.toISOString(),
      lastUsedAt: null,
      // Until the code is exchanged the grant lives as long as the code; the exchange extends it.
      expiresAt: new Date(now.getTime() + OAUTH_LIFETIMES.code).toISOString(),
    };
    await this.deps.store.putGrant(grant);
    const code = newSecret(CODE_PREFIX);
    const data: CodeData = {
      redirectUri: doc.redirectUri,
      codeChallenge: doc.codeChallenge,
      clientId: doc.clientId,
      resource: doc.resource,
    };
    await this.deps.store.putSecret({
      hash: hashSecret(code),
      kind: 'code',
      user,
      grantId: grant.id,
      expiresAt: now.getTime() + OAUTH_LIFETIMES.code,
      used: false,
      data: JSON.stringify(data),
    });
    return withQuery(doc.redirectUri, { code, state: doc.state ?? undefined, iss: origin });
  }

  async deny(id: string, origin: string): Promise<string | null> {
    const doc = await this.take(id);
    if (!doc) return null;
    return withQuery(doc.redirectUri, { error: 'access_denied', state: doc.state ?? undefined, iss: origin });
  }

  private async take(id: string): Promise<PendingDoc | null> {
    if (!REQUEST_ID.test(id)) return null;
    const raw = await this.deps.store.takeRequest(id, this.deps.now());
    return raw ? (JSON.parse(raw) as PendingDoc) : null;
  }
}
