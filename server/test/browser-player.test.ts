import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { launchChromium, seriousAxeViolations } from './support/browser.js';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Timeline {
  startAt: number;
  firstAudioAt: number | null;
  peakBeforeEnd: number;
  endAt: number | null;
}
interface PlayerStats {
  chunks: number;
  peak: number;
  played: string[];
  timeline: Record<string, Timeline>;
}

const UPSTREAM_KEY = 'browser-test-upstream-key';

describe('the player page in Chromium', () => {
  let standin: Standin;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    // Paced like the real API: 250 ms to the first byte, audio generated at twice real time.
    standin = await startStandin({
      apiKeys: [UPSTREAM_KEY],
      pacing: { firstByteLatencyMs: 250, realtimeFactor: 2 },
    });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await standin?.close();
  });

  it('takes the key from the URL, enables audio, and plays speech before its generation has finished', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/#key=${server.keys.alice}`);

    // The key leaves the address bar and stays in this browser.
    await page.waitForFunction(() => location.hash === '');
    expect(await page.evaluate(() => localStorage.getItem('earshot.key'))).toBe(server.keys.alice);
    await page.getByText('Connected as alice').waitFor();

    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();

    const text =
      'Deployment finished. The new version is live, and error rates look normal. Nothing needs your attention.';
    const client = await connectMcp(server.url, server.keys.alice);
    const result = await client.callTool({ name: 'speak', arguments: { text, wait: 'played' } });
    const { id, played, durationMs } = result.structuredContent as {
      id: string;
      played: boolean;
      durationMs: number;
    };
    expect(played).toBe(true);
    expect(durationMs).toBeGreaterThan(4000);

    const stats = (await page.evaluate(
      () => (window as unknown as { earshotPlayer: { stats: unknown } }).earshotPlayer.stats,
    )) as PlayerStats;
    const timeline = stats.timeline[id]!;
    expect(stats.played).toContain(id);
    expect(timeline.firstAudioAt).not.toBeNull();
    expect(timeline.endAt).not.toBeNull();
    // Audio was scheduled, and real samples reached the page's output, well before generation ended.
    expect(timeline.endAt! - timeline.firstAudioAt!).toBeGreaterThan(1000);
    expect(timeline.peakBeforeEnd).toBeGreaterThan(0.05);
    expect(await page.locator('#now-text').textContent()).toBe(text);
    expect(errors).toEqual([]);
    await client.close();
    await page.close();
  });

  it('asks for a key when there is none, and explains a wrong one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const input = page.getByLabel('API key');
    await input.waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await input.fill('definitely-not-the-key');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('That key was not accepted').waitFor();
    await input.fill(server.keys.bob!);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('Connected as bob').waitFor();
    await context.close();
  });

  it('reconnects by itself after the connection drops', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    // Drop every player of alice from the server side, as a restart would.
    server.running.hub.closePlayers(1001, 'test restart');
    await page.getByText(/Disconnected \(server restarting\)/).waitFor();
    await page.getByText('Connected as alice').waitFor({ timeout: 10_000 });
    await page.close();
  });
});
