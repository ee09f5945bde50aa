import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousAxeViolations } from './support/browser.js';
import { startFakeConsentApi, type FakeConsentApi } from './support/fake-consent-api.js';

/**
 * The consent page and the Connected apps list in Chromium, against the built console and a loopback fake of
 * their `/api/v1/oauth` routes: what the page shows, what it sends as whom, and that a link never signs it in.
 * The real server's side of the same flow is oauth-consent.test.ts.
 */
describe('the OAuth consent page and Connected apps in Chromium (fake API)', () => {
  let api: FakeConsentApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    api = await startFakeConsentApi();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });
  afterEach(async () => {
    await context?.close();
    expect(errors.splice(0)).toEqual([]);
  });

  /** A fresh browser profile; with `key`, one where the console has been used with that key before. */
  async function freshPage(key?: string): Promise<Page> {
    context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    if (key) {
      await page.goto(`${api.url}/favicon.svg`);
      await page.evaluate((saved) => localStorage.setItem('earshot.key', saved), key);
    }
    return page;
  }

  const savedKey = () => page.evaluate(() => localStorage.getItem('earshot.key'));

  it('shows who approves which client sending where, approves only on a click, then follows the redirect', async () => {
    await freshPage(api.keys.alice);
    const id = api.addRequest({ clientName: 'Claude', clientUri: 'https://claude.ai' });
    await page.goto(`${api.url}/#/consent?request=${id}`);
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(await page.locator('#consent-client').textContent()).toBe('Claude');
    expect(await page.locator('#consent-redirect').textContent()).toBe(api.url);
    expect(await page.locator('#consent-account').textContent()).toContain(
      `key …${api.keys.alice!.slice(-4)}`,
    );
    expect(await page.locator('#consent-scope').textContent()).toContain('speak to your players');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Nothing is decided until the user clicks.
    expect(api.decisions).toEqual([]);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${api.url}/callback?code=code-${id}&state=s-${id}`);
    expect(api.decisions).toEqual([{ request: id, decision: 'approve', user: 'alice' }]);
  });

  it('Deny sends the browser back with the refusal', async () => {
    await freshPage(api.keys.alice);
    const id = api.addRequest();
    await page.goto(`${api.url}/#/consent?request=${id}`);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${api.url}/callback?error=access_denied&state=s-${id}`);
    expect(api.decisions).toContainEqual({ request: id, decision: 'deny', user: 'alice' });
  });

  it('a key in a consent link is never taken: the saved key stays, and it leaves the address bar', async () => {
    await freshPage(api.keys.alice);
    const id = api.addRequest();
    await page.goto(`${api.url}/#/consent?request=${id}&key=${api.keys.mallory}`);
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(page.url()).toBe(`${api.url}/#/consent?request=${id}`);
    expect(await savedKey()).toBe(api.keys.alice);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\/callback\?code=/);
    expect(api.decisions.filter((decision) => decision.request === id)).toEqual([
      { request: id, decision: 'approve', user: 'alice' },
    ]);
  });

  it('with no saved key, a key in a consent link is not used either: the page asks for the user’s own', async () => {
    await freshPage();
    const id = api.addRequest();
    await page.goto(`${api.url}/#/consent?request=${id}&key=${api.keys.mallory}`);
    await page.getByLabel('Your Earshot API key').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(page.url()).toBe(`${api.url}/#/consent?request=${id}`);
    expect(await savedKey()).toBeNull();
    await page.getByLabel('Your Earshot API key').fill('esk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That key was not accepted.').waitFor();
    await page.getByLabel('Your Earshot API key').fill(api.keys.alice!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    expect(await savedKey()).toBe(api.keys.alice);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a key planted earlier by a #key= link shows whose it is, and another key can approve instead', async () => {
    await freshPage();
    await page.goto(`${api.url}/#key=${api.keys.mallory}`);
    await page.waitForURL(`${api.url}/`);
    const id = api.addRequest();
    await page.goto(`${api.url}/#/consent?request=${id}`);
    await page.locator('#consent-user', { hasText: 'mallory' }).waitFor();
    expect(api.decisions.filter((decision) => decision.request === id)).toEqual([]);
    await page.getByRole('button', { name: 'Use another key' }).click();
    await page.getByLabel('Your Earshot API key').fill(api.keys.alice!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#consent-user', { hasText: 'alice' }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\/callback\?code=/);
    expect(api.decisions.filter((decision) => decision.request === id)).toEqual([
      { request: id, decision: 'approve', user: 'alice' },
    ]);
  });

  it('an unknown, used or malformed request says so, with nothing to click', async () => {
    await freshPage(api.keys.alice);
    for (const hash of ['#/consent?request=no-such-request', '#/consent', '#/consent?request=../grants']) {
      await page.goto('about:blank');
      await page.goto(`${api.url}/${hash}`);
      await page.locator('#consent-error').waitFor();
      expect(await page.locator('#consent-error').textContent(), hash).toMatch(
        /expired, was already answered, or does not exist|names no authorization request/,
      );
      expect(await page.getByRole('button').count(), hash).toBe(0);
    }
  });

  it('Connected apps: the hosted-client URL, the grants with Revoke (confirmed), and the empty state', async () => {
    const now = new Date().toISOString();
    api.grants.set('g1', {
      id: 'g1',
      clientId: 'c1',
      clientName: 'Claude',
      createdAt: now,
      lastUsedAt: null,
      expiresAt: now,
      user: 'alice',
    });
    api.grants.set('g2', {
      id: 'g2',
      clientId: 'c2',
      clientName: 'Not yours',
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now,
      user: 'mallory',
    });
    await freshPage(api.keys.alice);
    await page.goto(`${api.url}/#/connect`);
    expect(await page.locator('#connect-mcp-url').textContent()).toBe(`${api.url}/mcp`);
    const rows = page.locator('#grants-list > li');
    await rows.first().waitFor();
    expect(await rows.allTextContents()).toEqual([expect.stringContaining('Claude')]);
    expect(await rows.first().textContent()).toContain('last used never');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Revoke Claude' }).click();
    // Asked once more; Cancel keeps it.
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(api.grants.has('g1')).toBe(true);
    await page.getByRole('button', { name: 'Revoke Claude' }).click();
    await page.getByRole('button', { name: 'Yes, revoke Claude' }).click();
    await page.getByText('Claude can no longer use Earshot.').waitFor();
    await page.locator('#grants-empty').waitFor();
    expect(await rows.count()).toBe(0);
    expect([...api.grants.keys()]).toEqual(['g2']);
  });
});
