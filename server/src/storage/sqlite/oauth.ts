/** The OAuth part of the SQLite store: one small indexed statement per call (see oauth-contract.ts). */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type {
  OAuthStore,
  StoredOAuthClient,
  StoredOAuthGrant,
  StoredOAuthSecret,
} from '../oauth-contract.js';
import { checkUser } from '../shared.js';

interface SecretRow {
  hash: string;
  kind: StoredOAuthSecret['kind'];
  user: string;
  grant_id: string;
  expires_at: number;
  used: number;
  data: string | null;
}

function secretFrom(row: SecretRow): StoredOAuthSecret {
  return {
    hash: row.hash,
    kind: row.kind,
    user: row.user,
    grantId: row.grant_id,
    expiresAt: Number(row.expires_at),
    used: row.used !== 0,
    ...(row.data === null ? {} : { data: row.data }),
  };
}

export class SqliteOAuth implements OAuthStore {
  private readonly s: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    /** Wraps each call so failures become StoreErrors (the store's `run`). */
    private readonly run: <T>(what: string, work: () => T) => T,
    private readonly now: () => Date,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      putClient: p('INSERT OR REPLACE INTO oauth_clients (client_id, doc, expires_at) VALUES (?, ?, ?)'),
      getClient: p('SELECT doc FROM oauth_clients WHERE client_id = ? AND expires_at > ?'),
      keepClient: p('UPDATE oauth_clients SET expires_at = max(expires_at, ?) WHERE client_id = ?'),
      putRequest: p('INSERT OR REPLACE INTO oauth_requests (id, doc, expires_at) VALUES (?, ?, ?)'),
      getRequest: p('SELECT doc FROM oauth_requests WHERE id = ? AND expires_at > ?'),
      takeRequest: p('DELETE FROM oauth_requests WHERE id = ? RETURNING doc, expires_at'),
      putGrant: p('INSERT OR REPLACE INTO oauth_grants (user, id, doc, expires_at) VALUES (?, ?, ?, ?)'),
      getGrant: p('SELECT doc FROM oauth_grants WHERE user = ? AND id = ? AND expires_at > ?'),
      listGrants: p('SELECT doc FROM oauth_grants WHERE user = ? AND expires_at > ?'),
      touchGrant: p(
        `UPDATE oauth_grants SET doc = json_set(doc, '$.lastUsedAt', coalesce(:last, json_extract(doc, '$.lastUsedAt')),
           '$.expiresAt', coalesce(:expires, json_extract(doc, '$.expiresAt'))),
           expires_at = coalesce(:expiresMs, expires_at) WHERE user = :user AND id = :id`,
      ),
      deleteGrant: p('DELETE FROM oauth_grants WHERE user = ? AND id = ?'),
      putSecret: p(
        `INSERT OR REPLACE INTO oauth_secrets (hash, kind, user, grant_id, expires_at, used, data)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      getSecret: p('SELECT * FROM oauth_secrets WHERE hash = ? AND expires_at > ?'),
      // `used = 0` in the WHERE makes the flip atomic: one statement, and only one caller changes the row.
      useSecret: p(
        'UPDATE oauth_secrets SET used = 1 WHERE hash = ? AND expires_at > ? AND used = 0 RETURNING *',
      ),
      deleteSecret: p('DELETE FROM oauth_secrets WHERE hash = ?'),
      expireClients: p('DELETE FROM oauth_clients WHERE expires_at <= ?'),
      expireRequests: p('DELETE FROM oauth_requests WHERE expires_at <= ?'),
      expireGrants: p('DELETE FROM oauth_grants WHERE expires_at <= ?'),
      expireSecrets: p('DELETE FROM oauth_secrets WHERE expires_at <= ?'),
    };
  }

  async putClient(client: StoredOAuthClient, expiresAt: Date): Promise<void> {
    this.run('save an OAuth client', () =>
      this.s.putClient!.run(client.clientId, JSON.stringify(client), expiresAt.getTime()),
    );
  }

  async getClient(clientId: string, now = this.now()): Promise<StoredOAuthClient | null> {
    const row = this.run('read an OAuth client', () => this.s.getClient!.get(clientId, now.getTime())) as
      { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as StoredOAuthClient) : null;
  }

  async keepClient(clientId: string, until: Date): Promise<void> {
    this.run('keep an OAuth client', () => this.s.keepClient!.run(until.getTime(), clientId));
  }

  async putRequest(id: string, doc: string, expiresAt: Date): Promise<void> {
    this.run('save an OAuth request', () => this.s.putRequest!.run(id, doc, expiresAt.getTime()));
  }

  async getRequest(id: string, now = this.now()): Promise<string | null> {
    const row = this.run('read an OAuth request', () => this.s.getRequest!.get(id, now.getTime())) as
      { doc: string } | undefined;
    return row?.doc ?? null;
  }

  async takeRequest(id: string, now = this.now()): Promise<string | null> {
    const row = this.run('take an OAuth request', () => this.s.takeRequest!.get(id)) as
      { doc: string; expires_at: number } | undefined;
    return row && Number(row.expires_at) > now.getTime() ? row.doc : null;
  }

  async putGrant(grant: StoredOAuthGrant): Promise<void> {
    checkUser(grant.user);
    this.run('save an OAuth grant', () =>
      this.s.putGrant!.run(grant.user, grant.id, JSON.stringify(grant), Date.parse(grant.expiresAt)),
    );
  }

  async getGrant(user: string, id: string, now = this.now()): Promise<StoredOAuthGrant | null> {
    checkUser(user);
    const row = this.run('read an OAuth grant', () => this.s.getGrant!.get(user, id, now.getTime())) as
      { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as StoredOAuthGrant) : null;
  }

  async listGrants(user: string, now = this.now()): Promise<StoredOAuthGrant[]> {
    checkUser(user);
    const rows = this.run('list OAuth grants', () => this.s.listGrants!.all(user, now.getTime())) as {
      doc: string;
    }[];
    const grants = rows.map((row) => JSON.parse(row.doc) as StoredOAuthGrant);
    return grants.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async touchGrant(
    user: string,
    id: string,
    change: { readonly lastUsedAt?: string; readonly expiresAt?: string },
  ): Promise<void> {
    checkUser(user);
    this.run('update an OAuth grant', () =>
      this.s.touchGrant!.run({
        user,
        id,
        last: change.lastUsedAt ?? null,
        expires: change.expiresAt ?? null,
        expiresMs: change.expiresAt ? Date.parse(change.expiresAt) : null,
      }),
    );
  }

  async deleteGrant(user: string, id: string): Promise<boolean> {
    checkUser(user);
    const result = this.run('delete an OAuth grant', () => this.s.deleteGrant!.run(user, id));
    return Number(result.changes) > 0;
  }

  async putSecret(secret: StoredOAuthSecret): Promise<void> {
    checkUser(secret.user);
    this.run('save an OAuth token', () =>
      this.s.putSecret!.run(
        secret.hash,
        secret.kind,
        secret.user,
        secret.grantId,
        secret.expiresAt,
        secret.used ? 1 : 0,
        secret.data ?? null,
      ),
    );
  }

  async getSecret(hash: string, now = this.now()): Promise<StoredOAuthSecret | null> {
    const row = this.run('read an OAuth token', () => this.s.getSecret!.get(hash, now.getTime())) as
      SecretRow | undefined;
    return row ? secretFrom(row) : null;
  }

  async useSecret(
    hash: string,
    now = this.now(),
  ): Promise<{ secret: StoredOAuthSecret; firstUse: boolean } | null> {
    const flipped = this.run('use an OAuth token', () => this.s.useSecret!.get(hash, now.getTime())) as
      SecretRow | undefined;
    if (flipped) return { secret: secretFrom(flipped), firstUse: true };
    const existing = await this.getSecret(hash, now);
    return existing ? { secret: existing, firstUse: false } : null;
  }

  async deleteSecret(hash: string): Promise<void> {
    this.run('delete an OAuth token', () => this.s.deleteSecret!.run(hash));
  }

  /** Deletes every expired client, request, grant and secret; returns how many rows went. */
  expire(now: Date): number {
    const at = now.getTime();
    return this.run('remove expired OAuth records', () =>
      ['expireClients', 'expireRequests', 'expireGrants', 'expireSecrets']
        .map((name) => Number(this.s[name]!.run(at).changes))
        .reduce((a, b) => a + b, 0),
    );
  }
}
