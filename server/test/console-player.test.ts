import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import type { SynthesisEvent, VoiceEngine } from '../src/engines/index.js';
import { CONSOLE_DIR } from '../src/http/static.js';
import { launchChromium, screenshot } from './support/browser.js';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'console-player-upstream-key';
/** Distinct texts per test: the server may answer a repeated text from its cache, faster than any click. */
const longText = (topic: string): string =>
  `Here is the summary of the ${topic}. It renames the storage interface, adds retries to the uploader, ` +
  'and removes two unused flags. The tests pass on every platform, and nothing needs your attention today.';

interface Stats {
  started: string[];
  played: string[];
}
/** What the tests read of the page's player (window.earshotPlayer.player). */
interface PlayerView {
  speeches: { id: string }[];
  position(speech: { id: string }): { positionMs: number };
  audio: { idle: boolean } | null;
}
const statsOf = (page: Page): Promise<Stats> =>
  page.evaluate(() => (window as unknown as { earshotPlayer: { stats: Stats } }).earshotPlayer.stats);

/** The player panel, queue, captions and keyboard against ElevenLabs' wire format (the stand-in, paced). */
describe('the console player in Chromium (ElevenLabs stand-in)', () => {
  let standin: Standin;
  let server: TestServer;
  let browser: Browser;
  let console2: Server;
  let otherOrigin: string;

  beforeAll(async () => {
    standin = await startStandin({
      apiKeys: [UPSTREAM_KEY],
      pacing: { firstByteLatencyMs: 150, realtimeFactor: 2 },
    });
    // The console served from another origin (as CloudFront does), with a config.json naming the API.
    console2 = createServer((request, response) => {
      const path =
        normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
      if (path === 'config.json') {
        response.setHeader('content-type', 'application/json');
        return response.end(JSON.stringify({ apiBaseUrl: server.url }));
      }
      readFile(join(CONSOLE_DIR, path)).then(
        (body) => {
          const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }[extname(path)];
          response.setHeader('content-type', type ?? 'application/octet-stream');
          response.end(body);
        },
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => console2.listen(0, '127.0.0.1', resolve));
    otherOrigin = `http://localhost:${(console2.address() as AddressInfo).port}`;
    server = await startTestServer({
      engine: withOptionalTimings(
        new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
      ),
      env: { EARSHOT_ALLOWED_ORIGINS: otherOrigin },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await standin?.close();
    await new Promise((resolve) => console2?.close(resolve));
  });

  async function openPlayer(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1180, height: 860 } });
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();
    return page;
  }

  it('highlights caption words as they are spoken (estimated), and all of them once played', async () => {
    const page = await openPlayer();
    // Long enough to watch the highlight move while generation runs, short enough to wait for the end.
    const LONG_TEXT =
      'Here is the summary of the pull request. It renames the storage interface and adds retries to the uploader.';
    const client = await connectMcp(server.url, server.keys.alice);
    const call = client.callTool({ name: 'speak', arguments: { text: LONG_TEXT, wait: 'played' } });
    await page.locator('#now-text .word.speaking').waitFor({ timeout: 10_000 });
    const early = await page.locator('#now-text .word.spoken').count();
    // The highlight moves on as the audio plays.
    await expect.poll(() => page.locator('#now-text .word.spoken').count()).toBeGreaterThan(early);
    const later = await page.locator('#now-text .word.spoken').count();
    // The meter shows what reaches the output, while the speech is still being generated.
    await expect
      .poll(() => page.locator('#level').evaluate((meter) => (meter as HTMLMeterElement).value))
      .toBeGreaterThan(0);
    // The words still being spoken are not all highlighted while generation runs.
    expect(later).toBeLessThan(await page.locator('#now-text .word').count());
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'player-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'player');
    const result = (await call).structuredContent as { id: string; played: boolean };
    expect(result.played).toBe(true);
    expect(await page.locator('#now-text').textContent()).toBe(LONG_TEXT);
    await expect
      .poll(() => page.locator('#now-text .word.spoken').count())
      .toBe(await page.locator('#now-text .word').count());
    await client.close();
    await page.close();
  });

  it('follows speech.alignment timings when the server sends them', async () => {
    // The engine's own timings are held back so the only timings are the ones this test sends.
    engineSendsTimings = false;
    const page = await openPlayer();
    const LONG_TEXT = longText('release branch');
    const client = await connectMcp(server.url, server.keys.alice);
    const call = client.callTool({ name: 'speak', arguments: { text: LONG_TEXT } });
    await expect.poll(async () => (await statsOf(page)).started.length).toBe(1);
    const id = (await statsOf(page)).started[0]!;
    // Timings that no estimate would produce: everything up to "storage" at once, the rest much later.
    const cut = LONG_TEXT.indexOf('storage') + 1;
    const chars = [...LONG_TEXT];
    server.running.hub.broadcast('alice', {
      type: 'speech.alignment',
      id,
      chars,
      startMs: chars.map((_, index) => (index < cut ? 0 : 600_000)),
      durationMs: chars.map(() => 10),
    });
    await expect.poll(() => page.locator('#now-text .word.speaking').textContent()).toBe('storage');
    // Let the audio play on (measured on the player's own clock, not the test's): an estimate would have moved
    // the highlight by now; the server's timings keep it on "storage".
    const playedMs = () =>
      page.evaluate((speechId) => {
        const { player } = (window as unknown as { earshotPlayer: { player: PlayerView } }).earshotPlayer;
        const speech = player.speeches.find((candidate) => candidate.id === speechId);
        return speech ? player.position(speech).positionMs : 0;
      }, id);
    const from = await playedMs();
    await expect.poll(playedMs, { timeout: 15_000 }).toBeGreaterThan(from + 1200);
    expect(await page.locator('#now-text .word.speaking').textContent()).toBe('storage');
    await page.keyboard.press('Escape');
    await call;
    await client.close();
    await page.close();
    engineSendsTimings = true;
  });

  it('Space pauses and resumes, Esc stops the speech and the queue, skip and replay work from the queue', async () => {
    const page = await openPlayer();
    const LONG_TEXT = longText('nightly build');
    const client = await connectMcp(server.url, server.keys.alice);
    const first = client.callTool({ name: 'speak', arguments: { text: LONG_TEXT } });
    await page.locator('#now-text .word.speaking').waitFor({ timeout: 10_000 });
    await page.keyboard.press(' ');
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const outputState = () =>
      page.evaluate(
        () =>
          (window as unknown as { earshotPlayer: { player: { audio: { context: AudioContext } } } })
            .earshotPlayer.player.audio.context.state,
      );
    expect(await outputState()).toBe('suspended');
    await page.keyboard.press(' ');
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    expect(await outputState()).toBe('running');
    await page.keyboard.press('Escape');
    expect(((await first).structuredContent as { status: string }).status).toBe('stopped');
    await page.locator('#recent .badge', { hasText: 'stopped' }).waitFor();

    // Skip: this tab drops the rest of the speech; generation goes on for other players.
    const second = client.callTool({ name: 'speak', arguments: { text: 'Skip me, please. '.repeat(8) } });
    await page.locator('#now-text .word.speaking').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Skip' }).click();
    await page.locator('#recent .badge', { hasText: 'skipped' }).waitFor();
    expect(((await second).structuredContent as { status: string }).status).toBe('completed');

    // Replay a played speech from the queue: fetched from history with the key, played in the page.
    const third = await client.callTool({
      name: 'speak',
      arguments: { text: 'Short and done.', wait: 'played' },
    });
    expect((third.structuredContent as { played: boolean }).played).toBe(true);
    const played = page.locator('#recent li', { hasText: 'Short and done.' });
    await played.getByRole('button', { name: /^Replay/ }).click();
    await page.getByText('Replaying.').waitFor();
    await screenshot(page, 'queue');
    await client.close();
    await page.close();
  });

  it('settles a speech cut by a lost connection, reconnects, and never reports it played', async () => {
    const page = await openPlayer();
    const client = await connectMcp(server.url, server.keys.alice);
    const text =
      'Here is the outage report. The database failed over twice and recovered within a minute each time.';
    const call = client.callTool({ name: 'speak', arguments: { text } });
    await page.locator('#now-text .word.speaking').waitFor({ timeout: 10_000 });
    server.running.hub.closePlayers(1001, 'test restart');
    await page.locator('#recent li', { hasText: 'outage report' }).getByText('connection lost').waitFor();
    await page.getByText('Connected as alice').waitFor({ timeout: 10_000 });
    await call;
    const id = (await statsOf(page)).started.at(-1)!;
    // "Never": not only now, but once everything the page had scheduled has played out (the moment a
    // "played" report would be sent).
    await page.waitForFunction(
      () =>
        (window as unknown as { earshotPlayer: { player: PlayerView } }).earshotPlayer.player.audio?.idle ??
        true,
    );
    expect((await statsOf(page)).played).not.toContain(id);
    await client.close();
    await page.close();
  });

  it('shows a notification when speech arrives while the tab is hidden (after permission on a click)', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: server.url });
    const page = await context.newPage();
    await page.addInitScript(() => {
      // Record what the page shows; headless Chromium has no notification centre to look at.
      const shown: { title: string; body: string | undefined }[] = [];
      (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
      const Real = window.Notification;
      class Recording extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body });
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording });
    });
    await page.goto(`${server.url}/#key=${server.keys.bob}`);
    await page.getByText('Connected as bob').waitFor();
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const client = await connectMcp(server.url, server.keys.bob);
    await client.callTool({ name: 'speak', arguments: { text: 'Your tests finished.' } });
    // The call returns once the audio is generated and sent; the page shows the notification when its socket has
    // delivered the speech, which on a loaded machine can come after the call's answer.
    await page.waitForFunction(
      () => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length > 0,
    );
    const shown = await page.evaluate(
      () =>
        (window as unknown as { shownNotifications: { title: string; body: string }[] }).shownNotifications,
    );
    expect(shown).toEqual([{ title: expect.stringContaining('Earshot'), body: 'Your tests finished.' }]);
    expect(await page.title()).toBe('Earshot');
    await client.close();
    await context.close();
  });

  it('browses the shared voice library with server-side filters', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.evaluate(() => (location.hash = '#/voices'));
    await page.locator('#voice-list > li').first().waitFor();
    await page.getByRole('button', { name: 'Shared library' }).click();
    await page.getByText(/voices in the shared library\.$/).waitFor();
    const cards = page.locator('#voice-list > li');
    expect(await cards.count()).toBeGreaterThan(3);
    const request = page.waitForRequest(
      (r) => r.url().includes('/api/v1/library') && r.url().includes('gender=female'),
    );
    await page.getByLabel('Gender').selectOption('female');
    await request;
    await expect
      .poll(async () => (await cards.allTextContents()).every((text) => text.includes('female')))
      .toBe(true);
    expect(await cards.count()).toBeGreaterThan(0);
    // A library voice can be the default (ElevenLabs takes library ids), and Settings keeps showing it.
    const name = (await cards.first().locator('h3').textContent())!;
    await page.getByRole('button', { name: `Set as default: ${name}` }).click();
    await page.getByText(`${name} is now your default voice.`).waitFor();
    const settings = (await (
      await fetch(`${server.url}/api/v1/settings`, {
        headers: { authorization: `Bearer ${server.keys.alice}` },
      })
    ).json()) as { defaultVoice: string };
    await page.evaluate(() => (location.hash = '#/settings'));
    await expect.poll(() => page.locator('#settings-voice').inputValue()).toBe(settings.defaultVoice);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/^Saved\./).waitFor();
    const afterSave = (await (
      await fetch(`${server.url}/api/v1/settings`, {
        headers: { authorization: `Bearer ${server.keys.alice}` },
      })
    ).json()) as { defaultVoice: string };
    expect(afterSave.defaultVoice).toBe(settings.defaultVoice);
    const saved = (await (
      await fetch(`${server.url}/api/v1/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ defaultVoice: null }),
      })
    ).json()) as { defaultVoice: string | null };
    expect(saved.defaultVoice).toBeNull();
    await page.close();
  });

  it('shows the ElevenLabs account credits against the plan limit on the Usage view', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.evaluate(() => (location.hash = '#/usage'));
    const label = page.locator('#usage-account label');
    await label.waitFor();
    expect(await label.textContent()).toMatch(/^ElevenLabs \S+: \d+ of \d+ credits used · resets /);
    expect(Number(await page.locator('#usage-account-meter').getAttribute('max'))).toBeGreaterThan(0);
    await page.close();
  });

  it('works from another origin with config.json naming the API, and estimates credits per model', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${otherOrigin}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.evaluate(() => (location.hash = '#/try'));
    await page.locator('#try-model option[value="eleven_flash_v2_5"]').waitFor({ state: 'attached' });
    const text = 'Twenty characters!!!';
    await page.getByLabel('Text').fill(text);
    // No model chosen and none saved: the estimate is the engine's default's (Flash, half a credit a character),
    // and the empty choice says which model that is.
    await page.getByText(/^20 characters · /).waitFor();
    expect(await page.locator('#try-count').textContent()).toBe('20 characters · about 10 credits');
    expect(await page.locator('#try-model option[value=""]').textContent()).toBe(
      'Default (Eleven Flash v2.5)',
    );
    await page.getByLabel('Model').selectOption('eleven_multilingual_v2');
    await page.getByText('20 characters · about 20 credits').waitFor();
    await page.getByLabel('Model').selectOption('eleven_flash_v2_5');
    await page.getByText('20 characters · about 10 credits').waitFor();
    await page.getByRole('button', { name: 'Speak' }).click();
    await page.getByText(/^Spoken with .+: 20 characters, 10 credits/).waitFor({ timeout: 15_000 });
    await page.evaluate(() => (location.hash = '#/connect'));
    expect(await page.locator('#connect-cursor').textContent()).toContain(`${server.url}/mcp`);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** When false, the wrapped engine drops its character timings (as an engine without them would). */
let engineSendsTimings = true;

function withOptionalTimings(engine: VoiceEngine): VoiceEngine {
  async function* withoutTimings(events: AsyncIterable<SynthesisEvent>): AsyncIterable<SynthesisEvent> {
    for await (const event of events) if (event.type !== 'alignment') yield event;
  }
  return {
    name: engine.name,
    defaultModelId: engine.defaultModelId,
    studio: engine.studio,
    listVoices: () => engine.listVoices(),
    listModels: () => engine.listModels(),
    getSubscription: engine.getSubscription?.bind(engine),
    checkReady: () => engine.checkReady(),
    close: () => engine.close(),
    synthesize: async (request, signal) => {
      const stream = await engine.synthesize(request, signal);
      return engineSendsTimings ? stream : { ...stream, events: withoutTimings(stream.events) };
    },
  };
}
