import { createHash, randomBytes } from 'node:crypto';

/**
 * Keys shaped like the ones Earshot generates (server/src/auth/keys.ts: `esk_` + 192 random bits,
 * base64url), so a redaction keyed on that shape would apply to them. Made here rather than imported:
 * importing the server package would load all of it into every test that only needs a key.
 */
export function generateApiKey(): string {
  return `esk_${randomBytes(24).toString('base64url')}`;
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * The users of a chaos run. Fuzzed traffic goes to alice, bob and mallory (mallory also gets the
 * settings that starve her: a zero daily limit, saveAudio off), walter's key is used by player sessions,
 * and carol is the real user whose speech must keep working: she is never fuzzed.
 */
export const FUZZ_USERS = ['alice', 'bob', 'mallory'] as const;
export const PLAYER_USER = 'walter';
export const REAL_USER = 'carol';
export type UserName = (typeof FUZZ_USERS)[number] | typeof PLAYER_USER | typeof REAL_USER;

export interface Keys {
  /** Raw keys by user; the server only ever sees their SHA-256 (EARSHOT_API_KEYS), as deployments do. */
  readonly byUser: Readonly<Record<UserName, string>>;
  /** A key for the ElevenLabs stand-in, which Earshot must never echo anywhere. */
  readonly elevenLabs: string;
  /** The EARSHOT_API_KEYS value. */
  readonly apiKeysEnv: string;
}

export function makeKeys(): Keys {
  const users: UserName[] = [...FUZZ_USERS, PLAYER_USER, REAL_USER];
  const byUser = Object.fromEntries(users.map((user) => [user, generateApiKey()])) as Record<
    UserName,
    string
  >;
  return {
    byUser,
    // Shaped like a real ElevenLabs key (sk_ + 48 hex) so a redaction keyed on the shape would apply.
    elevenLabs: `sk_${randomBytes(24).toString('hex')}`,
    apiKeysEnv: users.map((user) => `${user}:${sha256Hex(byUser[user])}`).join(','),
  };
}

/**
 * Finds configured secrets in anything the server emits. Each raw key is looked for as sent, in the
 * base64url form players put in the subprotocol, and as a 16-character prefix, since a truncated echo
 * ("esk_AbCdEf…") leaks enough to matter.
 */
export class KeyScanner {
  /** Each secret's spellings, most specific first; a match reports the secret once. */
  private readonly secrets: { label: string; spellings: string[] }[] = [];

  constructor(keys: Keys) {
    for (const [user, key] of Object.entries(keys.byUser)) {
      this.add(`earshot key of ${user}`, key, Buffer.from(key).toString('base64url'));
    }
    this.add('ElevenLabs key', keys.elevenLabs);
  }

  /** A secret (and other spellings of it); long ones are also looked for by their first 16 characters. */
  add(label: string, secret: string, ...alternatives: string[]): void {
    const spellings = [secret, ...alternatives];
    if (secret.length > 24) spellings.push(secret.slice(0, 16));
    this.secrets.push({ label, spellings });
  }

  /** Labels of the secrets found in `output` (latin1 keeps binary bodies byte-for-byte comparable). */
  scan(output: string | Buffer): string[] {
    const text = typeof output === 'string' ? output : output.toString('latin1');
    return this.secrets
      .filter((secret) => secret.spellings.some((spelling) => text.includes(spelling)))
      .map((secret) => secret.label);
  }

  /** The text with every secret replaced by its label, for reports. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets)
      for (const spelling of secret.spellings) out = out.split(spelling).join(`<${secret.label}>`);
    return out;
  }
}
