import { isIPv4, isIPv6 } from 'node:net';
import { BEARER_SUBPROTOCOL_PREFIX } from '@earshot/protocol';
import { isLoopbackHost } from '../config/env.js';

/** The key from `Authorization: Bearer <key>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** The key a player offers as the `bearer.<base64url(key)>` WebSocket subprotocol, or undefined. */
export function keyFromSubprotocols(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim());
  const encoded = offered.find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (!encoded) return undefined;
  const value = encoded.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url').toString('utf8');
}

export interface OriginPolicy {
  /** Origins (scheme://host[:port]) allowed besides the server's own. */
  readonly allowedOrigins: readonly string[];
  /**
   * Host names (`name` or `name:port`, lower case) served besides loopback names and IP literals: the host of
   * EARSHOT_PUBLIC_URL, EARSHOT_ALLOWED_HOSTS, and HOST when it is a name. Nothing else is served.
   */
  readonly allowedHosts: readonly string[];
}

function hostName(hostHeader: string): string {
  // "[::1]:8080" → "[::1]", "localhost:8080" → "localhost"
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader);
  return match?.[1] ?? '';
}

/** An IPv4 address or a bracketed IPv6 address, as a Host header names them. */
function isIpLiteral(name: string): boolean {
  if (isIPv4(name)) return true;
  return name.startsWith('[') && name.endsWith(']') && isIPv6(name.slice(1, -1));
}

/**
 * DNS-rebinding protection, failing closed: a page on evil.example whose name is made to resolve to this server
 * reaches us with `Host: evil.example`. Served: loopback names, IP literals (rebinding needs a name the attacker
 * controls, and an address is not one), and the configured names. Any other name is refused, whatever the bind.
 */
export function isAllowedHost(hostHeader: string | undefined, policy: OriginPolicy): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.trim().toLowerCase();
  const name = hostName(host);
  if (name === '') return false;
  if (isLoopbackHost(name) || isIpLiteral(name)) return true;
  return policy.allowedHosts.some((allowed) => allowed === name || allowed === host);
}

/**
 * Cross-site protection for browsers: a request that carries an Origin must come from this server's own
 * origin (same Host) or a configured one. Requests without Origin (agents, curl) are not browsers.
 */
export function isAllowedOrigin(
  origin: string | undefined,
  hostHeader: string | undefined,
  policy: OriginPolicy,
): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (policy.allowedOrigins.includes(parsed.origin)) return true;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  // Same origin: the page was served by us under the Host it is calling.
  return hostHeader !== undefined && parsed.host.toLowerCase() === hostHeader.toLowerCase();
}
