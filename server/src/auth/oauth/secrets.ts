/** Codes and tokens: random, prefixed so a leak scanner recognises them, stored only as SHA-256 hashes. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ACCESS_TOKEN_PREFIX = 'eso_at_';
export const REFRESH_TOKEN_PREFIX = 'eso_rt_';
export const CODE_PREFIX = 'eso_ac_';
/** Longest token or code accepted from a client: ours are 50 characters; anything far longer is not ours. */
export const MAX_SECRET_LENGTH = 200;

/** 256 random bits behind the prefix. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** An opaque id (grants, pending requests, registered clients). */
export function newId(prefix = ''): string {
  return `${prefix}${randomBytes(18).toString('base64url')}`;
}

export function hashSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** RFC 7636 verifier: 43–128 characters of [A-Z a-z 0-9 - . _ ~]; the challenge is its S256 hash. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/** True when BASE64URL(SHA256(verifier)) equals the challenge given at authorization (constant time). */
export function verifyPkce(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier) || !S256_CHALLENGE.test(challenge)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  return timingSafeEqual(computed, Buffer.from(challenge));
}
