// Tools that play never claim a speech was heard when nobody could hear it: players say whether anyone hears
// them (`state.audio`), results count the ones that do (`playersListening`), and `wait: "played"` ends as soon as
// no listening player remains. The server waits ten minutes for a `played` report here, so a wait that should
// end on an event cannot pass by running out its clock: it would hit the test timeout instead.
import type { SpeakResult } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, MCP_CLIENT_KINDS, textOf, type McpTestClient } from './support/mcp.js';
import { connectPlayer, sendState, type TestPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const TEN_MINUTES_MS = 600_000;
const USERS = ['off', 'silent', 'onoff', 'gone', 'mixed', 'dialogue', 'junk'];

interface Delivered {
  id: string;
  playersReached: number;
  playersListening: number;
  played: boolean;
}

async function speak(client: McpTestClient, text: string, wait?: 'played') {
  const result = await client.callTool({ name: 'speak', arguments: { text, ...(wait ? { wait } : {}) } });
  expect(result.isError, textOf(result)).toBeFalsy();
  return { text: textOf(result), structured: result.structuredContent as unknown as Delivered };
}

describe.each(MCP_CLIENT_KINDS)('truthful delivery (%s client)', (kind) => {
  let server: TestServer;
  const open: { close(): Promise<unknown> }[] = [];
  const player = async (user: string, audio?: 'on' | 'off'): Promise<TestPlayer> => {
    const connected = await connectPlayer(server.url, server.keys[user]!, audio ? { audio } : {});
    open.push(connected);
    return connected;
  };
  const client = async (user: string): Promise<McpTestClient> => {
    const connected = await connectMcp(server.url, server.keys[user], kind);
    open.push(connected);
    return connected;
  };
  beforeAll(async () => {
    server = await startTestServer({ users: USERS, playedGraceMs: TEN_MINUTES_MS });
  });
  afterAll(async () => {
    for (const each of open) await each.close();
    await server.close();
  });

  it('a player that reports audio off: playersListening 0, "Nobody heard it" first, and wait: "played" returns', async () => {
    const tab = await player('off', 'off');
    const agent = await client('off');
    const { text, structured } = await speak(agent, 'Is anyone there?', 'played');
    expect(structured).toMatchObject({ playersReached: 1, playersListening: 0, played: false });
    expect(text).toMatch(/^Nobody heard it: 1 player is open but none has audio on/);
    expect(text).toContain('"Enable audio"');
    expect(text).toContain(`${server.url}/`);
    // It was sent all the same: the player is connected, only nobody hears it.
    await tab.waitFor('speech.end', (m) => m.id === structured.id);
  });

  it('a player that never sends state counts as reached, not listening', async () => {
    await player('silent');
    const { text, structured } = await speak(await client('silent'), 'Hello, older script.', 'played');
    expect(structured).toMatchObject({ playersReached: 1, playersListening: 0, played: false });
    expect(text).toMatch(/^Nobody heard it/);
  });

  it('audio turned off while the agent waits for "played" ends the wait; turned on again, it listens', async () => {
    const tab = await player('onoff', 'on');
    const agent = await client('onoff');
    const call = speak(agent, 'Turn me off halfway.', 'played');
    await tab.waitFor('speech.end');
    await sendState(tab, { audio: 'off' });
    const first = await call;
    // Someone listened when it started, but nobody reported it played.
    expect(first.structured).toMatchObject({ playersReached: 1, playersListening: 1, played: false });
    expect(first.text).not.toMatch(/finished playing/);

    const whileOff = await speak(agent, 'Still off.', 'played');
    expect(whileOff.structured).toMatchObject({ playersListening: 0, played: false });

    await sendState(tab, { audio: 'on' });
    const again = speak(agent, 'On again.', 'played');
    const end = await tab.waitFor(
      'speech.end',
      (m) => tab.received('speech.start', (s) => s.id === m.id && s.text === 'On again.').length > 0,
    );
    tab.send({ type: 'played', id: end.id });
    const second = await again;
    expect(second.structured).toMatchObject({ playersReached: 1, playersListening: 1, played: true });
    expect(second.text).toMatch(/^Spoke 9 characters as \S+ to 1 listening player .*finished playing/);
  });

  it('the last listening player closing ends the wait for "played"', async () => {
    const tab = await player('gone', 'on');
    const call = speak(await client('gone'), 'Going, going, gone.', 'played');
    await tab.waitFor('speech.end');
    await tab.close();
    expect((await call).structured).toMatchObject({ playersListening: 1, played: false });
  });

  it('counts only the players that listen, and waits for them, not for the others', async () => {
    const deaf = await player('mixed', 'off');
    const hearing = await player('mixed', 'on');
    const agent = await client('mixed');
    const call = speak(agent, 'One of you hears me.', 'played');
    const end = await hearing.waitFor('speech.end');
    await deaf.waitFor('speech.end', (m) => m.id === end.id);
    // The deaf player turning off again (and leaving) does not end the wait: one still listens.
    await sendState(deaf, { audio: 'off' });
    await deaf.close();
    hearing.send({ type: 'played', id: end.id });
    const { text, structured } = await call;
    expect(structured).toMatchObject({ playersReached: 2, playersListening: 1, played: true });
    expect(text).toMatch(/to 1 listening player \(of 2 open\)/);
  });

  it('speak_dialogue and replay say so too', async () => {
    await player('dialogue', 'off');
    const agent = await client('dialogue');
    const dialogue = await agent.callTool({
      name: 'speak_dialogue',
      arguments: {
        lines: [
          { voice: 'sally', text: 'Can you hear us?' },
          { voice: 'robert', text: 'Apparently not.' },
        ],
        wait: 'played',
      },
    });
    expect(dialogue.structuredContent).toMatchObject({
      playersReached: 1,
      playersListening: 0,
      played: false,
    });
    expect(textOf(dialogue)).toMatch(/^Nobody heard it: 1 player is open but none has audio on/);

    const { id } = dialogue.structuredContent as { id: string };
    const replayed = await agent.callTool({ name: 'replay', arguments: { id } });
    expect(replayed.isError, textOf(replayed)).toBeFalsy();
    expect(replayed.structuredContent).toMatchObject({ id, playersReached: 1, playersListening: 0 });
    expect(textOf(replayed)).toMatch(/^Nobody heard it/);
  });

  it('ignores a state with an unknown audio value, keeping what the player said before', async () => {
    const tab = await player('junk', 'on');
    await sendState(tab, { audio: 'loud' });
    await sendState(tab, { audio: 'off'.repeat(1000) });
    const { structured } = await speak(await client('junk'), 'Still listening.');
    expect(structured).toMatchObject({ playersReached: 1, playersListening: 1 });
  });
});

describe('REST POST /api/v1/speak', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['rest'], playedGraceMs: TEN_MINUTES_MS });
  });
  afterAll(() => server.close());

  it('reports playersListening 0 and does not wait on a player whose audio is off', async () => {
    const tab = await connectPlayer(server.url, server.keys.rest!, { audio: 'off' });
    const response = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.keys.rest}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Over REST.', wait: 'played' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as SpeakResult;
    expect(body).toMatchObject({ playersReached: 1, playersListening: 0, played: false });
    await tab.close();
  });
});
