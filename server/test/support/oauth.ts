/**
 * OAuth helpers for tests: an in-memory `OAuthClientProvider` for the official MCP client (as a desktop client
 * would implement it), the consent step done through the console API with a user's key (the page itself is the
 * console's), and raw calls to the endpoints for the refusal tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import type {
  OAuthDiscoveryState,
  OAuthClientMetadata,
  OAuthClientProvider,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';

export const LOOPBACK_REDIRECT = 'http://127.0.0.1:33418/callback';

export class MemoryOAuthProvider implements OAuthClientProvider {
  client: StoredOAuthClientInformation | undefined;
  saved: StoredOAuthTokens | undefined;
  verifier = '';
  /** Set by the SDK when the user must authorize: the URL a browser would open. */
  authorizationUrl: URL | undefined;

  constructor(
    readonly redirectUrl: string = LOOPBACK_REDIRECT,
    readonly clientMetadataUrl?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test Agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    return 'st-123';
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.client = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  discovery: OAuthDiscoveryState | undefined;

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }
}

/** Follows the authorize URL (no browser) to the console's consent link and returns the pending request id. */
export async function pendingRequestId(authorizationUrl: URL | string): Promise<string> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = response.headers.get('location') ?? '';
  const id = /#\/consent\?request=([A-Za-z0-9_-]+)$/.exec(location)?.[1];
  if (response.status !== 302 || !id)
    throw new Error(`authorize answered ${response.status} ${location} ${await response.text()}`);
  return id;
}

export async function consoleCall(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const response = await fetch(`${baseUrl}/api/v1/oauth${path}`, {
    method,
    headers: { authorization: `Bearer ${key}` },
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** What the consent page does when the user clicks Allow: returns the redirect with the code. */
export async function approve(baseUrl: string, key: string, requestId: string): Promise<URL> {
  const { status, body } = await consoleCall(baseUrl, key, 'POST', `/requests/${requestId}/approve`);
  if (status !== 200) throw new Error(`approve answered ${status} ${JSON.stringify(body)}`);
  return new URL(String(body?.redirect));
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function registerClient(
  baseUrl: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function tokenRequest(
  baseUrl: string,
  form: Record<string, string>,
  path = '/oauth/token',
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | null }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

/** Registers a client and runs authorize → approve by `key`; returns what the token request needs. */
export async function codeFor(
  baseUrl: string,
  key: string,
  options: { redirectUri?: string; state?: string } = {},
): Promise<{ clientId: string; code: string; verifier: string; redirectUri: string }> {
  const redirectUri = options.redirectUri ?? LOOPBACK_REDIRECT;
  const registered = await registerClient(baseUrl, { client_name: 'Raw', redirect_uris: [redirectUri] });
  const clientId = String(registered.body.client_id);
  const { verifier, challenge } = pkcePair();
  const url = new URL(`${baseUrl}/oauth/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: options.state ?? 's1',
  }))
    url.searchParams.set(name, value);
  const redirect = await approve(baseUrl, key, await pendingRequestId(url));
  return { clientId, code: redirect.searchParams.get('code') ?? '', verifier, redirectUri };
}

/** Redeems a code from codeFor at the token endpoint, as its client does. */
export function redeem(
  baseUrl: string,
  granted: { clientId: string; code: string; verifier: string; redirectUri: string },
): ReturnType<typeof tokenRequest> {
  return tokenRequest(baseUrl, {
    grant_type: 'authorization_code',
    code: granted.code,
    code_verifier: granted.verifier,
    redirect_uri: granted.redirectUri,
    client_id: granted.clientId,
  });
}
