import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiKey, KeyRing, sha256Hex } from './keys.js';
import { loadOrCreateLocalKey } from './local-key.js';

describe('KeyRing', () => {
  const alice = generateApiKey();
  const bob = generateApiKey();
  const ring = new KeyRing([
    { user: 'alice', sha256: sha256Hex(alice) },
    { user: 'bob', sha256: sha256Hex(bob) },
  ]);

  it('maps each key to its user', () => {
    expect(ring.authenticate(alice)).toBe('alice');
    expect(ring.authenticate(bob)).toBe('bob');
  });
  it('refuses unknown, empty, truncated and hashed keys', () => {
    expect(ring.authenticate('esk_unknown')).toBeNull();
    expect(ring.authenticate('')).toBeNull();
    expect(ring.authenticate(undefined)).toBeNull();
    expect(ring.authenticate(alice.slice(0, -1))).toBeNull();
    expect(ring.authenticate(sha256Hex(alice))).toBeNull();
  });
  it('finds each user of a company by its key, and a digest configured twice keeps its first user', () => {
    const keys = Array.from({ length: 5000 }, generateApiKey);
    const company = new KeyRing([
      ...keys.map((key, i) => ({ user: `u${i}`, sha256: sha256Hex(key) })),
      { user: 'mallory', sha256: sha256Hex(keys[7]!) },
    ]);
    keys.forEach((key, i) => expect(company.authenticate(key)).toBe(`u${i}`));
    expect(company.authenticate(generateApiKey())).toBeNull();
    expect(company.users).toHaveLength(5000);
  });
  it('generates distinct, prefixed, URL-safe keys', () => {
    const keys = new Set(Array.from({ length: 100 }, generateApiKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^esk_[A-Za-z0-9_-]{32}$/);
  });
});

describe('loadOrCreateLocalKey', () => {
  it('creates a private key file once and reads it back afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-key-'));
    const file = join(dir, 'nested', 'api-key');
    const first = await loadOrCreateLocalKey(file);
    expect(first.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.key);
    const second = await loadOrCreateLocalKey(file);
    expect(second).toEqual({ key: first.key, created: false });
    await rm(dir, { recursive: true });
  });
});
