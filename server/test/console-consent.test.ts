import type { OAuthGrantList } from '@earshot/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, seriousAxeViolations } from './support/browser.js';
import { startRedirectCatcher, type RedirectCatcher } from './support/oauth-client.js';
import { approve, pendingRequestId, pkcePair, registerClient } from './support/oauth.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The consent page's states and the Connect view's Connected apps in Chromium against a real Earshot: what the
 * page shows, that it decides only on a click and as whom, and that a link never signs it in. Requests are
 * made with raw registration and authorize calls; the SDK's whole flow is oauth-consent.test.ts.
 */
describe('the OAuth consent page and Connected apps in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let catcher: RedirectCatcher;
  let context: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice', 'mallory', 'carol'] });
    browser = await launchChromium();
    catcher = await startRedirectCatcher();
  });
  afterAll(async () => {
    await browser?.close();
    await catcher?.close();
    await server?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    expect(errors.splice(0)).toEqual([]);
  });

  /** A fresh browser profile; with `user`, one that keeps that user's key (the console was used before). */
  async function freshPage(user?: string): Promise<Page> {
    context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    if (user) {
      await page.goto(`${server.url}/favicon.svg`);
      await page.evaluate((key) => localStorage.setItem('earshot.key', key), server.keys[user]!);
    }
    return page;
  }

  /** A client registers and starts an authorization, as an agent does; returns the pending request id. */
  async function newRequest(clientName: string, clientUri?: string): Promise<string> {
    const registered = await registerClient(server.url, {
      client_name: clientName,
      redirect_uris: [catcher.url],
      ...(clientUri ? { client_uri: clientUri } : {}),
    });
    const url = new URL(`${server.url}/oauth/authorize`);
    const params = {
      response_type: 'code',
      client_id: String(registered.body.client_id),
      redirect_uri: catcher.url,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      state: `state-${clientName}`,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return pendingRequestId(url);
  }

  async function grantNames(user: string): Promise<string[]> {
    const response = await fetch(`${server.url}/api/v1/oauth/grants`, {
      headers: { authorization: `Bearer ${server.keys[user]}` },
    });
    return ((await response.json()) as OAuthGrantList).grants.map((grant) => grant.clientName);
  }

  const consentUrl = (request: string) => `${server.url}/#/consent?request=${request}`;
  const savedKey = () => page.evaluate(() => localStorage.getItem('earshot.key'));
  const backAtClient = () => page.waitForURL((url) => url.href.startsWith(catcher.url));

  it('shows who approves which client sending where, decides only on a click, then follows the redirect', async () => {
    await freshPage('alice');
    const request = await newRequest('Claude', 'https://claude.ai');
    await page.goto(consentUrl(request));
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(await page.locator('#consent-client').textContent()).toBe('Claude');
    expect(await page.locator('#consent-redirect').textContent()).toBe(new URL(catcher.url).origin);
    expect(await page.locator('#consent-client-uri').textContent()).toBe('https://claude.ai');
    expect(await page.locator('#consent-account').textContent()).toContain(
      `key …${server.keys.alice!.slice(-4)}`,
    );
    expect(await page.locator('#consent-scope').textContent()).toContain('speak to your players');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'consent');
    // Nothing is decided until the user clicks.
    expect(await grantNames('alice')).not.toContain('Claude');
    await page.getByRole('button', { name: 'Approve' }).click();
    await backAtClient();
    const back = new URL(page.url()).searchParams;
    expect(back.get('code')).toBeTruthy();
    expect(back.get('state')).toBe('state-Claude');
    expect(await grantNames('alice')).toContain('Claude');
  });

  it('Deny sends the browser back with the refusal and grants nothing', async () => {
    await freshPage('alice');
    const request = await newRequest('Denied App');
    await page.goto(consentUrl(request));
    await page.getByRole('button', { name: 'Deny' }).click();
    await backAtClient();
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    expect(await grantNames('alice')).not.toContain('Denied App');
  });

  it('a key in a consent link is never taken: the saved key stays, and it leaves the address bar', async () => {
    await freshPage('alice');
    const request = await newRequest('Linked App');
    await page.goto(`${consentUrl(request)}&key=${server.keys.mallory}`);
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(page.url()).toBe(consentUrl(request));
    expect(await savedKey()).toBe(server.keys.alice);
    await page.getByRole('button', { name: 'Approve' }).click();
    await backAtClient();
    expect(await grantNames('alice')).toContain('Linked App');
    expect(await grantNames('mallory')).not.toContain('Linked App');
  });

  it('with no saved key, a key in a consent link is not used either: the page asks for the user’s own', async () => {
    await freshPage();
    const request = await newRequest('Fresh Browser App');
    await page.goto(`${consentUrl(request)}&key=${server.keys.mallory}`);
    await page.getByLabel('Your Earshot API key').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(page.url()).toBe(consentUrl(request));
    expect(await savedKey()).toBeNull();
    await page.getByLabel('Your Earshot API key').fill('esk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That key was not accepted.').waitFor();
    await page.getByLabel('Your Earshot API key').fill(server.keys.alice!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(await savedKey()).toBe(server.keys.alice);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a key planted earlier by a #key= link shows whose it is, and another key can approve instead', async () => {
    await freshPage();
    await page.goto(`${server.url}/#key=${server.keys.mallory}`);
    await page.getByText('Connected as mallory').waitFor();
    const request = await newRequest('Planted Key App');
    await page.goto(consentUrl(request));
    await page.locator('#consent-user', { hasText: 'mallory' }).waitFor();
    await page.getByRole('button', { name: 'Use another key' }).click();
    await page.getByLabel('Your Earshot API key').fill(server.keys.alice!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await backAtClient();
    expect(await grantNames('alice')).toContain('Planted Key App');
    expect(await grantNames('mallory')).not.toContain('Planted Key App');
  });

  it('a console already open that is sent to a consent link with a key loads the consent page without it', async () => {
    await freshPage();
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    const request = await newRequest('Same Tab App');
    // A same-document navigation: only the fragment changes, so the console itself must hand over.
    await page.evaluate(
      (hash) => (location.hash = hash),
      `#/consent?request=${request}&key=${server.keys.mallory}`,
    );
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(page.url()).toBe(consentUrl(request));
    expect(await savedKey()).toBe(server.keys.alice);
  });

  it('an unknown, answered or malformed request says so, with nothing to click', async () => {
    await freshPage('alice');
    const answered = await newRequest('Answered App');
    await approve(server.url, server.keys.alice!, answered);
    for (const hash of [
      `#/consent?request=${answered}`,
      '#/consent?request=no-such-request',
      '#/consent',
      '#/consent?request=../grants',
    ]) {
      await page.goto('about:blank');
      await page.goto(`${server.url}/${hash}`);
      await page.locator('#consent-error').waitFor();
      expect(await page.locator('#consent-error').textContent(), hash).toMatch(
        /expired, was already answered, or does not exist|names no authorization request/,
      );
      expect(await page.getByRole('button').count(), hash).toBe(0);
    }
  });

  it('Connected apps: the hosted-client URL, the user’s grants with Revoke (confirmed), and the empty state', async () => {
    await approve(server.url, server.keys.carol!, await newRequest('Carol’s Claude'));
    await approve(server.url, server.keys.mallory!, await newRequest('Not Carol’s'));
    await freshPage('carol');
    await page.goto(`${server.url}/#/connect`);
    expect(await page.locator('#connect-mcp-url').textContent()).toBe(`${server.url}/mcp`);
    const rows = page.locator('#grants-list > li');
    await rows.first().waitFor();
    expect(await rows.allTextContents()).toEqual([expect.stringContaining('Carol’s Claude')]);
    expect(await rows.first().textContent()).toContain('last used never');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Revoke Carol’s Claude' }).click();
    // Asked once more; Cancel keeps it.
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await grantNames('carol')).toEqual(['Carol’s Claude']);
    await page.getByRole('button', { name: 'Revoke Carol’s Claude' }).click();
    await page.getByRole('button', { name: 'Yes, revoke Carol’s Claude' }).click();
    await page.getByText('Carol’s Claude can no longer use Earshot.').waitFor();
    await page.locator('#grants-empty').waitFor();
    expect(await rows.count()).toBe(0);
    expect(await grantNames('carol')).toEqual([]);
    expect(await grantNames('mallory')).toContain('Not Carol’s');
  });
});
