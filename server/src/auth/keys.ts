import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { routeTagOf } from './route-tag.js';

/**
 * A new raw key: a prefix that makes it recognisable in a leak scan, then 192 random bits. With the user's name
 * it carries their route tag (`esk_<tag>.<secret>`, see route-tag.ts) so the AWS proxy sends it where their other
 * credentials go; the local single-user key needs none.
 */
export function generateApiKey(user?: string): string {
  const secret = randomBytes(24).toString('base64url');
  return user === undefined ? `esk_${secret}` : `esk_${routeTagOf(user)}.${secret}`;
}

export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

export interface KeyEntry {
  readonly user: string;
  readonly sha256: string;
}

/**
 * Holds only SHA-256 hashes of API keys and maps a presented key to its user: the presented key is hashed
 * once and its digest looked up, so a check costs the same with one user or ten thousand.
 *
 * Timing: the lookup's string comparison may take longer the more of a stored digest the presented key's
 * digest shares. That leaks digests, never keys: choosing a key whose digest starts a certain way is easy,
 * but knowing a stored digest does not help to find a key that hashes to it (SHA-256 preimage, 192-bit
 * keys). The entry found is still compared in constant time, so the match itself takes one fixed path.
 */
export class KeyRing {
  /** Digest (binary string of the 32 bytes) → user and digest bytes; the first entry wins a duplicate. */
  private readonly byDigest = new Map<string, { readonly user: string; readonly digest: Buffer }>();

  constructor(entries: readonly KeyEntry[]) {
    for (const entry of entries) {
      const digest = Buffer.from(entry.sha256, 'hex');
      const id = digest.toString('latin1');
      if (!this.byDigest.has(id)) this.byDigest.set(id, { user: entry.user, digest });
    }
  }

  get users(): string[] {
    return [...this.byDigest.values()].map((entry) => entry.user);
  }

  authenticate(presentedKey: string | undefined): string | null {
    if (!presentedKey) return null;
    // The one-shot hash: half the cost of a Hash object, on every authenticated request and connection.
    const digest = hash('sha256', presentedKey, 'buffer');
    const entry = this.byDigest.get(digest.toString('latin1'));
    return entry && timingSafeEqual(entry.digest, digest) ? entry.user : null;
  }
}
