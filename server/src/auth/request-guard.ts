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
  /** Host header values allowed besides loopback names; empty with a non-loopback bind means any. */
  readonly allowedHosts: readonly string[];
  /** True when the server listens on a loopback address only. */
  readonly loopbackOnly: boolean;
}

function hostName(hostHeader: string): string {
  // "[::1]:8080" → "[::1]", "localhost:8080" → "localhost"
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return match?.[1] ?? '';
}

/**
 * DNS-rebinding protection: a page on evil.example that resolves to 127.0.0.1 reaches us with
 * `Host: evil.example`. On a loopback bind only loopback names (and configured hosts) are served.
 */
export function isAllowedHost(hostHeader: string | undefined, policy: OriginPolicy): boolean {
  if (!hostHeader) return false;
  const name = hostName(hostHeader);
  if (name === '') return false;
  if (isLoopbackHost(name)) return true;
  if (policy.allowedHosts.some((allowed) => allowed === name || allowed === hostHeader.toLowerCase())) {
    return true;
  }
  return !policy.loopbackOnly && policy.allowedHosts.length === 0;
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
