// The console tells the server whether anyone hears it (`state.audio`): off until "Enable audio" is clicked
// (browsers block audio until a user gesture), on after, off again when auto-play is turned off. Agents get the
// truth from it: nobody heard a speech sent to a console whose audio is off.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { connectMcp, textOf, type McpTestClient } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

/** A wait for "played" that should end on an event must not pass by running out a short clock. */
const TEN_MINUTES_MS = 600_000;

describe('the console reports its audio state (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let agent: McpTestClient;
  /** What the server knows of alice's players, polled until it matches (the page's message is in flight). */
  const serverSees = (states: string[]) =>
    expect.poll(() => server.running.hub.playerAudio('alice'), { timeout: 15_000 }).toEqual(states);

  beforeAll(async () => {
    server = await startTestServer({ playedGraceMs: TEN_MINUTES_MS });
    browser = await launchChromium();
    page = await browser.newPage();
    agent = await connectMcp(server.url, server.keys.alice);
  });
  afterAll(async () => {
    await agent?.close();
    await browser?.close();
    await server?.close();
  });

  // One story on one page, so the steps cannot run out of order: off, on, off and on with auto-play, reloaded.
  it('is off before "Enable audio" (speak says nobody heard it), on after, off with auto-play off and after a reload', async () => {
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await serverSees(['off']);

    const result = await agent.callTool({
      name: 'speak',
      arguments: { text: 'Can you hear me yet?', wait: 'played' },
    });
    expect(result.structuredContent).toMatchObject({ playersReached: 1, playersListening: 0, played: false });
    expect(textOf(result)).toMatch(/^Nobody heard it: 1 player is open but none has audio on/);
    expect(textOf(result)).toContain('"Enable audio"');

    // On after "Enable audio": the speech plays and is reported played.
    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();
    await serverSees(['on']);

    const heard = await agent.callTool({
      name: 'speak',
      arguments: { text: 'Now you can.', wait: 'played' },
    });
    expect(heard.structuredContent).toMatchObject({ playersReached: 1, playersListening: 1, played: true });
    expect(textOf(heard)).toMatch(/^Spoke 12 characters as \S+ to 1 listening player .*finished playing/);

    // Off again when auto-play is turned off, on when it is turned back on.
    const setAutoPlay = async (autoPlay: boolean) => {
      const response = await fetch(`${server.url}/api/v1/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ autoPlay }),
      });
      expect(response.status).toBe(200);
    };
    await setAutoPlay(false);
    await serverSees(['off']);
    await setAutoPlay(true);
    await serverSees(['on']);

    // A reloaded page says its state again on its new connection.
    await page.reload();
    await page.getByText('Connected as alice').waitFor();
    // A reloaded page has not enabled audio: a fresh user gesture is needed.
    await serverSees(['off']);
  });
});
