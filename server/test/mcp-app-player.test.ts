import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { startAppHost, withDeclaredCsp, type AppHost } from './support/app-host.js';
import { launchChromium } from './support/browser.js';
import { connectMcp, type McpTestClient } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'mcp-app-player-upstream-key';

/** What the tests read of the in-chat player (`window.earshotApp` in its frame). */
interface AppView {
  speechId: string | null;
  spokenWords: number;
  words: number;
  audible: 'on' | 'off';
  state: string | null;
  started: string[];
  played: string[];
  chunks: number;
  peak: number;
  idle: boolean;
}

const viewOf = (frame: Frame): Promise<AppView> =>
  frame.evaluate(() => {
    interface Player {
      audible: 'on' | 'off';
      speeches: { state: string; text: string }[];
      stats: { started: string[]; played: string[]; chunks: number; peak: number };
      audio: { idle: boolean } | null;
    }
    const app = (
      window as unknown as {
        earshotApp: { player: Player | null; speechId: string | null; spokenWords: number };
      }
    ).earshotApp;
    const player = app.player;
    const speech = player?.speeches[0];
    return {
      speechId: app.speechId,
      spokenWords: app.spokenWords,
      words: speech ? speech.text.split(/\s+/).filter(Boolean).length : 0,
      audible: player?.audible ?? 'off',
      state: speech?.state ?? null,
      started: player?.stats.started ?? [],
      played: player?.stats.played ?? [],
      chunks: player?.stats.chunks ?? 0,
      peak: player?.stats.peak ?? 0,
      idle: player?.audio?.idle ?? true,
    };
  });

/** The in-chat player hosted the way MCP Apps hosts do it, fed real tool results from a real server. */
describe('the MCP Apps player in Chromium, hosted through the ext-apps AppBridge', () => {
  let standin: Standin;
  let server: TestServer;
  let host: AppHost;
  let browser: Browser;
  let client: McpTestClient;
  let appHtml: string;
  let page: Page;

  beforeAll(async () => {
    standin = await startStandin({
      apiKeys: [UPSTREAM_KEY],
      pacing: { firstByteLatencyMs: 100, realtimeFactor: 2 },
    });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    host = await startAppHost();
    // Frames may not start sound without a click: the player must offer Play.
    browser = await launchChromium(['--autoplay-policy=user-gesture-required']);
    client = await connectMcp(server.url, server.keys.alice);
    const read = await client.readResource({ uri: 'ui://earshot/player' });
    const content = read.contents[0] as unknown as {
      text: string;
      _meta: { ui: { csp: { connectDomains: string[] } } };
    };
    appHtml = withDeclaredCsp(content.text, content._meta.ui.csp.connectDomains);
  });

  /**
   * A fresh host page: a click in one app gives its page the user activation that lets later frames start
   * sound on their own, so each test starts from a page nobody clicked.
   */
  async function openHostPage(): Promise<void> {
    page = await browser.newPage();
    await page.goto(host.url);
    await page.waitForFunction(() => 'openApp' in window);
  }
  afterAll(async () => {
    await client?.close();
    await browser?.close();
    await host?.close();
    await server?.close();
    await standin?.close();
  });

  /**
   * A real click (trusted input, so it counts as the user gesture audio needs) on a button of an app. Playwright's
   * own waits poll on animation frames, which Chromium may hold back in a cross-origin frame; this polls on time.
   */
  async function clickButton(frame: Frame, name: string): Promise<void> {
    const button = frame.getByRole('button', { name });
    await expect.poll(() => button.isVisible()).toBe(true);
    const box = (await button.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  }

  /**
   * Once the speech is in the app: when the frame may not start sound (the usual case under
   * --autoplay-policy=user-gesture-required), checks that it reports audio off, is not counted as listening
   * (`listeningBefore`: the user's listening players before this app opened) and shows Play, clicks it, and sees
   * it counted; when Chromium let it start anyway, checks that Play is hidden and the player counted. Says which it was.
   */
  async function pressPlayIfBlocked(frame: Frame, listeningBefore: number): Promise<boolean> {
    await expect.poll(async () => (await viewOf(frame)).state).toBe('playing');
    const play = frame.getByRole('button', { name: 'Play' });
    if ((await viewOf(frame)).audible === 'on') {
      await expect.poll(() => play.isVisible()).toBe(false);
      await expect.poll(() => server.running.hub.listeningCount('alice')).toBe(listeningBefore + 1);
      return false;
    }
    await expect.poll(() => play.isVisible()).toBe(true);
    expect(server.running.hub.listeningCount('alice')).toBe(listeningBefore);
    await clickButton(frame, 'Play');
    await expect.poll(() => server.running.hub.listeningCount('alice')).toBe(listeningBefore + 1);
    return true;
  }

  /** Renders a new app for a tool result, as a host does under the call in the conversation. */
  async function showResult(args: Record<string, unknown>, result: CallToolResult): Promise<Frame> {
    const index = await page.evaluate(
      (html) => (window as unknown as { openApp(html: string): Promise<number> }).openApp(html),
      appHtml,
    );
    await page.evaluate(
      ([i, a, r]) =>
        (window as unknown as { sendResult(i: number, a: unknown, r: unknown): Promise<void> }).sendResult(
          i,
          a,
          r,
        ),
      [index, args, result] as const,
    );
    const frame = await (await page.locator(`iframe[title="app ${index}"]`).elementHandle())?.contentFrame();
    if (!frame) throw new Error('the app frame did not load');
    await frame.waitForFunction(() => 'earshotApp' in window);
    return frame;
  }

  // Two speeches played in real time, under whatever load the machine has.
  it(
    'plays a speech with captions after Play, counted as listening; its token hears no other speech',
    { timeout: 90_000 },
    async () => {
      await openHostPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const text =
        'The build is green again. I fixed the flaky upload test and bumped the cache key, so the next run starts clean.';
      const args = { text };
      const result = await client.callTool({ name: 'speak', arguments: args });
      const { id } = result.structuredContent as { id: string };
      const frame = await showResult(args, result);

      // Blocked autoplay (most runs; Chromium sometimes lets the frame start on its own, which cannot be forced
      // off here): the player reports audio off, is not counted as listening, and offers Play.
      await pressPlayIfBlocked(frame, 0);
      await expect.poll(async () => (await viewOf(frame)).spokenWords).toBeGreaterThan(0);
      const early = (await viewOf(frame)).spokenWords;
      await expect.poll(async () => (await viewOf(frame)).spokenWords).toBeGreaterThan(early);
      const playing = await viewOf(frame);
      expect(playing.chunks).toBeGreaterThan(0);
      expect(playing.spokenWords).toBeLessThan(playing.words);
      // Real samples reached the frame's output.
      await expect.poll(async () => (await viewOf(frame)).peak).toBeGreaterThan(0.05);
      await expect.poll(async () => (await viewOf(frame)).played, { timeout: 20_000 }).toContain(id);
      const done = await viewOf(frame);
      expect(done.spokenWords).toBe(done.words);
      expect(done.started).toEqual([id]);
      expect(await frame.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);

      // Another speech of the same user reaches a second app, never the first.
      const other = await client.callTool({ name: 'speak', arguments: { text: 'A different speech.' } });
      const otherId = (other.structuredContent as { id: string }).id;
      // (on a page of its own: the first page's click would let a new frame there start sound unasked)
      await openHostPage();
      const listening = server.running.hub.listeningCount('alice');
      const second = await showResult({ text: 'A different speech.' }, other);
      await pressPlayIfBlocked(second, listening);
      await expect.poll(async () => (await viewOf(second)).played, { timeout: 20_000 }).toContain(otherId);
      expect((await viewOf(frame)).started).toEqual([id]);
      expect(errors).toEqual([]);
    },
  );

  it('Stop stops the speech in the chat', { timeout: 60_000 }, async () => {
    await openHostPage();
    const text = 'This is a long report that nobody wants to hear to the end. '.repeat(4).trim();
    const result = await client.callTool({ name: 'speak', arguments: { text } });
    const listening = server.running.hub.listeningCount('alice');
    const frame = await showResult({ text }, result);
    await pressPlayIfBlocked(frame, listening);
    await expect.poll(async () => (await viewOf(frame)).spokenWords).toBeGreaterThan(1);
    await clickButton(frame, 'Stop');
    await expect.poll(async () => (await viewOf(frame)).state).toBe('stopped');
    const stopped = await viewOf(frame);
    expect(stopped.idle).toBe(true);
    expect(stopped.spokenWords).toBeLessThan(stopped.words);
    expect(stopped.played).toEqual([]);
  });
});
