import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.js';

const HASH = 'a'.repeat(64);

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

/** No run of 8 characters of `secret` appears in `text` (catches prefixes and suffixes, not just the whole). */
function expectNoPartOf(text: string, secret: string): void {
  for (let i = 0; i + 8 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 8));
}

describe('loadConfig', () => {
  it('defaults to a loopback, offline, local-store server with a generated key', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.engine).toEqual({ kind: 'offline' });
    expect(config.store).toEqual({ kind: 'sqlite', dataDir: config.dataDir });
    expect([config.dailyCharLimit, config.audioRetentionDays, config.audioQuotaMb]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(config.keys.kind).toBe('generate');
    expect(config.omitAuth).toBe(false);
    expect(config.sseKeepaliveMs).toBe(20_000);
  });

  it('takes the MCP stream keepalive interval from EARSHOT_SSE_KEEPALIVE_MS and refuses nonsense', () => {
    expect(loadConfig({ EARSHOT_SSE_KEEPALIVE_MS: '250' }).sseKeepaliveMs).toBe(250);
    expect(errorOf({ EARSHOT_SSE_KEEPALIVE_MS: '0' })).toContain('EARSHOT_SSE_KEEPALIVE_MS');
  });
  it('picks ElevenLabs when a key is set, and parses users and origins', () => {
    const config = loadConfig({
      ELEVENLABS_API_KEY: 'sk_x',
      ELEVENLABS_BASE_URL: 'https://api.eu.residency.elevenlabs.io',
      EARSHOT_API_KEYS: `alice:${HASH}, bob:${HASH.toUpperCase().replace(/A/g, 'b')}`,
      EARSHOT_ALLOWED_ORIGINS: 'https://console.example.com/, https://x.example',
      EARSHOT_STORE: 'dynamodb://earshot-data',
      EARSHOT_AUDIO: 's3://my-bucket/earshot/data/',
      EARSHOT_AUDIO_RETENTION_DAYS: '90',
      EARSHOT_AUDIO_QUOTA_MB: '500',
    });
    expect(config.engine).toEqual({
      kind: 'elevenlabs',
      apiKey: 'sk_x',
      baseUrl: 'https://api.eu.residency.elevenlabs.io',
    });
    expect(config.keys).toEqual({
      kind: 'hashes',
      entries: [
        { user: 'alice', sha256: HASH },
        { user: 'bob', sha256: 'b'.repeat(64) },
      ],
    });
    expect(config.allowedOrigins).toEqual(['https://console.example.com', 'https://x.example']);
    expect(config.store).toEqual({
      kind: 'dynamodb',
      table: 'earshot-data',
      audio: { bucket: 'my-bucket', prefix: 'earshot/data' },
    });
    expect([config.audioRetentionDays, config.audioQuotaMb]).toEqual([90, 500]);
  });
  it('says what replaced EARSHOT_STORE=s3://, and what the DynamoDB store needs', () => {
    expect(errorOf({ EARSHOT_STORE: 's3://my-bucket/data' })).toMatch(
      /EARSHOT_STORE=s3:\/\/… \(JSON files in S3\) is gone: use EARSHOT_STORE=dynamodb:\/\/TABLE with EARSHOT_AUDIO=s3:\/\/BUCKET\/PREFIX/,
    );
    expect(errorOf({ EARSHOT_STORE: 'dynamodb://earshot' })).toMatch(/needs EARSHOT_AUDIO=s3:\/\//);
    expect(errorOf({ EARSHOT_STORE: 'mysql://x' })).toMatch(/EARSHOT_STORE: must be "local"/);
    expect(errorOf({ EARSHOT_AUDIO_RETENTION_DAYS: '0', EARSHOT_AUDIO_QUOTA_MB: 'lots' })).toMatch(
      /EARSHOT_AUDIO_RETENTION_DAYS[\s\S]*EARSHOT_AUDIO_QUOTA_MB/,
    );
  });
  it('reads EARSHOT_INPUT_DIRS as absolute folders split by "," or the path delimiter; off by default', () => {
    expect(loadConfig({}).inputDirs).toEqual([]);
    expect(loadConfig({ EARSHOT_INPUT_DIRS: ' /srv/a , /srv/b:/srv/c ' }).inputDirs).toEqual([
      '/srv/a',
      '/srv/b',
      '/srv/c',
    ]);
    expect(loadConfig({ EARSHOT_INPUT_DIRS: '/srv/a/../b/' }).inputDirs).toEqual(['/srv/b']);
    expect(errorOf({ EARSHOT_INPUT_DIRS: '/srv/a,recordings' })).toContain(
      'EARSHOT_INPUT_DIRS entry 2: must hold absolute folder paths only',
    );
  });

  it('lists every problem at once', () => {
    expect(() =>
      loadConfig({
        PORT: 'x',
        EARSHOT_API_KEYS: 'alice:nothex',
        EARSHOT_API_KEY: 'short',
        ELEVENLABS_BASE_URL: 'nope',
      }),
    ).toThrow(/PORT[\s\S]*EARSHOT_API_KEY[\s\S]*EARSHOT_API_KEYS|PORT[\s\S]*EARSHOT_API_KEYS/);
  });
  it('says which EARSHOT_API_KEYS entry is malformed and why, without echoing any part of it', () => {
    const rawKey = 'esk_pastedByMistake0123456789abcdefXYZ';
    const message = errorOf({
      EARSHOT_API_KEYS: `alice:${HASH}, ${rawKey}, bob:${rawKey}, x:y:z, b@d:${HASH}`,
    });
    expect(message).toMatch(
      /EARSHOT_API_KEYS entry 2: has no ":" \(is it a raw key\? Raw keys go in EARSHOT_API_KEY/,
    );
    expect(message).toMatch(/EARSHOT_API_KEYS entry 3: needs 64 hex digits after ":"/);
    expect(message).toMatch(/EARSHOT_API_KEYS entry 4: has more than one ":"/);
    expect(message).toMatch(/EARSHOT_API_KEYS entry 5: has a bad NAME/);
    expect(message).not.toMatch(/entry 1\b/);
    expectNoPartOf(message, rawKey);
    expectNoPartOf(message, HASH);
  });
  it('never echoes a secret value in any configuration error', () => {
    const secrets = {
      ELEVENLABS_API_KEY: 'sk_elevenSecret0123456789abcdef',
      EARSHOT_API_KEY: 'shortSecret9',
    };
    const message = errorOf({
      ...secrets,
      // Keys pasted into the wrong variables:
      ELEVENLABS_BASE_URL: secrets.ELEVENLABS_API_KEY,
      EARSHOT_PUBLIC_URL: 'esk_inThePublicUrl0123456789',
      EARSHOT_ALLOWED_ORIGINS: 'esk_inTheOrigins0123456789',
      EARSHOT_STORE: 'esk_inTheStore0123456789',
      EARSHOT_LOG_LEVEL: 'esk_inTheLogLevel0123456789',
      PORT: 'esk_inThePort0123456789',
      EARSHOT_API_KEYS: 'sk_elevenSecret0123456789abcdef',
    });
    expect(message.split('\n').length).toBeGreaterThanOrEqual(9);
    for (const secret of [
      ...Object.values(secrets),
      'esk_inThePublicUrl0123456789',
      'esk_inTheOrigins0123456789',
      'esk_inTheStore0123456789',
      'esk_inTheLogLevel0123456789',
      'esk_inThePort0123456789',
    ])
      expectNoPartOf(message, secret);
  });
  it('accepts IP addresses and host names for HOST, and refuses what cannot be one', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '[::1]' }).host).toBe('::1');
    expect(loadConfig({ HOST: 'localhost' }).host).toBe('localhost');
    expect(loadConfig({ HOST: 'box-1.internal' }).host).toBe('box-1.internal');
    for (const host of ['not a host', '999.1.1.1', '1.2.3', 'http://127.0.0.1', '127.0.0.1:8080', ''])
      expect(() => loadConfig({ HOST: host }), host).toThrow(/HOST: must be an IP address/);
  });
  it('refuses a user named twice and path-like user names', () => {
    expect(() => loadConfig({ EARSHOT_API_KEYS: `a:${HASH},a:${HASH}` })).toThrow(/twice/);
    expect(() => loadConfig({ EARSHOT_API_KEYS: `../etc:${HASH}` })).toThrow(/bad NAME/);
  });
  it('allows omitting auth only on loopback', () => {
    expect(loadConfig({ EARSHOT_DANGEROUSLY_OMIT_AUTH: '1' }).omitAuth).toBe(true);
    expect(() => loadConfig({ EARSHOT_DANGEROUSLY_OMIT_AUTH: '1', HOST: '0.0.0.0' })).toThrow(/loopback/);
  });
});
