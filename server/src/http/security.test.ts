import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env.js';
import { hostPolicyWarning, originPolicyFor } from './security.js';

const config = (env: Record<string, string>) =>
  loadConfig({ EARSHOT_API_KEY: 'a-test-key-of-enough-length', ...env });

describe('originPolicyFor', () => {
  it("serves EARSHOT_PUBLIC_URL's host, EARSHOT_ALLOWED_HOSTS and a HOST that is a name", () => {
    const policy = originPolicyFor(
      config({
        HOST: 'Earshot.LAN',
        EARSHOT_PUBLIC_URL: 'https://Voice.Example.com:8443/',
        EARSHOT_ALLOWED_HOSTS: 'a.example,B.example',
      }),
    );
    expect([...policy.allowedHosts].sort()).toEqual(
      ['a.example', 'b.example', 'earshot.lan', 'voice.example.com:8443'].sort(),
    );
  });
  it('adds no name for an address or a loopback bind', () => {
    expect(originPolicyFor(config({ HOST: '0.0.0.0' })).allowedHosts).toEqual([]);
    expect(originPolicyFor(config({ HOST: '::' })).allowedHosts).toEqual([]);
    expect(originPolicyFor(config({ HOST: 'localhost' })).allowedHosts).toEqual([]);
  });
});

describe('hostPolicyWarning', () => {
  const warningFor = (env: Record<string, string>) => {
    const c = config(env);
    return hostPolicyWarning(c, originPolicyFor(c));
  };
  it('warns on a non-loopback bind that serves no name, saying what to set', () => {
    expect(warningFor({ HOST: '0.0.0.0' })).toMatch(/EARSHOT_PUBLIC_URL.*EARSHOT_ALLOWED_HOSTS/);
    expect(warningFor({ HOST: '::' })).toMatch(/EARSHOT_PUBLIC_URL/);
  });
  it('stays quiet on loopback, or when a name is configured', () => {
    expect(warningFor({ HOST: '127.0.0.1' })).toBeUndefined();
    expect(warningFor({ HOST: '0.0.0.0', EARSHOT_PUBLIC_URL: 'https://voice.example.com' })).toBeUndefined();
    expect(warningFor({ HOST: '0.0.0.0', EARSHOT_ALLOWED_HOSTS: 'voice.example.com' })).toBeUndefined();
  });
});
