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
    page = await browser.newPage();
    await page.goto(host.url);
    await page.waitForFunction(() => 'openApp' in window);
  });
  afterAll(async () => {
    await client?.close();
    await browser?.close();
    await host?.close();
    await server?.close();
    await standin?.close();
  });

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
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const text =
        'The build is green again. I fixed the flaky upload test and bumped the cache key, so the next run starts clean.';
      const args = { text };
      const result = await client.callTool({ name: 'speak', arguments: args });
      const { id } = result.structuredContent as { id: string };
      const frame = await showResult(args, result);

      // Autoplay is blocked in the frame: the player says so, reports audio off, and offers Play.
      await frame.getByRole('button', { name: 'Play' }).waitFor();
      await expect.poll(async () => (await viewOf(frame)).state).toBe('playing');
      expect((await viewOf(frame)).audible).toBe('off');
      expect(server.running.hub.listeningCount('alice')).toBe(0);

      await frame.getByRole('button', { name: 'Play' }).click();
      await expect.poll(() => server.running.hub.listeningCount('alice')).toBe(1);
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
      const second = await showResult({ text: 'A different speech.' }, other);
      await second.getByRole('button', { name: 'Play' }).click();
      await expect.poll(async () => (await viewOf(second)).played, { timeout: 20_000 }).toContain(otherId);
      expect((await viewOf(frame)).started).toEqual([id]);
      expect(errors).toEqual([]);
    },
  );

  it('Stop stops the speech in the chat', { timeout: 60_000 }, async () => {
    const text = 'This is a long report that nobody wants to hear to the end. '.repeat(4).trim();
    const result = await client.callTool({ name: 'speak', arguments: { text } });
    const frame = await showResult({ text }, result);
    await frame.getByRole('button', { name: 'Play' }).click();
    await expect.poll(async () => (await viewOf(frame)).spokenWords).toBeGreaterThan(1);
    await frame.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(async () => (await viewOf(frame)).state).toBe('stopped');
    const stopped = await viewOf(frame);
    expect(stopped.idle).toBe(true);
    expect(stopped.spokenWords).toBeLessThan(stopped.words);
    expect(stopped.played).toEqual([]);
  });
});
