import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  isAllowedHost,
  isAllowedOrigin,
  keyFromSubprotocols,
  type OriginPolicy,
} from './request-guard.js';

const loopback: OriginPolicy = { allowedOrigins: [], allowedHosts: [] };
const deployed: OriginPolicy = {
  allowedOrigins: ['https://console.example.com'],
  allowedHosts: ['api.example.com', 'alt.example.com:8443'],
};

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    ['abc', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, expected) => expect(bearerToken(header)).toBe(expected));
});

describe('keyFromSubprotocols', () => {
  const encoded = Buffer.from('esk_secret-key').toString('base64url');
  it('reads the key from bearer.<base64url>', () => {
    expect(keyFromSubprotocols(`earshot.v1, bearer.${encoded}`)).toBe('esk_secret-key');
    expect(keyFromSubprotocols([`earshot.v1`, `bearer.${encoded}`])).toBe('esk_secret-key');
  });
  it('ignores missing, empty and non-base64url values', () => {
    expect(keyFromSubprotocols('earshot.v1')).toBeUndefined();
    expect(keyFromSubprotocols('bearer.')).toBeUndefined();
    expect(keyFromSubprotocols('bearer.abc=def')).toBeUndefined();
    expect(keyFromSubprotocols('bearer.a/b')).toBeUndefined();
    expect(keyFromSubprotocols(undefined)).toBeUndefined();
  });
});

describe('isAllowedHost (DNS rebinding)', () => {
  it.each(['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.2', ' localhost '])(
    'serves the loopback name %j',
    (host) => expect(isAllowedHost(host, loopback)).toBe(true),
  );
  it.each([
    '10.0.0.5',
    '10.0.0.5:8080',
    '203.0.113.9:443',
    '[2001:db8::1]',
    '[2001:db8::1]:8080',
    '[::ffff:10.0.0.1]',
  ])('serves the IP literal %j (rebinding needs a name)', (host) =>
    expect(isAllowedHost(host, loopback)).toBe(true),
  );
  it.each([
    'evil.example:8080',
    'evil.example',
    '127.0.0.1.evil.example',
    '127.0.0.1.nip.io',
    'localhost.evil.example:8080',
    'localhost.',
    '10.0.0.5.evil.example',
    '2130706433',
    '0x7f000001',
    '[evil.example]',
    '::1',
    '',
    ' ',
    'a b',
    'evil.example:8080:1',
  ])('refuses %j when no names are configured', (host) => expect(isAllowedHost(host, loopback)).toBe(false));
  it('refuses a missing Host', () => expect(isAllowedHost(undefined, loopback)).toBe(false));
  it('serves configured names, on any port unless the entry names one, and refuses every other name', () => {
    expect(isAllowedHost('api.example.com', deployed)).toBe(true);
    expect(isAllowedHost('API.EXAMPLE.COM:443', deployed)).toBe(true);
    expect(isAllowedHost('alt.example.com:8443', deployed)).toBe(true);
    expect(isAllowedHost('alt.example.com', deployed)).toBe(false);
    expect(isAllowedHost('alt.example.com:9999', deployed)).toBe(false);
    expect(isAllowedHost('other.example.com', deployed)).toBe(false);
    expect(isAllowedHost('api.example.com.evil.example', deployed)).toBe(false);
    expect(isAllowedHost('evil-api.example.com', deployed)).toBe(false);
  });
  it('never serves an unconfigured name, whatever the bind (the open fallback is gone)', () => {
    expect(isAllowedHost('whatever.example', { allowedOrigins: [], allowedHosts: [] })).toBe(false);
  });
});

describe('isAllowedOrigin (cross-site requests)', () => {
  it('lets non-browser clients (no Origin) through', () => {
    expect(isAllowedOrigin(undefined, '127.0.0.1:8080', loopback)).toBe(true);
  });
  it('allows the same origin as the Host', () => {
    expect(isAllowedOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', loopback)).toBe(true);
    expect(isAllowedOrigin('http://localhost:8080', 'localhost:8080', loopback)).toBe(true);
  });
  it('refuses other origins, other ports and odd schemes', () => {
    expect(isAllowedOrigin('https://evil.example', '127.0.0.1:8080', loopback)).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1:9999', '127.0.0.1:8080', loopback)).toBe(false);
    expect(isAllowedOrigin('null', '127.0.0.1:8080', loopback)).toBe(false);
    expect(isAllowedOrigin('file:///etc/passwd', '127.0.0.1:8080', loopback)).toBe(false);
    expect(isAllowedOrigin('chrome-extension://abc', 'abc', loopback)).toBe(false);
  });
  it('allows configured console origins exactly', () => {
    expect(isAllowedOrigin('https://console.example.com', 'api.example.com', deployed)).toBe(true);
    expect(isAllowedOrigin('https://console.example.com.evil.example', 'api.example.com', deployed)).toBe(
      false,
    );
    expect(isAllowedOrigin('http://console.example.com', 'api.example.com', deployed)).toBe(false);
  });
});
