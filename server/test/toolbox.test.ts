import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, textOf, MCP_CLIENT_KINDS, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'toolbox-upstream-key';

const call = async (client: McpTestClient, name: string, args: Record<string, unknown> = {}) =>
  await client.callTool({ name, arguments: args });

describe.each(MCP_CLIENT_KINDS)('credits: cache, daily budget and usage (%s client)', (kind) => {
  let standin: Standin;
  let server: TestServer;
  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [UPSTREAM_KEY] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
      env: { EARSHOT_DAILY_CHAR_LIMIT: '120' },
    });
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
  });

  it('replays identical requests from stored audio for free, unless asked for a fresh take', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice, kind);
    const first = await call(client, 'speak', { text: 'All tests passed.' });
    const firstResult = first.structuredContent as { id: string; credits: number; cached: boolean };
    expect(firstResult.cached).toBe(false);
    // Flash, the default model: half a credit per character, rounded up.
    expect(firstResult.credits).toBe(Math.ceil('All tests passed.'.length / 2));
    const usage = standin.usage;
    const requests = standin.requests.length;

    const again = await call(client, 'speak', { text: 'All tests passed.' });
    const againResult = again.structuredContent as {
      id: string;
      credits: number;
      cached: boolean;
      playersReached: number;
    };
    expect(againResult).toMatchObject({ cached: true, credits: 0, id: firstResult.id, playersReached: 1 });
    expect(textOf(again)).toMatch(/replayed from cache, 0 credits/);
    expect(standin.usage).toBe(usage);
    expect(standin.requests.length).toBe(requests);
    // The player heard the same audio both times.
    const starts = player.messages.filter((m) => m.type === 'speech.start');
    await player.waitFor('speech.end', (m) => m.id === starts[1]!.id);
    expect(player.audioOf(starts[1]!.id).equals(player.audioOf(starts[0]!.id))).toBe(true);

    // Other settings are another request; fresh: true always generates.
    const slower = await call(client, 'speak', { text: 'All tests passed.', settings: { speed: 0.9 } });
    expect((slower.structuredContent as { cached: boolean }).cached).toBe(false);
    const fresh = await call(client, 'speak', { text: 'All tests passed.', fresh: true });
    expect((fresh.structuredContent as { cached: boolean; credits: number }).cached).toBe(false);
    expect(standin.usage).toBeGreaterThan(usage);
    await client.close();
    await player.close();
  });

  it('refuses, before spending, a speech that would pass the daily budget, and says how much is left', async () => {
    const client = await connectMcp(server.url, server.keys.bob, kind);
    const sixty = 'This sentence is exactly sixty characters long, more or les.';
    expect(sixty.length).toBe(60);
    expect((await call(client, 'speak', { text: sixty })).isError).toBeFalsy();
    const requests = standin.requests.length;
    const over = await call(client, 'speak', { text: `${sixty} Plus more.` });
    expect(over.isError).toBe(true);
    expect(textOf(over)).toMatch(/budget of 120 characters: 60 left, this text has 71/);
    expect(textOf(over)).toMatch(/resets at \d{4}-\d\d-\d\dT00:00:00.000Z/);
    expect(standin.requests.length).toBe(requests);

    const usage = await call(client, 'get_usage');
    expect(usage.structuredContent).toMatchObject({
      // The budget counts characters; the credits are what ElevenLabs billed (Flash: half a credit each).
      today: { characters: 60, credits: 30 },
      budget: { limit: 120, remaining: 60 },
      account: { tier: expect.any(String), creditLimit: expect.any(Number) },
    });
    expect(textOf(usage)).toMatch(/ElevenLabs \(.+\): \d+ of \d+ credits used/);

    // The server's limit is a ceiling: a user may lower their own budget, never raise it past the server's.
    const spent = standin.requests.length;
    const raise = await call(client, 'update_settings', { daily_char_limit: 1000 });
    expect(raise.isError).toBe(true);
    expect(textOf(raise)).toMatch(/at most 120 characters on this server \(EARSHOT_DAILY_CHAR_LIMIT\)/);
    expect((await call(client, 'speak', { text: `${sixty} Plus more.` })).isError).toBe(true);
    expect((await call(client, 'update_settings', { daily_char_limit: 70 })).isError).toBeFalsy();
    const lowered = await call(client, 'speak', { text: 'Eleven more' });
    expect(textOf(lowered)).toMatch(/budget of 70 characters: 10 left, this text has 11/);
    expect(standin.requests.length).toBe(spent);
    await client.close();
  });
});

describe.each(MCP_CLIENT_KINDS)('history tools (%s client)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('lists, replays and deletes what was said', async () => {
    const client = await connectMcp(server.url, server.keys.alice, kind);
    const player = await connectPlayer(server.url, server.keys.alice!);
    const spoken = await call(client, 'speak', { text: 'Remember this sentence.' });
    const { id } = spoken.structuredContent as { id: string };
    await call(client, 'speak', { text: 'And another one.' });

    const listed = await call(client, 'list_history', { search: 'remember' });
    const items = (listed.structuredContent as { items: { id: string; source: string; hasAudio: boolean }[] })
      .items;
    expect(items).toEqual([expect.objectContaining({ id, source: 'mcp', hasAudio: true })]);
    expect(textOf(listed)).toContain(id);

    const replayed = await call(client, 'replay', { id });
    expect(replayed.isError).toBeFalsy();
    expect(replayed.structuredContent).toMatchObject({ id, playersReached: 1 });
    const starts = player.received('speech.start', (m) => m.text === 'Remember this sentence.');
    expect(starts).toHaveLength(2);
    await player.waitFor('speech.end', (m) => m.id === starts[1]!.id);
    expect(player.audioOf(starts[1]!.id).equals(player.audioOf(starts[0]!.id))).toBe(true);

    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'delete_history_item')?.annotations?.destructiveHint).toBe(true);
    expect(tools.find((t) => t.name === 'list_history')?.annotations?.readOnlyHint).toBe(true);
    expect((await call(client, 'delete_history_item', { id })).isError).toBeFalsy();
    expect(
      ((await call(client, 'list_history', { search: 'remember' })).structuredContent as { items: unknown[] })
        .items,
    ).toEqual([]);
    const gone = await call(client, 'replay', { id });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toMatch(/No history item/);
    expect((await call(client, 'delete_history_item', { id })).isError).toBe(true);

    // Bob sees none of Alice's history.
    const bob = await connectMcp(server.url, server.keys.bob, kind);
    expect(((await call(bob, 'list_history')).structuredContent as { items: unknown[] }).items).toEqual([]);
    expect((await call(bob, 'replay', { id: (items[0] as { id: string }).id })).isError).toBe(true);
    await Promise.all([client.close(), bob.close(), player.close()]);
  });

  it('reports usage offline without an account', async () => {
    const client = await connectMcp(server.url, server.keys.bob, kind);
    const usage = await call(client, 'get_usage', { days: 3 });
    expect(usage.structuredContent).toMatchObject({ account: null, budget: { limit: null } });
    expect((usage.structuredContent as { days: unknown[] }).days).toHaveLength(3);
    expect(textOf(usage)).toMatch(/Offline voice/);
    await client.close();
  });
});
