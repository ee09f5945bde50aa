import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

const CLIENTS_GUIDE = new URL('../../docs/clients.md', import.meta.url);

/** What the tests read of the page's player and connection (window.earshotPlayer). */
interface PageState {
  stats: { started: string[]; played: string[] };
  connection: { kind: string; code?: number; retryInMs?: number }[];
}
const stateOf = (page: Page): Promise<PageState> =>
  page.evaluate(() => {
    const { stats, connection } = (window as unknown as { earshotPlayer: PageState }).earshotPlayer;
    return { stats, connection };
  });

/** The first fenced block under the docs heading that starts with `name`. */
function docsSnippet(guide: string, name: string): string {
  const section = guide.split(/^## /m).find((part) => part.startsWith(name));
  const block = section && /```\w*\n([\s\S]*?)\n```/.exec(section);
  if (!block) throw new Error(`docs/clients.md has no snippet under "## ${name}"`);
  return block[1]!;
}

/** Rough edges a first-time user met in the console, each checked in Chromium against a real server. */
describe('the console as a new user finds it (offline engine)', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice', 'carol', 'dave'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openConsole(user: string, view = 'player'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1180, height: 860 } });
    await page.goto(`${server.url}/#key=${server.keys[user]}`);
    await page.getByText(`Connected as ${user}`).waitFor();
    await page.evaluate((hash) => (location.hash = hash), `#/${view}`);
    await page.locator(`#nav-${view}[aria-current="page"]`).waitFor();
    return page;
  }

  it('Usage with nothing spoken says so, without a made-up scale or a reset for a budget that is not there', async () => {
    const page = await openConsole('carol', 'usage');
    await page.locator('#usage-today-chars').waitFor();
    expect(await page.locator('#usage-today-chars').textContent()).toBe('0');
    const view = (await page.locator('#view').textContent())!;
    expect(view).toContain('Nothing spoken in the last 30 days.');
    expect(view).not.toContain('max 1 characters/day');
    const budget = await page.locator('#usage-budget').textContent();
    expect(budget).toMatch(/^No daily character budget/);
    expect(budget).not.toContain('resets');
    await page.close();
  });

  it('Voices: the shared library offline is an empty state that says what it needs, with no failing request', async () => {
    const page = await openConsole('carol', 'voices');
    await page.locator('#voice-list > li').first().waitFor();
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.getByRole('button', { name: 'Shared library' }).click();
    await expect.poll(() => page.locator('#view').textContent(), { timeout: 10_000 }).toMatch(/ElevenLabs/);
    expect(await page.locator('#view').textContent()).toMatch(
      /The shared voice library is ElevenLabs’: it needs an ElevenLabs key/,
    );
    expect(await page.locator('#voice-list > li').count()).toBe(0);
    expect(await page.locator('#view').textContent()).not.toMatch(/0 of 0 voices|Could not load/);
    expect(failed).toEqual([]);
    // Back to the user's own voices, which work offline.
    await page.getByRole('button', { name: 'My voices' }).click();
    await page.locator('#voice-list > li').first().waitFor();
    expect(await page.locator('#voice-count').textContent()).toMatch(/^\d+ of \d+ voices\.$/);
    await page.close();
  });

  it('Try it: Download says what it downloaded, not how many players it reached', async () => {
    const page = await openConsole('carol', 'try');
    await page.locator('#try-voice option', { hasText: 'Alan' }).waitFor({ state: 'attached' });
    await page.getByLabel('Text').fill('Keep this one for the release video.');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download WAV' }).click(),
    ]);
    const status = page.locator('#view [role="status"]');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/^Downloaded /);
    const text = (await status.textContent())!;
    expect(text).toContain(download.suggestedFilename());
    expect(text).toMatch(/36 characters, 0 credits, \d+\.\d s\.$/);
    expect(text).not.toMatch(/player/);
    await page.close();
  });

  it('Connect: every snippet is the one docs/clients.md gives, and every card holds its text', async () => {
    const guide = await readFile(CLIENTS_GUIDE, 'utf8');
    const page = await openConsole('carol', 'connect');
    await page.getByRole('button', { name: 'Reveal key' }).click();
    const clients = {
      cursor: 'Cursor',
      'claude-code': 'Claude Code',
      vscode: 'VS Code',
      windsurf: 'Windsurf',
      'claude-desktop': 'Claude Desktop',
    };
    for (const [id, name] of Object.entries(clients)) {
      const shown = (await page.locator(`#connect-${id}`).textContent())!
        .replaceAll(server.url, 'http://127.0.0.1:8080')
        .replaceAll(server.keys.carol!, 'YOUR_KEY');
      const documented = docsSnippet(guide, name);
      if (documented.trimStart().startsWith('{'))
        expect(JSON.parse(shown), name).toEqual(JSON.parse(documented));
      else expect(shown, name).toBe(documented);
    }
    // Nothing spills out of its card: long paths wrap, code blocks scroll inside.
    for (const width of [1180, 375]) {
      await page.setViewportSize({ width, height: 860 });
      const overflowing = await page
        .locator('#view .card')
        .evaluateAll((cards) =>
          cards.filter((card) => card.scrollWidth > card.clientWidth).map((card) => card.textContent),
        );
      expect(overflowing, `at ${width} px`).toEqual([]);
    }
    await page.close();
  });

  it('Queue: one speech plays and the rest wait in play order, each status said once, Pause only with speech', async () => {
    const page = await openConsole('dave');
    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();
    const pause = page.getByRole('button', { name: 'Pause' });
    expect(await pause.isDisabled()).toBe(true);

    const texts = [
      'First: the build finished and every test passed on the first try today.',
      'Second: the deploy to staging is done and the smoke tests are green.',
      'Third: two reviews are waiting for you in the pull request queue.',
    ];
    // Sent at once, as an agent in a hurry would: the server queues them, the page gets them in turn.
    const spoken = Promise.all(
      texts.map((text) =>
        fetch(`${server.url}/api/v1/speak`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.keys.dave}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text, source: 'api' }),
        }),
      ),
    );
    const queue = page.locator('#queue-list > li');
    await expect
      .poll(() => queue.locator('.badge').allTextContents(), { timeout: 20_000 })
      .toEqual(['playing', 'queued', 'queued']);
    // Top to bottom in the order they play: the one playing first.
    const playOrder = await page.evaluate(() => {
      const { player, stats } = (
        window as unknown as {
          earshotPlayer: { player: { speeches: { id: string; text: string }[] }; stats: PageState['stats'] };
        }
      ).earshotPlayer;
      return stats.started.map((id) => player.speeches.find((speech) => speech.id === id)?.text);
    });
    expect(await queue.locator('.item-text').allTextContents()).toEqual(playOrder);
    expect(await pause.isEnabled()).toBe(true);
    expect(
      (await spoken).every((response) => response.ok),
      'every speak answered',
    ).toBe(true);

    // Played, newest first under "Played recently", each with its status once.
    const recent = page.locator('#recent > li');
    await expect.poll(() => recent.count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => queue.count(), { timeout: 10_000 }).toBe(0);
    for (const meta of await recent.locator('.meta').allTextContents()) {
      expect(meta.match(/played/g), meta).toHaveLength(1);
      expect(meta).toMatch(/played · \d+\.\d s$/);
    }
    expect(await recent.locator('.item-text').allTextContents()).toEqual([...playOrder].reverse());
    await expect.poll(() => pause.isDisabled(), { timeout: 10_000 }).toBe(true);
    await page.close();
  });
});

describe('the console across a server restart', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says the server is restarting, reconnects as soon as it is back, and reloads the view that failed', async () => {
    const page = await browser.newPage();
    // The page's timers run on a clock the test moves: the reconnect schedule is followed step by step,
    // never raced against.
    await page.clock.install();
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.evaluate(() => (location.hash = '#/usage'));
    await page.locator('#usage-today-chars').waitFor();
    await page.clock.pauseAt(Date.now() + 60_000);
    const header = page.locator('#connection');
    const closedCount = async () =>
      (await stateOf(page)).connection.filter((state) => state.kind === 'closed').length;

    await server.stop();
    await expect.poll(closedCount, { timeout: 10_000 }).toBe(1);
    expect(await header.textContent()).toContain('(server restarting)');
    // While it is down, the Usage view cannot load.
    await page.evaluate(() => (location.hash = '#/player'));
    await page.evaluate(() => (location.hash = '#/usage'));
    await page.getByText('Could not load usage: Earshot is not reachable').waitFor();

    // Let the page retry until its next attempt is seconds away, as after a restart that takes a while.
    for (;;) {
      const states = (await stateOf(page)).connection;
      const last = states.at(-1)!;
      if (last.kind === 'closed' && last.retryInMs! >= 3000) break;
      const before = states.filter((state) => state.kind === 'closed').length;
      await page.clock.runFor(last.kind === 'closed' ? last.retryInMs! : 1000);
      await expect.poll(closedCount, { timeout: 10_000 }).toBeGreaterThan(before);
    }
    // Still down, still restarting as far as the user can tell.
    expect(await header.textContent()).toContain('(server restarting)');

    await server.start();
    // One second of the page's time is enough to notice the server is back, whatever the backoff says.
    await page.clock.runFor(1000);
    await page.getByText('Connected as alice').waitFor({ timeout: 10_000 });
    // The view that failed while the server was away loads again by itself.
    await expect
      .poll(() => page.locator('#view').textContent(), { timeout: 10_000 })
      .not.toContain('Could not load usage');
    expect(await page.locator('#usage-today-chars').textContent()).toBe('0');
    expect(await header.textContent()).not.toContain('restarting');
    await page.close();
  });
});
