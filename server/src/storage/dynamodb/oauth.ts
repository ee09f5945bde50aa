/**
 * The OAuth part of the DynamoDB store, in the one table (layout in table-definition.ts):
 * - `PK = oauth#s#<sha256 hex>, SK = secret` — a code or token by its hash: one GetItem per check;
 * - `PK = oauth#r#<id>, SK = request` — a pending authorization request;
 * - `PK = oauth#c#<sha256 of client id>, SK = client` — a registered client (ids may be long URLs);
 * - `PK = u#<user>, SK = g#<id>` — a grant, in its user's partition so listing them is one query.
 * Each expiring item carries `exp` (ms, checked on read) and `ttl` (s): DynamoDB deletes it within days, reads
 * hide it from the second it expires. Single use is one conditional UpdateItem (`used = false`), so of two
 * tasks redeeming one code exactly one wins.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  LEGACY_CLIENT_LIFETIME_MS,
  type OAuthStore,
  type StoredOAuthClient,
  type StoredOAuthGrant,
  type StoredOAuthSecret,
} from '../oauth-contract.js';
import { isConditionFailure } from './aws-errors.js';
import { pk, type Key, type TableClient } from './table-client.js';

const secretKey = (hash: string): Key => ({ PK: `oauth#s#${hash}`, SK: 'secret' });
const requestKey = (id: string): Key => ({ PK: `oauth#r#${id}`, SK: 'request' });
const clientKey = (clientId: string): Key => ({
  PK: `oauth#c#${createHash('sha256').update(clientId, 'utf8').digest('hex')}`,
  SK: 'client',
});
const grantKey = (user: string, id: string): Key => ({ PK: pk(user), SK: `g#${id}` });
const ttl = (ms: number) => Math.ceil(ms / 1000);

function secretFrom(item: Record<string, unknown>): StoredOAuthSecret {
  return {
    hash: String(item.hash),
    kind: item.kind as StoredOAuthSecret['kind'],
    user: String(item.user),
    grantId: String(item.grantId),
    expiresAt: Number(item.exp),
    used: item.used === true,
    ...(typeof item.data === 'string' ? { data: item.data } : {}),
  };
}

export class DynamoOAuth implements OAuthStore {
  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date,
  ) {}

  private async put(what: string, item: Record<string, unknown>): Promise<void> {
    const { doc, table } = this.table;
    await this.table.call(what, () => doc.send(new PutCommand({ TableName: table, Item: item })));
  }

  private async remove(what: string, key: Key): Promise<Record<string, unknown> | undefined> {
    const { doc, table } = this.table;
    const result = await this.table.call(what, () =>
      doc.send(new DeleteCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' })),
    );
    return result.Attributes;
  }

  async putClient(client: StoredOAuthClient, expiresAt: Date): Promise<void> {
    const exp = expiresAt.getTime();
    await this.put('save an OAuth client', {
      ...clientKey(client.clientId),
      doc: JSON.stringify(client),
      exp,
      ttl: ttl(exp),
    });
  }

  async getClient(clientId: string, now = this.now()): Promise<StoredOAuthClient | null> {
    const item = await this.table.get('read an OAuth client', clientKey(clientId));
    if (item === undefined || typeof item.doc !== 'string') return null;
    if (item.exp === undefined) {
      // Registered before registrations expired: from this first read on it expires as any client does (unless
      // a token issue keeps it longer meanwhile), so one never used again does not live forever.
      await this.keepClient(clientId, new Date(now.getTime() + LEGACY_CLIENT_LIFETIME_MS));
    } else if (!live(item, now)) return null;
    return JSON.parse(item.doc) as StoredOAuthClient;
  }

  async keepClient(clientId: string, until: Date): Promise<void> {
    const exp = until.getTime();
    try {
      // Only a client that exists, and only later: of two issues at once, the later expiry stays.
      await this.table.update('keep an OAuth client', {
        Key: clientKey(clientId),
        UpdateExpression: 'SET exp = :exp, #ttl = :ttl',
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(exp) OR exp < :exp)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':exp': exp, ':ttl': ttl(exp) },
      });
    } catch (error) {
      if (!isConditionFailure((error as Error).cause)) throw error;
    }
  }

  async putRequest(id: string, doc: string, expiresAt: Date): Promise<void> {
    const exp = expiresAt.getTime();
    await this.put('save an OAuth request', { ...requestKey(id), doc, exp, ttl: ttl(exp) });
  }

  async getRequest(id: string, now = this.now()): Promise<string | null> {
    const item = await this.table.get('read an OAuth request', requestKey(id));
    return live(item, now) && typeof item.doc === 'string' ? item.doc : null;
  }

  async takeRequest(id: string, now = this.now()): Promise<string | null> {
    const old = await this.remove('take an OAuth request', requestKey(id));
    return live(old, now) && typeof old.doc === 'string' ? old.doc : null;
  }

  async putGrant(grant: StoredOAuthGrant): Promise<void> {
    const exp = Date.parse(grant.expiresAt);
    await this.put('save an OAuth grant', {
      ...grantKey(grant.user, grant.id),
      doc: JSON.stringify(grant),
      exp,
      ttl: ttl(exp),
    });
  }

  async getGrant(user: string, id: string, now = this.now()): Promise<StoredOAuthGrant | null> {
    const item = await this.table.get('read an OAuth grant', grantKey(user, id));
    return live(item, now) && typeof item.doc === 'string'
      ? (JSON.parse(item.doc) as StoredOAuthGrant)
      : null;
  }

  async listGrants(user: string, now = this.now()): Promise<StoredOAuthGrant[]> {
    // `g#` … `g$`: every sort key that starts with `g#` (`$` follows `#`).
    const items = await this.table.range('list OAuth grants', user, 'g#', 'g$');
    return items
      .filter((item) => live(item, now) && typeof item.doc === 'string')
      .map((item) => JSON.parse(item.doc as string) as StoredOAuthGrant)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async touchGrant(
    user: string,
    id: string,
    change: { readonly lastUsedAt?: string; readonly expiresAt?: string },
  ): Promise<void> {
    // The grant is one JSON doc: read, change, write back only if nobody else changed or deleted it since.
    for (let attempt = 0; attempt < 3; attempt++) {
      const item = await this.table.get('read an OAuth grant', grantKey(user, id));
      if (typeof item?.doc !== 'string') return;
      const grant = JSON.parse(item.doc) as StoredOAuthGrant;
      const next: StoredOAuthGrant = {
        ...grant,
        ...(change.lastUsedAt ? { lastUsedAt: change.lastUsedAt } : {}),
        ...(change.expiresAt ? { expiresAt: change.expiresAt } : {}),
      };
      const exp = Date.parse(next.expiresAt);
      try {
        await this.table.update('update an OAuth grant', {
          Key: grantKey(user, id),
          UpdateExpression: 'SET doc = :next, exp = :exp, #ttl = :ttl',
          ConditionExpression: 'doc = :old',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':next': JSON.stringify(next),
            ':old': item.doc,
            ':exp': exp,
            ':ttl': ttl(exp),
          },
        });
        return;
      } catch (error) {
        if (!isConditionFailure((error as Error).cause)) throw error;
      }
    }
  }

  async deleteGrant(user: string, id: string): Promise<boolean> {
    return (await this.remove('delete an OAuth grant', grantKey(user, id))) !== undefined;
  }

  async putSecret(secret: StoredOAuthSecret): Promise<void> {
    pk(secret.user); // checks the user name like every other write
    await this.put('save an OAuth token', {
      ...secretKey(secret.hash),
      hash: secret.hash,
      kind: secret.kind,
      user: secret.user,
      grantId: secret.grantId,
      exp: secret.expiresAt,
      ttl: ttl(secret.expiresAt),
      used: secret.used,
      data: secret.data,
    });
  }

  async getSecret(hash: string, now = this.now()): Promise<StoredOAuthSecret | null> {
    const item = await this.table.get('read an OAuth token', secretKey(hash));
    return live(item, now) ? secretFrom(item) : null;
  }

  async useSecret(
    hash: string,
    now = this.now(),
  ): Promise<{ secret: StoredOAuthSecret; firstUse: boolean } | null> {
    try {
      const attributes = await this.table.update('use an OAuth token', {
        Key: secretKey(hash),
        UpdateExpression: 'SET used = :yes',
        ConditionExpression: 'used = :no AND exp > :now',
        ExpressionAttributeValues: { ':yes': true, ':no': false, ':now': now.getTime() },
        ReturnValues: 'ALL_NEW',
      });
      if (attributes) return { secret: secretFrom(attributes), firstUse: true };
    } catch (error) {
      if (!isConditionFailure((error as Error).cause)) throw error;
    }
    const existing = await this.getSecret(hash, now);
    return existing ? { secret: existing, firstUse: false } : null;
  }

  async deleteSecret(hash: string): Promise<void> {
    await this.remove('delete an OAuth token', secretKey(hash));
  }
}

/** TTL deletes within days, not at the second: an item past `exp` is treated as gone. */
function live(item: Record<string, unknown> | undefined, now: Date): item is Record<string, unknown> {
  return item !== undefined && typeof item.exp === 'number' && item.exp > now.getTime();
}
