/**
 * The `oauth` part of the store: what Earshot's OAuth 2.1 authorization server keeps. Secrets (codes, access
 * and refresh tokens) are stored only as SHA-256 hashes and looked up by hash in one read; grants live under
 * their user (listing a user's grants is one query). Records carry `expiresAt` (ms): reads never return an
 * expired one, SQLite's `maintain()` deletes them, DynamoDB's TTL does.
 */

/** A client registered with RFC 7591 dynamic registration (public clients only: no secret). */
export interface StoredOAuthClient {
  readonly clientId: string;
  readonly clientName: string | null;
  readonly clientUri: string | null;
  readonly redirectUris: readonly string[];
  /** ISO time. */
  readonly createdAt: string;
}

/** One client's access to one user's Earshot, made when the user approves; its tokens die with it. */
export interface StoredOAuthGrant {
  readonly id: string;
  readonly user: string;
  readonly clientId: string;
  readonly clientName: string;
  /** ISO times; `expiresAt` moves on with every refresh (the refresh token's lifetime). */
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string;
}

export type OAuthSecretKind = 'code' | 'access' | 'refresh';

/** A code or token, by the SHA-256 (hex) of its value. */
export interface StoredOAuthSecret {
  readonly hash: string;
  readonly kind: OAuthSecretKind;
  readonly user: string;
  readonly grantId: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Codes and refresh tokens are single use: set by `useSecret`. */
  readonly used: boolean;
  /** What the kind needs besides (a code's redirect URI, PKCE challenge, resource), as JSON. */
  readonly data?: string;
}

/**
 * What a client registered before registrations expired gets: the lifetime of a client just used (60 days). The
 * SQLite store's migration 4 gave it to every such client at the upgrade; the DynamoDB store gives it at the
 * client's first read after the upgrade, so no table scan is needed.
 */
export const LEGACY_CLIENT_LIFETIME_MS = 60 * 86_400_000;

export interface OAuthStore {
  /** Keeps a registration until `expiresAt` (see OAUTH_LIFETIMES: unused ones go soon, used ones live on). */
  putClient(client: StoredOAuthClient, expiresAt: Date): Promise<void>;
  /** null when unknown or expired. */
  getClient(clientId: string, now?: Date): Promise<StoredOAuthClient | null>;
  /** Keeps a registered client at least until `until`: never shortens, and a no-op when there is none. */
  keepClient(clientId: string, until: Date): Promise<void>;

  /** A pending authorization request (opaque JSON) under a random id, until `expiresAt`. */
  putRequest(id: string, doc: string, expiresAt: Date): Promise<void>;
  getRequest(id: string, now?: Date): Promise<string | null>;
  /** Returns and deletes it atomically: of two callers at once, one gets it, the other null. */
  takeRequest(id: string, now?: Date): Promise<string | null>;

  putGrant(grant: StoredOAuthGrant): Promise<void>;
  /** null when missing, expired or deleted (revoked). */
  getGrant(user: string, id: string, now?: Date): Promise<StoredOAuthGrant | null>;
  /** The user's unexpired grants, oldest first. */
  listGrants(user: string, now?: Date): Promise<StoredOAuthGrant[]>;
  /** Sets `lastUsedAt` and/or `expiresAt` of a grant that still exists (no-op when it does not). */
  touchGrant(
    user: string,
    id: string,
    change: { readonly lastUsedAt?: string; readonly expiresAt?: string },
  ): Promise<void>;
  /** Deletes (revokes) it; every token of it stops working, since token checks read the grant. */
  deleteGrant(user: string, id: string): Promise<boolean>;

  putSecret(secret: StoredOAuthSecret): Promise<void>;
  /** The unexpired secret with this hash, used or not. */
  getSecret(hash: string, now?: Date): Promise<StoredOAuthSecret | null>;
  /**
   * Marks a single-use secret used, atomically across processes: `firstUse` is true for exactly one caller.
   * null when there is no unexpired secret with this hash.
   */
  useSecret(
    hash: string,
    now?: Date,
  ): Promise<{ readonly secret: StoredOAuthSecret; readonly firstUse: boolean } | null>;
  deleteSecret(hash: string): Promise<void>;
}
