import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Keys Earshot generates: a prefix that makes them recognisable in a leak scan, then 192 random bits. */
export function generateApiKey(): string {
  return `esk_${randomBytes(24).toString('base64url')}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export interface KeyEntry {
  readonly user: string;
  readonly sha256: string;
}

/**
 * Holds only SHA-256 hashes of API keys and maps a presented key to its user. Every lookup compares
 * against every entry in constant time, so timing reveals neither which entry matched nor how much of it.
 */
export class KeyRing {
  private readonly entries: { user: string; digest: Buffer }[];

  constructor(entries: readonly KeyEntry[]) {
    this.entries = entries.map((entry) => ({ user: entry.user, digest: Buffer.from(entry.sha256, 'hex') }));
  }

  get users(): string[] {
    return this.entries.map((entry) => entry.user);
  }

  authenticate(presentedKey: string | undefined): string | null {
    if (!presentedKey) return null;
    const digest = createHash('sha256').update(presentedKey, 'utf8').digest();
    let match: string | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && match === null) match = entry.user;
    }
    return match;
  }
}
