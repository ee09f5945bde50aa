import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousAxeViolations } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * A link carrying a key (`/#key=…`, as `earshot serve` prints it) in Chromium against a real Earshot. A browser
 * that keeps no key takes it; one that keeps another user's key asks before switching, since a link made by
 * someone else would otherwise move the browser into their account (login forgery).
 */
describe('a key in a console link (Chromium, real server)', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice', 'mallory'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    expect(errors.splice(0)).toEqual([]);
  });

  /** A fresh browser profile; with `user`, one that keeps that user's key (the console was used before). */
  async function browserOf(user?: string): Promise<Page> {
    context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    if (user) {
      await page.goto(`${server.url}/favicon.svg`);
      await page.evaluate((key) => localStorage.setItem('earshot.key', key), server.keys[user]!);
    }
    return page;
  }

  const keptKey = (page: Page) => page.evaluate(() => localStorage.getItem('earshot.key'));

  it('a browser that keeps no key takes the link’s key', async () => {
    const page = await browserOf();
    await page.goto(`${server.url}/#key=${server.keys.mallory}`);
    await page.getByText('Connected as mallory').waitFor();
    expect(await keptKey(page)).toBe(server.keys.mallory);
    expect(page.url()).not.toContain(server.keys.mallory);
  });

  it('the same key again asks nothing', async () => {
    const page = await browserOf('alice');
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    expect(await page.locator('#switch-key').count()).toBe(0);
  });

  it('another user’s key asks first, names both accounts, and switches nothing until a click', async () => {
    const page = await browserOf('alice');
    await page.goto(`${server.url}/#key=${server.keys.mallory}`);
    await page.locator('#switch-offered', { hasText: 'mallory' }).waitFor();
    expect(await page.locator('#switch-current').textContent()).toBe('alice');
    // The key is out of the address bar, and not kept, while the page asks.
    expect(page.url()).not.toContain(server.keys.mallory);
    expect(await keptKey(page)).toBe(server.keys.alice);
    expect(await page.locator('#connection').textContent()).toBe('Not connected');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Stay signed in as alice' }).click();
    await page.getByText('Connected as alice').waitFor();
    expect(await keptKey(page)).toBe(server.keys.alice);
  });

  it('switches when the user says so', async () => {
    const page = await browserOf('alice');
    await page.goto(`${server.url}/#key=${server.keys.mallory}`);
    await page.getByRole('button', { name: 'Switch to mallory' }).click();
    await page.getByText('Connected as mallory').waitFor();
    expect(await keptKey(page)).toBe(server.keys.mallory);
  });

  it('with the kept key no longer accepted (a reset), switching leads, and still waits for the click', async () => {
    const page = await browserOf();
    await page.goto(`${server.url}/favicon.svg`);
    await page.evaluate(() => localStorage.setItem('earshot.key', 'esk_from_before_a_reset'));
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.locator('#switch-question', { hasText: 'no longer accepted' }).waitFor();
    expect(await keptKey(page)).toBe('esk_from_before_a_reset');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('switch-change');
    await page.getByRole('button', { name: 'Switch to alice' }).click();
    await page.getByText('Connected as alice').waitFor();
    expect(await keptKey(page)).toBe(server.keys.alice);
  });

  it('a link whose key is not accepted says so and offers only to go on as before', async () => {
    const page = await browserOf('alice');
    await page.goto(`${server.url}/#key=esk_not_a_real_key`);
    await page.locator('#switch-refused').waitFor();
    expect(await page.locator('#switch-change').count()).toBe(0);
    await page.getByRole('button', { name: 'Stay signed in as alice' }).click();
    await page.getByText('Connected as alice').waitFor();
    expect(await keptKey(page)).toBe(server.keys.alice);
  });
});
