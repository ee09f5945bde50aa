import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env.js';
import { clientKey, httpServerTimeouts } from './connection-guard.js';

describe('clientKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%j counts as %j', (address, key) => expect(clientKey(address)).toBe(key));

  it('counts the addresses of one /64 as one client and other /64s apart', () => {
    expect(clientKey('2001:db8:aa:bb::1')).toBe(clientKey('2001:db8:aa:bb:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:aa:bb::1')).not.toBe(clientKey('2001:db8:aa:bc::1'));
  });
});

describe('httpServerTimeouts', () => {
  const limits = {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 72_000,
    maxConnections: 4096,
    maxConnectionsPerClient: 128,
  };
  it('passes the deadlines through and checks them at most once a second', () => {
    expect(httpServerTimeouts(limits)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 72_000,
      connectionsCheckingInterval: 1000,
    });
  });
  it('checks short deadlines at a quarter of the shortest, so they fire close to on time', () => {
    const short = httpServerTimeouts({ ...limits, headersTimeoutMs: 200, requestTimeoutMs: 400 });
    expect(short.connectionsCheckingInterval).toBe(50);
  });
});

describe('timeout settings', () => {
  it('refuses a request deadline shorter than the head deadline', () => {
    expect(() =>
      loadConfig({ EARSHOT_HEADERS_TIMEOUT_MS: '5000', EARSHOT_REQUEST_TIMEOUT_MS: '1000' }),
    ).toThrow(/EARSHOT_REQUEST_TIMEOUT_MS must be at least EARSHOT_HEADERS_TIMEOUT_MS/);
  });
});
