/**
 * REST shapes of Earshot's OAuth 2.1 authorization server that the console uses (consent page, Connect view's
 * grants list). The `/oauth/*` and `/.well-known/*` documents follow the RFCs (6749, 7591, 7009, 8414, 9728) and
 * are not repeated here; these are the `/api/v1/oauth/*` bodies, authenticated with a Bearer key like the rest of
 * `/api/v1`.
 */

/** The one scope Earshot grants: everything the approving key's user may do. */
export const OAUTH_SCOPE = 'earshot';

/** `GET /api/v1/oauth/requests/:id`: a pending authorization request waiting for the user's consent. */
export interface OAuthPendingRequest {
  /** Opaque id from the `#/consent?request=<id>` redirect; single use, expires after 10 minutes. */
  readonly id: string;
  readonly clientId: string;
  /** The name the client registered (or its metadata document gave); the client id when it gave none. */
  readonly clientName: string;
  readonly clientUri?: string;
  /** Origin of the redirect URI the code will go to (`https://claude.ai`, `http://127.0.0.1:33418`, `cursor://…`). */
  readonly redirectOrigin: string;
  readonly scope: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/**
 * `POST /api/v1/oauth/requests/:id/approve` → `{ redirect: "<redirect_uri>?code=…&state=…&iss=<origin>" }`;
 * `POST /api/v1/oauth/requests/:id/deny` → `{ redirect: "<redirect_uri>?error=access_denied&state=…" }`.
 * The console navigates the window to `redirect`.
 */
export interface OAuthDecision {
  readonly redirect: string;
}

/** One client the user has connected with OAuth (its tokens act as that user). */
export interface OAuthGrant {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** When one of its tokens was last used or refreshed (ISO 8601); null if never. */
  readonly lastUsedAt: string | null;
  /** When its refresh token expires, after which the client must ask again (ISO 8601). */
  readonly expiresAt: string;
}

/** `GET /api/v1/oauth/grants`: the caller's user's grants only. `DELETE /api/v1/oauth/grants/:id` → 204. */
export interface OAuthGrantList {
  readonly grants: readonly OAuthGrant[];
}

/** Error codes of the `/api/v1/oauth/*` routes (in Earshot's `{ error: { code, message } }` shape). */
export type OAuthApiErrorCode = 'unknown_request' | 'unknown_grant';
