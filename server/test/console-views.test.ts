import { readFile } from 'node:fs/promises';
import type { HistoryItem, UserSettings } from '@earshot/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, seriousAxeViolations } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/** The console's views against a real Earshot with the offline voice, one Chromium page per user session. */
describe('the console views in Chromium (offline engine)', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
    });
    return (await response.json()) as T;
  }

  async function open(view: string): Promise<void> {
    await page.evaluate((hash) => (location.hash = hash), `#/${view}`);
    await page.locator(`#nav-${view}[aria-current="page"]`).waitFor();
  }

  /** Waits until every GET the page started has been answered and read, and the result painted. */
  async function settled(): Promise<void> {
    await page.waitForFunction(() => (window as unknown as { pendingFetches: number }).pendingFetches === 0);
    await page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
    );
  }

  beforeAll(async () => {
    server = await startTestServer({
      env: { EARSHOT_AUDIO_RETENTION_DAYS: '90', EARSHOT_AUDIO_QUOTA_MB: '500' },
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1180, height: 860 }, acceptDownloads: true });
    // Counts the page's GET requests until their body has been read; the count drops a task later, after the
    // code awaiting the body has rendered what it got.
    await context.addInitScript(() => {
      const counted = window as unknown as { pendingFetches: number };
      counted.pendingFetches = 0;
      const original = window.fetch.bind(window);
      window.fetch = async (...args: Parameters<typeof fetch>) => {
        // Views load with GET; other calls (a DELETE nobody reads the answer of) are not waited for.
        const [input, init] = args;
        const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
        if (method.toUpperCase() !== 'GET') return original(...args);
        counted.pendingFetches += 1;
        let settledOnce = false;
        const settle = () => {
          if (settledOnce) return;
          settledOnce = true;
          setTimeout(() => (counted.pendingFetches -= 1), 0);
        };
        try {
          const response = await original(...args);
          for (const method of ['json', 'text', 'arrayBuffer', 'blob'] as const) {
            const read = response[method].bind(response) as () => Promise<unknown>;
            (response as unknown as Record<string, () => Promise<unknown>>)[method] = () =>
              read().finally(settle);
          }
          if (!response.body) settle();
          return response;
        } catch (error) {
          settle();
          throw error;
        }
      };
    });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('Try it: counts characters and credits, speaks with the chosen voice and model from the console', async () => {
    await open('try');
    await page.locator('#try-voice option', { hasText: 'Alan' }).waitFor({ state: 'attached' });
    const text = 'The build is green and the release notes are ready for review.';
    await page.getByLabel('Text').fill(text);
    await page.getByText(`${text.length} characters · free (offline voice)`).waitFor();
    await page.getByLabel('Voice', { exact: true }).selectOption({ label: 'Alan' });
    await page.getByLabel('Model').selectOption('flite');
    await page.getByLabel('Speed').fill('1.1');
    await page.getByRole('button', { name: 'Speak' }).click();
    await page
      .getByText(`Spoken with Alan: ${text.length} characters, 0 credits`)
      .waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => (await api<{ items: HistoryItem[] }>('/history')).items[0])
      .toMatchObject({ text, source: 'console', voice: { name: 'Alan' } });
    await screenshot(page, 'try-it');
  });

  it('Voices: lists, filters by label, searches, previews and sets the default', async () => {
    // Alan must not be the default yet (the Settings test makes him so).
    await api('/settings', { method: 'PUT', body: JSON.stringify({ defaultVoice: null }) });
    await open('voices');
    const cards = page.locator('#voice-list > li');
    await cards.first().waitFor();
    const all = await cards.count();
    expect(all).toBeGreaterThan(2);
    await page.getByLabel('Gender').selectOption('female');
    expect(await cards.count()).toBeLessThan(all);
    for (const card of await cards.all()) expect(await card.textContent()).toContain('female');
    await page.getByLabel('Gender').selectOption('');
    await page.getByLabel('Search voices').fill('scottish');
    await page.getByText('1 of 1 voices.').waitFor();
    await page.getByRole('button', { name: 'Preview Alan' }).click();
    await page.getByText('Previewed Alan on your players.').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Set as default: Alan' }).click();
    await page.getByText('Alan is now your default voice.').waitFor();
    expect((await api<UserSettings>('/settings')).defaultVoice).toBe('awb');
    await page.getByLabel('Search voices').fill('');
    await page.locator('#voice-list > li').nth(2).waitFor();
    await screenshot(page, 'voices');
    // The shared library is ElevenLabs' own: offline, the console says so.
    await page.getByRole('button', { name: 'Shared library' }).click();
    await page.getByText(/The shared voice library is ElevenLabs’: it needs an ElevenLabs key/).waitFor();
    await page.getByRole('button', { name: 'My voices' }).click();
    await page.locator('#voice-list > li').nth(2).waitFor();
  });

  it('History: searches, shows who asked, replays, downloads WAV and deletes', async () => {
    // The items this test reads are its own: two from the console, then one from a script.
    await api('/settings', { method: 'PUT', body: JSON.stringify({ saveAudio: true }) });
    for (const text of ['The changelog draft is ready.', 'Two reviews are waiting for you.']) {
      await api('/speak', { method: 'POST', body: JSON.stringify({ text, source: 'console' }) });
    }
    await api('/speak', {
      method: 'POST',
      body: JSON.stringify({ text: 'A note from a script about the nightly backup.', source: 'cli' }),
    });
    // History is written in the background: wait until it lists the three items, the script's first.
    await expect
      .poll(async () =>
        (await api<{ items: HistoryItem[] }>('/history')).items.slice(0, 3).map((item) => item.source),
      )
      .toEqual(['cli', 'console', 'console']);
    await open('history');
    const rows = page.locator('#history-list > li');
    await rows.first().waitFor();
    expect(await rows.count()).toBeGreaterThanOrEqual(3);
    expect(await rows.first().locator('.badge').textContent()).toBe('CLI');
    await page.getByLabel('Search history').fill('changelog draft');
    await page.getByText('1 item.').waitFor();
    expect(await rows.first().locator('.badge').textContent()).toBe('console');

    await rows
      .first()
      .getByRole('button', { name: /^Replay/ })
      .click();
    await page.getByText('Replaying in this tab.').waitFor();
    await rows
      .first()
      .getByRole('button', { name: /^Play on all players/ })
      .click();
    await page.getByText('Played again on 1 player(s).').waitFor({ timeout: 15_000 });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      rows
        .first()
        .getByRole('button', { name: /^Download WAV/ })
        .click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^earshot-.+\.wav$/);
    const wav = await readFile(await download.path());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(44 + 16_000);
    // The stored file itself, Ogg Opus: a fraction of the WAV.
    const [opusDownload] = await Promise.all([
      page.waitForEvent('download'),
      rows
        .first()
        .getByRole('button', { name: /^Download Opus/ })
        .click(),
    ]);
    expect(opusDownload.suggestedFilename()).toMatch(/^earshot-.+\.opus$/);
    const opus = await readFile(await opusDownload.path());
    expect(opus.subarray(0, 4).toString()).toBe('OggS');
    expect(opus.length).toBeLessThan(wav.length / 4);

    await page.getByLabel('Search history').fill('');
    await page.getByText(/^\d+ items\.$/).waitFor();
    const before = await rows.count();
    await page.getByRole('button', { name: /^Delete: A note from a script/ }).click();
    await page.getByText('Deleted.').waitFor();
    await expect.poll(() => rows.count()).toBe(before - 1);
    await screenshot(page, 'history');
  });

  it('Settings: saves to the server, and shows changes made elsewhere live', async () => {
    await api('/settings', { method: 'PUT', body: JSON.stringify({ defaultVoice: 'awb' }) });
    await open('settings');
    await page.locator('#settings-voice option', { hasText: 'Alan' }).waitFor({ state: 'attached' });
    await expect.poll(() => page.getByLabel('Default voice').inputValue()).toBe('awb');
    await page.getByLabel(/Save audio in history/).uncheck();
    await page.getByLabel('Stability').fill('0.8');
    await page.getByLabel('Daily character budget').fill('5000');
    // The server's maxima are shown, and users may choose less.
    await page.getByText(/Empty: the server’s maximum, 90 days; you can set less, not more\./).waitFor();
    await page.getByText(/Empty: the server’s maximum, 500 MB; you can set less, not more\./).waitFor();
    expect(await page.getByLabel('Keep spoken audio for (days)').getAttribute('max')).toBe('90');
    await page.getByLabel('Keep spoken audio for (days)').fill('30');
    await page.getByLabel('Audio storage limit (MB)').fill('200');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/^Saved\./).waitFor();
    const saved = await api<UserSettings>('/settings');
    expect(saved.saveAudio).toBe(false);
    expect(saved.voiceSettings.stability).toBe(0.8);
    expect(saved).toMatchObject({ dailyCharLimit: 5000, audioRetentionDays: 30, audioQuotaMb: 200 });

    // Another console (or an agent's update_settings) changes them: this page follows without a reload.
    await api('/settings', { method: 'PUT', body: JSON.stringify({ saveAudio: true, autoPlay: false }) });
    await expect.poll(() => page.getByLabel(/Save audio in history/).isChecked()).toBe(true);
    expect(await page.getByLabel(/Auto-play/).isChecked()).toBe(false);
    await api('/settings', { method: 'PUT', body: JSON.stringify({ autoPlay: true }) });
    await expect.poll(() => page.getByLabel(/Auto-play/).isChecked()).toBe(true);
    await screenshot(page, 'settings');
  });

  it('Auto-play off: speech is listed but not played, and never reported as played', async () => {
    await api('/settings', { method: 'PUT', body: JSON.stringify({ autoPlay: false }) });
    await open('player');
    const result = await api<{ played: boolean; id: string }>('/speak', {
      method: 'POST',
      body: JSON.stringify({ text: 'Auto-play is off, so this waits.', source: 'api' }),
    });
    expect(result.played).toBe(false);
    await page
      .locator('#recent li', { hasText: 'Auto-play is off' })
      .getByText('not played: auto-play is off')
      .waitFor();
    const played = await page.evaluate(
      () =>
        (window as unknown as { earshotPlayer: { stats: { played: string[] } } }).earshotPlayer.stats.played,
    );
    expect(played).not.toContain(result.id);
    await api('/settings', { method: 'PUT', body: JSON.stringify({ autoPlay: true }) });
  });

  it('Usage: shows today and a per-day chart', async () => {
    await api('/settings', {
      method: 'PUT',
      body: JSON.stringify({ dailyCharLimit: 5000, audioQuotaMb: 200, audioRetentionDays: 30 }),
    });
    const spoken = 'Usage counts these characters.';
    await api('/speak', { method: 'POST', body: JSON.stringify({ text: spoken, source: 'api' }) });
    // Usage is recorded before the speech's answer.
    const today = (await api<{ today: { characters: number } }>('/usage?days=1')).today.characters;
    expect(today).toBeGreaterThanOrEqual(spoken.length);
    await open('usage');
    const usage = await api<{ today: { characters: number } }>('/usage?days=30');
    await expect
      .poll(() => page.locator('#usage-today-chars').textContent())
      .toBe(String(usage.today.characters));
    expect(await page.locator('svg.chart rect.bar').count()).toBe(30);
    await page.getByText(`Daily budget: ${usage.today.characters} of 5000 characters used`).waitFor();
    expect(await page.locator('#usage-budget-meter').getAttribute('max')).toBe('5000');
    await expect.poll(() => page.locator('#usage-audio').textContent()).toMatch(/^\d+\.\d MB of 200\.0 MB$/);
    await page.getByText('30 days', { exact: true }).waitFor();
    expect(await page.locator('#usage-account').textContent()).toMatch(
      /Offline voice: no ElevenLabs account/,
    );
    await screenshot(page, 'usage');
  });

  it('Connect: fills each client config with the URL and the key, hidden until revealed, and copies it', async () => {
    await open('connect');
    const cursor = page.locator('#connect-cursor');
    expect(await cursor.textContent()).toContain(`${server.url}/mcp`);
    expect(await cursor.textContent()).not.toContain(server.keys.alice);
    for (const id of ['claude-code', 'windsurf', 'claude-desktop']) {
      expect(await page.locator(`#connect-${id}`).textContent()).toContain('••••');
    }
    // VS Code prompts for the key: the file (often committed) never holds it.
    expect(await page.locator('#connect-vscode').textContent()).toContain('${input:earshot-key}');
    expect(await page.locator('#connect-claude-desktop').textContent()).toContain('"EARSHOT_URL"');
    await screenshot(page, 'connect');
    await page.getByRole('button', { name: 'Reveal key' }).click();
    expect(await cursor.textContent()).toContain(`Bearer ${server.keys.alice}`);
    await page.getByRole('button', { name: 'Hide key' }).click();

    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy Claude Code config' }).click();
    await page.getByText('Claude Code config copied').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(
      `claude mcp add --transport http earshot ${server.url}/mcp --header "Authorization: Bearer ${server.keys.alice}"`,
    );
  });

  it('has no serious or critical axe violations on any view, light and dark, and fits a phone', async () => {
    const views = ['player', 'try', 'voices', 'history', 'usage', 'settings', 'connect'];
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const view of views) {
        await open(view);
        await settled();
        found.push(...(await seriousAxeViolations(page)).map((v) => `${scheme} ${view}: ${v}`));
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(found).toEqual([]);

    await page.setViewportSize({ width: 375, height: 800 });
    for (const view of views) {
      await open(view);
      await settled();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, view).toBeLessThanOrEqual(0);
    }
    await open('try');
    await screenshot(page, 'phone');
    await page.setViewportSize({ width: 1180, height: 860 });
    expect(errors).toEqual([]);
  });
});
