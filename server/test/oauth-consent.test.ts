import type { OAuthGrantList } from '@earshot/protocol';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { OAuthError } from '@modelcontextprotocol/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousAxeViolations } from './support/browser.js';
import { textOf } from './support/mcp.js';
import {
  expectAuthorizationStarted,
  oauthMcpClient,
  startRedirectCatcher,
  BrowserOAuthProvider,
  type RedirectCatcher,
} from './support/oauth-client.js';
import { pendingRequestId } from './support/oauth.js';
import { connectPlayer, type TestPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * An agent signs in to Earshot with OAuth 2.1 the way a desktop agent does: the official SDK's OAuth client
 * (DCR, PKCE, a loopback redirect URI) hands the authorization URL to Chromium, the user approves on the
 * console's consent page, and the SDK redeems the code. Real server (SQLite store, offline voice), real console.
 */
describe('OAuth sign-in through the console consent page (Chromium, real server)', () => {
  let server: TestServer;
  let browser: Browser;
  let catcher: RedirectCatcher;
  const contexts: BrowserContext[] = [];
  const players: TestPlayer[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice', 'mallory'] });
    browser = await launchChromium();
    catcher = await startRedirectCatcher();
  });
  afterAll(async () => {
    await browser?.close();
    await catcher?.close();
    await server?.close();
  });
  afterEach(async () => {
    await Promise.all(players.splice(0).map((player) => player.close()));
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(errors.splice(0)).toEqual([]);
  });

  /** A fresh browser profile; with `user`, one where that user has opened the console with their key. */
  async function browserOf(user?: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    if (user) {
      await page.goto(`${server.url}/#key=${server.keys[user]}`);
      await page.getByText(`Connected as ${user}`).waitFor();
    }
    return page;
  }

  async function player(user: string): Promise<TestPlayer> {
    const connected = await connectPlayer(server.url, server.keys[user]!, { audio: 'on' });
    players.push(connected);
    return connected;
  }

  /**
   * Starts the SDK's authorization; `open` is where the authorization URL goes (by default Chromium follows it
   * to the consent page). Resolves once the SDK has given up with UnauthorizedError, as an agent does.
   */
  async function startAuthorization(
    clientName: string,
    open: (authorizationUrl: URL) => Promise<void>,
  ): Promise<{ provider: BrowserOAuthProvider; finish: (params: URLSearchParams) => Promise<void> }> {
    const provider = new BrowserOAuthProvider(catcher.url, open, clientName);
    const { client, transport } = oauthMcpClient(server.url, provider);
    await expectAuthorizationStarted(async () => {
      await client.connect(transport);
      await client.callTool({ name: 'list_voices', arguments: {} });
    });
    await provider.opened;
    return { provider, finish: (params) => transport.finishAuth(params) };
  }

  /** Speaks with the provider's tokens on a fresh connection, as the agent does after finishAuth. */
  async function speakWith(provider: BrowserOAuthProvider, text: string): Promise<CallToolResult> {
    const { client, transport } = oauthMcpClient(server.url, provider);
    await client.connect(transport);
    const result = (await client.callTool({ name: 'speak', arguments: { text } })) as CallToolResult;
    await client.close();
    return result;
  }

  async function grantNames(user: string): Promise<string[]> {
    const response = await fetch(`${server.url}/api/v1/oauth/grants`, {
      headers: { authorization: `Bearer ${server.keys[user]}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as OAuthGrantList).grants.map((grant) => grant.clientName);
  }

  /**
   * Clicks `button` on the consent page and resolves with the parameters the agent's loopback listener got. It also
   * waits until the browser has landed there: the listener answers before Chromium commits the navigation, and a
   * page.goto in that window is cut off by it.
   */
  async function decide(page: Page, button: 'Approve' | 'Deny'): Promise<URLSearchParams> {
    const callback = catcher.next();
    await page.getByRole('button', { name: button }).click();
    const params = await callback;
    await page.waitForURL((url) => url.href.startsWith(catcher.url));
    return params;
  }

  it('signs in with the user’s key, approves on a click, and the agent speaks to that user’s players only', async () => {
    const alice = await player('alice');
    const mallory = await player('mallory');
    const page = await browserOf();
    const { provider, finish } = await startAuthorization('Desk Agent', (url) =>
      page.goto(url.href).then(() => undefined),
    );
    // No key saved in this browser: the page asks for one before it shows anything to approve.
    await page.getByLabel('Your Earshot API key').fill(server.keys.alice!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(await page.locator('#consent-client').textContent()).toBe('Desk Agent');
    expect(await page.locator('#consent-redirect').textContent()).toBe(new URL(catcher.url).origin);
    expect(await seriousAxeViolations(page)).toEqual([]);

    const params = await decide(page, 'Approve');
    expect(params.get('state')).toBe(provider.lastState);
    expect(params.get('iss')).toBe(server.url);
    await finish(params);
    expect(provider.tokens()?.access_token).toBeTruthy();

    const text = 'Signed in with OAuth and speaking to Alice.';
    const result = await speakWith(provider, text);
    expect(result.isError, textOf(result)).toBeFalsy();
    await alice.waitFor('speech.start', (message) => message.text === text);
    expect(mallory.received('speech.start')).toEqual([]);
    expect(await grantNames('alice')).toContain('Desk Agent');
    expect(await grantNames('mallory')).not.toContain('Desk Agent');
  });

  it('Deny sends the agent access_denied', async () => {
    const page = await browserOf('alice');
    const { provider, finish } = await startAuthorization('Denied Agent', (url) =>
      page.goto(url.href).then(() => undefined),
    );
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    const params = await decide(page, 'Deny');
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(provider.lastState);
    expect(params.get('code')).toBeNull();
    const refused = await finish(params).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OAuthError);
    expect((refused as OAuthError).code).toBe('access_denied');
    expect(provider.tokens()).toBeUndefined();
    expect(await grantNames('alice')).not.toContain('Denied Agent');
  });

  it('Revoke in the Connect view ends the agent’s access at once: its next call gets 401 invalid_token', async () => {
    const page = await browserOf('alice');
    const { provider, finish } = await startAuthorization('Revoked Agent', async (url) => {
      await page.goto(url.href);
    });
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    await finish(await decide(page, 'Approve'));
    const token = provider.tokens()!.access_token;
    const mcp = () =>
      fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
    expect((await mcp()).status).toBe(200);

    await page.goto(`${server.url}/#/connect`);
    await page.getByRole('button', { name: 'Revoke Revoked Agent' }).click();
    await page.getByRole('button', { name: 'Yes, revoke Revoked Agent' }).click();
    await page.getByText('Revoked Agent can no longer use Earshot.').waitFor();
    expect(await grantNames('alice')).not.toContain('Revoked Agent');

    const refused = await mcp();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    // The SDK's own client cannot carry on either: refreshing is refused too, so it asks the user again.
    let askedAgain = false;
    provider.open = async () => void (askedAgain = true);
    await expect(speakWith(provider, 'Still here?')).rejects.toThrow();
    expect(askedAgain).toBe(true);
  });

  it('a consent link carrying another user’s key approves as the signed-in user, never as the key’s owner', async () => {
    const alice = await player('alice');
    const mallory = await player('mallory');
    const page = await browserOf('alice');
    // The attacker's link: the real consent URL with their own key added.
    const { provider, finish } = await startAuthorization('Forged Link Agent', async (url) => {
      const request = await pendingRequestId(url);
      await page.goto(`${server.url}/#/consent?request=${request}&key=${server.keys.mallory}`);
    });
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(page.url()).not.toContain(server.keys.mallory);
    expect(await page.evaluate(() => localStorage.getItem('earshot.key'))).toBe(server.keys.alice);
    await finish(await decide(page, 'Approve'));

    const text = 'This agent belongs to Alice.';
    await speakWith(provider, text);
    await alice.waitFor('speech.start', (message) => message.text === text);
    expect(mallory.received('speech.start')).toEqual([]);
    expect(await grantNames('mallory')).not.toContain('Forged Link Agent');
  });

  it('the consent page may not be framed', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });
});
