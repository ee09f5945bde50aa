import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
} from '@modelcontextprotocol/client';
import { MODERN_REVISION } from './mcp.js';
import { MemoryOAuthProvider } from './oauth.js';

/**
 * A loopback redirect URI as a desktop agent listens on one (RFC 8252): it answers the browser and hands each
 * callback's query to the test.
 */
export interface RedirectCatcher {
  readonly url: string;
  /** The query of the next callback the browser brings. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startRedirectCatcher(): Promise<RedirectCatcher> {
  const waiting: ((params: URLSearchParams) => void)[] = [];
  const arrived: URLSearchParams[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this tab.');
    const take = waiting.shift();
    if (take) take(url.searchParams);
    else arrived.push(url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    next: () =>
      arrived.length
        ? Promise.resolve(arrived.shift()!)
        : new Promise<URLSearchParams>((resolve) => waiting.push(resolve)),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The in-memory provider of support/oauth.ts, as an agent with a browser runs it: the authorization URL goes to
 * `open` (the test's Chromium), each authorization gets a fresh state, and the client names itself.
 */
export class BrowserOAuthProvider extends MemoryOAuthProvider {
  /** The state of the last authorization started (the SDK leaves checking it to the client). */
  lastState = '';

  constructor(
    redirectUrl: string,
    /** Where the authorization URL goes (a test swaps it to see whether the SDK asks the user again). */
    public open: (authorizationUrl: URL) => Promise<void>,
    readonly clientName: string,
  ) {
    super(redirectUrl);
  }

  override get clientMetadata(): OAuthClientMetadata {
    return { ...super.clientMetadata, client_name: this.clientName };
  }
  override state(): string {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }
  /** What an agent does when the server says its tokens are no good (revoked): forget them, ask again. */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = '';
    if (scope === 'all' || scope === 'discovery') this.discovery = undefined;
  }
  /** The browser's trip to the authorization page, started by the last redirectToAuthorization. */
  opened: Promise<void> = Promise.resolve();
  override redirectToAuthorization(authorizationUrl: URL): void {
    super.redirectToAuthorization(authorizationUrl);
    this.opened = this.open(authorizationUrl);
  }
}

/** A v2 SDK client (revision 2026-07-28) on `/mcp` that authenticates with the provider. */
export function oauthMcpClient(
  baseUrl: string,
  provider: MemoryOAuthProvider,
): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { authProvider: provider });
  const client = new Client(
    { name: 'earshot-oauth-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN_REVISION } } },
  );
  return { client, transport };
}

/**
 * Runs `call` and returns the UnauthorizedError the SDK throws once it has sent the user to the authorization
 * page; fails if the call went through instead.
 */
export async function expectAuthorizationStarted(call: () => Promise<unknown>): Promise<UnauthorizedError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof UnauthorizedError) return error;
    throw error;
  }
  throw new Error('the call went through without authorization');
}
