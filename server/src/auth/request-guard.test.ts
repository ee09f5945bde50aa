import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  isAllowedHost,
  isAllowedOrigin,
  keyFromSubprotocols,
  type OriginPolicy,
} from './request-guard.js';

const loopback: OriginPolicy = { allowedOrigins: [], allowedHosts: [], loopbackOnly: true };
const deployed: OriginPolicy = {
  allowedOrigins: ['https://console.example.com'],
  allowedHosts: ['api.example.com'],
  loopbackOnly: false,
};
const open: OriginPolicy = { allowedOrigins: [], allowedHosts: [], loopbackOnly: false };

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
  it.each(['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.2'])(
    'loopback serves %s',
    (host) => expect(isAllowedHost(host, loopback)).toBe(true),
  );
  it.each([
    'evil.example:8080',
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost.evil.example:8080',
    '',
    'a b',
  ])('loopback refuses %j', (host) => expect(isAllowedHost(host, loopback)).toBe(false));
  it('refuses a missing Host', () => expect(isAllowedHost(undefined, loopback)).toBe(false));
  it('serves configured hosts and refuses others when some are configured', () => {
    expect(isAllowedHost('api.example.com', deployed)).toBe(true);
    expect(isAllowedHost('API.EXAMPLE.COM:443', deployed)).toBe(true);
    expect(isAllowedHost('other.example.com', deployed)).toBe(false);
  });
  it('serves any Host on a non-loopback bind with none configured (behind a proxy)', () => {
    expect(isAllowedHost('whatever.example', open)).toBe(true);
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
