import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startBackend,
  uniqueUser,
  type BackendFixture,
} from '../../test/support/storage-backends.js';
import type { Store, StoredOAuthGrant, StoredOAuthSecret } from './contract.js';

const NOON = new Date('2026-03-10T12:00:00.000Z');
const later = (ms: number) => new Date(NOON.getTime() + ms);
let counter = 0;
const unique = (label: string) =>
  `${label}${process.pid}x${(counter++).toString(36)}x${Date.now().toString(36)}`;

function grant(user: string, overrides: Partial<StoredOAuthGrant> = {}): StoredOAuthGrant {
  return {
    id: unique('g'),
    user,
    clientId: 'https://client.example/meta.json',
    clientName: 'Example',
    createdAt: NOON.toISOString(),
    lastUsedAt: null,
    expiresAt: later(60_000).toISOString(),
    ...overrides,
  };
}

function secret(user: string, overrides: Partial<StoredOAuthSecret> = {}): StoredOAuthSecret {
  return {
    hash: unique('h').padEnd(64, '0'),
    kind: 'refresh',
    user,
    grantId: 'g1',
    expiresAt: later(60_000).getTime(),
    used: false,
    ...overrides,
  };
}

describe.each(BACKENDS)('store contract: OAuth (%s)', (kind) => {
  let backend: BackendFixture;
  let store: Store;
  let other: Store;

  beforeAll(async () => {
    backend = await startBackend(kind);
    store = await backend.open({ now: () => NOON });
    other = await backend.open({ now: () => NOON });
  });
  afterAll(() => backend?.close());

  it('keeps registered clients by id, long URL ids included', async () => {
    const clientId = `https://client.example/${'x'.repeat(1500)}`;
    const client = {
      clientId,
      clientName: 'Long',
      clientUri: null,
      redirectUris: ['http://127.0.0.1:9/cb'],
      createdAt: NOON.toISOString(),
    };
    await store.oauth.putClient(client, later(60_000));
    expect(await other.oauth.getClient(clientId)).toEqual(client);
    expect(await other.oauth.getClient(`${clientId}y`)).toBeNull();
  });

  function client(clientId = unique('esc_')) {
    return {
      clientId,
      clientName: null,
      clientUri: null,
      redirectUris: ['http://127.0.0.1:9/cb'],
      createdAt: NOON.toISOString(),
    };
  }

  it('forgets a client once it expires, unless it was kept longer; keeping never shortens', async () => {
    const brief = client();
    await store.oauth.putClient(brief, later(1000));
    expect(await other.oauth.getClient(brief.clientId, later(999))).toEqual(brief);
    expect(await other.oauth.getClient(brief.clientId, later(1000))).toBeNull();

    const kept = client();
    await store.oauth.putClient(kept, later(1000));
    await store.oauth.keepClient(kept.clientId, later(5000));
    // A keep for less (a slower issue finishing after a later one) leaves the later expiry.
    await other.oauth.keepClient(kept.clientId, later(2000));
    expect(await other.oauth.getClient(kept.clientId, later(4999))).toEqual(kept);
    expect(await other.oauth.getClient(kept.clientId, later(5000))).toBeNull();
  });

  it('keeping a client that is not registered makes none', async () => {
    const missing = unique('esc_');
    await store.oauth.keepClient(missing, later(5000));
    expect(await other.oauth.getClient(missing)).toBeNull();
  });

  it('hands a pending request out once, and never after it expired', async () => {
    const id = unique('r');
    await store.oauth.putRequest(id, '{"a":1}', later(1000));
    expect(await other.oauth.getRequest(id)).toBe('{"a":1}');
    expect(await other.oauth.getRequest(id, later(1000))).toBeNull();
    const takes = await Promise.all([store.oauth.takeRequest(id), other.oauth.takeRequest(id)]);
    expect(takes.filter((doc) => doc !== null)).toEqual(['{"a":1}']);
    expect(await store.oauth.getRequest(id)).toBeNull();

    const stale = unique('r');
    await store.oauth.putRequest(stale, '{}', later(1000));
    expect(await store.oauth.takeRequest(stale, later(1000))).toBeNull();
  });

  it("lists a user's unexpired grants only, oldest first, and deletes them", async () => {
    const user = uniqueUser();
    const first = grant(user, { createdAt: later(-2000).toISOString() });
    const second = grant(user);
    const expired = grant(user, { expiresAt: NOON.toISOString() });
    for (const g of [second, expired, first]) await store.oauth.putGrant(g);
    await store.oauth.putGrant(grant(uniqueUser()));
    expect(await other.oauth.listGrants(user)).toEqual([first, second]);
    expect(await other.oauth.getGrant(user, expired.id)).toBeNull();
    expect(await other.oauth.getGrant(uniqueUser(), first.id)).toBeNull();

    await other.oauth.touchGrant(user, first.id, {
      lastUsedAt: later(5).toISOString(),
      expiresAt: later(90_000).toISOString(),
    });
    expect(await store.oauth.getGrant(user, first.id, later(80_000))).toEqual({
      ...first,
      lastUsedAt: later(5).toISOString(),
      expiresAt: later(90_000).toISOString(),
    });
    await store.oauth.touchGrant(user, first.id, { lastUsedAt: later(9).toISOString() });
    expect(await store.oauth.getGrant(user, first.id)).toMatchObject({
      lastUsedAt: later(9).toISOString(),
      expiresAt: later(90_000).toISOString(),
    });

    expect(await store.oauth.deleteGrant(user, first.id)).toBe(true);
    expect(await other.oauth.deleteGrant(user, first.id)).toBe(false);
    expect(await other.oauth.getGrant(user, first.id)).toBeNull();
    // Touching a revoked grant does not bring it back.
    await store.oauth.touchGrant(user, first.id, { lastUsedAt: later(10).toISOString() });
    expect(await store.oauth.listGrants(user)).toEqual([second]);
  });

  it('finds secrets by hash until they expire, and deletes them', async () => {
    const user = uniqueUser();
    const s = secret(user, { kind: 'code', data: '{"redirectUri":"x"}' });
    await store.oauth.putSecret(s);
    expect(await other.oauth.getSecret(s.hash)).toEqual(s);
    expect(await other.oauth.getSecret(s.hash, later(60_000))).toBeNull();
    await other.oauth.deleteSecret(s.hash);
    expect(await store.oauth.getSecret(s.hash)).toBeNull();
    await store.oauth.deleteSecret('0'.repeat(64)); // unknown: no error
  });

  it('lets exactly one of many concurrent callers use a single-use secret first', async () => {
    const user = uniqueUser();
    const s = secret(user);
    await store.oauth.putSecret(s);
    const uses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).oauth.useSecret(s.hash)),
    );
    expect(uses.filter((use) => use?.firstUse)).toHaveLength(1);
    expect(uses.every((use) => use?.secret.grantId === 'g1' && use.secret.used)).toBe(true);
    expect(await store.oauth.useSecret(s.hash)).toMatchObject({ firstUse: false });
    expect(await store.oauth.useSecret('1'.repeat(64))).toBeNull();
    const old = secret(user);
    await store.oauth.putSecret(old);
    expect(await store.oauth.useSecret(old.hash, later(60_000))).toBeNull();
  });

  it('housekeeping removes expired OAuth records (SQLite; DynamoDB has TTL attributes for it)', async () => {
    const user = uniqueUser();
    const s = secret(user, { expiresAt: later(10).getTime() });
    await store.oauth.putSecret(s);
    await store.maintain(later(20));
    // Past expiry both hide it; SQLite has deleted the row, which a read with an earlier clock proves.
    expect(await store.oauth.getSecret(s.hash, later(20))).toBeNull();
    if (kind === 'sqlite') expect(await store.oauth.getSecret(s.hash, NOON)).toBeNull();
    else expect(await store.oauth.getSecret(s.hash, NOON)).not.toBeNull();

    const gone = client();
    await store.oauth.putClient(gone, later(10));
    await store.maintain(later(20));
    if (kind === 'sqlite') expect(await store.oauth.getClient(gone.clientId, NOON)).toBeNull();
    else expect(await store.oauth.getClient(gone.clientId, NOON)).not.toBeNull();
  });
});
