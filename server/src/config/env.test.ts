import { describe, expect, it } from 'vitest';
import { loadConfig } from './env.js';

const HASH = 'a'.repeat(64);

describe('loadConfig', () => {
  it('defaults to a loopback, offline, local-store server with a generated key', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.engine).toEqual({ kind: 'offline' });
    expect(config.store.kind).toBe('local');
    expect(config.keys.kind).toBe('generate');
    expect(config.omitAuth).toBe(false);
  });
  it('picks ElevenLabs when a key is set, and parses users and origins', () => {
    const config = loadConfig({
      ELEVENLABS_API_KEY: 'sk_x',
      ELEVENLABS_BASE_URL: 'https://api.eu.residency.elevenlabs.io',
      EARSHOT_API_KEYS: `alice:${HASH}, bob:${HASH.toUpperCase().replace(/A/g, 'b')}`,
      EARSHOT_ALLOWED_ORIGINS: 'https://console.example.com/, https://x.example',
      EARSHOT_STORE: 's3://my-bucket/earshot/data/',
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
    expect(config.store).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'earshot/data' });
  });
  it('lists every problem at once, without echoing secrets', () => {
    expect(() =>
      loadConfig({
        PORT: 'x',
        EARSHOT_API_KEYS: 'alice:nothex',
        EARSHOT_API_KEY: 'short',
        ELEVENLABS_BASE_URL: 'nope',
      }),
    ).toThrow(/PORT[\s\S]*EARSHOT_API_KEY[\s\S]*EARSHOT_API_KEYS|PORT[\s\S]*EARSHOT_API_KEYS/);
  });
  it('refuses a user named twice and path-like user names', () => {
    expect(() => loadConfig({ EARSHOT_API_KEYS: `a:${HASH},a:${HASH}` })).toThrow(/twice/);
    expect(() => loadConfig({ EARSHOT_API_KEYS: `../etc:${HASH}` })).toThrow(/NAME:SHA256HEX/);
  });
  it('allows omitting auth only on loopback', () => {
    expect(loadConfig({ EARSHOT_DANGEROUSLY_OMIT_AUTH: '1' }).omitAuth).toBe(true);
    expect(() => loadConfig({ EARSHOT_DANGEROUSLY_OMIT_AUTH: '1', HOST: '0.0.0.0' })).toThrow(/loopback/);
  });
});
