/**
 * Which redirect URIs a client may register and how a requested one matches: the code goes wherever the redirect
 * URI points, so this is what keeps an authorization code from being sent to an attacker.
 */
import { isLoopbackHost } from '../../config/env.js';

export const MAX_URI_LENGTH = 2000;

/** Schemes a browser would run or read locally instead of handing to an app. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:']);

/** null when `uri` may be registered, else why not (for `error_description` or the 400 page). */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_URI_LENGTH) return `a redirect URI is longer than ${MAX_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'a redirect URI is not an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'a redirect URI must not have a fragment';
  const scheme = url.protocol.toLowerCase();
  if (scheme === 'https:') return url.hostname ? null : 'an https redirect URI needs a host';
  if (scheme === 'http:') {
    // RFC 8252 §7.3: plain http only for native apps listening on the loopback interface.
    return isLoopbackRedirectHost(url.hostname)
      ? null
      : 'an http redirect URI must point at the loopback interface (127.0.0.1, [::1] or localhost); use https';
  }
  if (FORBIDDEN_SCHEMES.has(scheme)) return `redirect URIs with the ${scheme} scheme are not allowed`;
  return null; // a private-use scheme (cursor://, vscode://) of a native app
}

/** `hostname` as URL gives it (`[::1]` in brackets): 127.x.x.x, [::1] or localhost. */
function isLoopbackRedirectHost(hostname: string): boolean {
  return isLoopbackHost(hostname);
}

/**
 * True when `requested` is one of `registered`: exact string comparison, except that a loopback http URI may
 * use any port (RFC 8252 §7.3: a native app gets an ephemeral port each time it listens).
 */
export function redirectUriMatches(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const loose = loopbackWithoutPort(requested);
  return loose !== null && registered.some((uri) => loopbackWithoutPort(uri) === loose);
}

function loopbackWithoutPort(uri: string): string | null {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'http:' || !isLoopbackRedirectHost(url.hostname)) return null;
    url.port = '';
    return url.href;
  } catch {
    return null;
  }
}

/** What the consent page shows for where the code goes: the origin, or `scheme:` of a native app. */
export function redirectOrigin(uri: string): string {
  const url = new URL(uri);
  return url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`;
}

/** `uri` with these parameters added to its query (kept: what it already had). */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}
