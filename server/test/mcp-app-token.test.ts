import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { routeTagOf } from '../src/auth/route-tag.js';
import { InChatSpeeches, MAX_PLAYERS_PER_TOKEN, MAX_TAPES } from '../src/hub/in-chat.js';
import { SpeechTape, type TapeItem } from '../src/hub/speech-tape.js';
import { connectMcp, type McpTestClient } from './support/mcp.js';
import { connectPlayer, playerHandshakeStatus, sendState } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'mcp-app-upstream-key';
const PLAYING_TOOLS = [
  'speak',
  'speak_dialogue',
  'replay',
  'text_to_speech',
  'speech_to_speech',
  'compose_music',
  'isolate_audio',
];

interface InChat {
  speechId: string;
  playerToken: string;
  socketUrl: string;
  autoplay: boolean;
}
const inChatOf = (result: { _meta?: Record<string, unknown> }): InChat =>
  result._meta?.['earshot/player'] as InChat;
const tokenProtocols = (token: string) => ['earshot.v1', `speech-token.${token}`];

describe('the MCP Apps player: resource, tool metadata and speech tokens', () => {
  let standin: Standin;
  let server: TestServer;
  let client: McpTestClient;

  beforeAll(async () => {
    // Paced like the real API, so a speech is still streaming while the test acts on it.
    standin = await startStandin({
      apiKeys: [UPSTREAM_KEY],
      pacing: { firstByteLatencyMs: 50, realtimeFactor: 2 },
    });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    client = await connectMcp(server.url, server.keys.alice);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await standin?.close();
  });

  it('links the four playing tools to ui://earshot/player and serves it with its CSP', async () => {
    const { tools } = await client.listTools();
    for (const name of PLAYING_TOOLS) {
      const tool = tools.find((candidate) => candidate.name === name);
      expect((tool?._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri, name).toBe(
        'ui://earshot/player',
      );
    }
    expect(tools.find((tool) => tool.name === 'list_voices')?._meta?.ui).toBeUndefined();
    const { resources } = await client.listResources();
    expect(resources.find((resource) => resource.uri === 'ui://earshot/player')?.mimeType).toBe(
      'text/html;profile=mcp-app',
    );
    const read = await client.readResource({ uri: 'ui://earshot/player' });
    const content = read.contents[0] as { mimeType: string; text: string; _meta?: Record<string, unknown> };
    expect(content.mimeType).toBe('text/html;profile=mcp-app');
    expect(content.text).toMatch(/^<!doctype html>/i);
    // Self-contained: the script is inline, nothing is loaded from beside it.
    expect(content.text).toContain('<script type="module">');
    expect(content.text).not.toMatch(/<script[^>]+src=/);
    const csp = (content._meta?.ui as { csp?: { connectDomains?: string[] } }).csp;
    const origin = new URL(server.url).origin;
    expect(csp?.connectDomains).toEqual([origin, origin.replace(/^http/, 'ws')]);
  });

  it('plays one speech to its token, from the start, and nothing else', async () => {
    const a = await client.callTool({
      name: 'speak',
      arguments: { text: 'The first speech, for the chat.' },
    });
    const tokenA = inChatOf(a);
    expect(tokenA.speechId).toBe((a.structuredContent as { id: string }).id);
    // alice's route tag in front: behind the AWS proxy the in-chat player reaches the task holding the speech.
    expect(tokenA.playerToken.startsWith(`est_${routeTagOf('alice')}.`)).toBe(true);
    expect(tokenA.socketUrl).toBe(`${server.url.replace(/^http/, 'ws')}/ws`);
    // The token is for the app, not the model: it is nowhere in what the model reads.
    expect(JSON.stringify([a.content, a.structuredContent])).not.toContain(tokenA.playerToken);
    // Nobody listened yet; the text still leads with that, and says where the speech can play.
    const said = (a.content[0] as { text: string }).text;
    expect(said).toMatch(/^Nobody heard it: no Earshot player is open/);
    expect(said).toMatch(
      /Earshot player under this call .* it plays there instead; the user may have to press Play\.$/,
    );
    const b = await client.callTool({
      name: 'speak',
      arguments: { text: 'The second speech, for the chat.' },
    });
    const idB = inChatOf(b).speechId;

    const player = await connectPlayer(server.url, '', {
      protocols: tokenProtocols(tokenA.playerToken),
      origin: 'null',
      accept: ['audio/ogg; codecs=opus'],
      audio: 'on',
    });
    const end = await player.waitFor('speech.end');
    expect(end.id).toBe(tokenA.speechId);
    expect(player.audioOf(tokenA.speechId).byteLength).toBe(end.bytes);
    expect(end.bytes).toBeGreaterThan(0);
    expect(player.received('speech.start').map((start) => start.id)).toEqual([tokenA.speechId]);
    // A third speech while the token player is open never reaches it.
    await client.callTool({ name: 'speak', arguments: { text: 'A third speech, not for that player.' } });
    await sendState(player, { audio: 'on' });
    expect(player.messages.map((m) => ('id' in m ? m.id : m.type))).not.toContain(idB);
    expect(player.received('speech.start')).toHaveLength(1);
    await player.close();
  });

  it('refuses the token for REST, MCP, and once it is replaced; refuses made-up tokens', async () => {
    const result = await client.callTool({ name: 'speak', arguments: { text: 'Token scope check.' } });
    const { playerToken, speechId } = inChatOf(result);
    const rest = await fetch(`${server.url}/api/v1/history`, {
      headers: { authorization: `Bearer ${playerToken}` },
    });
    expect(rest.status).toBe(401);
    const mcp = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${playerToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(mcp.status).toBe(401);
    expect(await playerHandshakeStatus(server.url, tokenProtocols('x'.repeat(43)), 'null')).toBe(401);
    expect(await playerHandshakeStatus(server.url, tokenProtocols(playerToken), 'null')).toBe(101);
    // A new token for the speech replaces the old one.
    server.running.hub.inChat.issue('alice', speechId);
    expect(await playerHandshakeStatus(server.url, tokenProtocols(playerToken), 'null')).toBe(401);
    // The key path keeps its Origin check: only the token is accepted from any origin.
    expect(
      await playerHandshakeStatus(
        server.url,
        ['earshot.v1', `bearer.${Buffer.from(server.keys.alice!).toString('base64url')}`],
        'null',
      ),
    ).toBe(403);
  });

  it("a token's stop stops its own speech only, and its audio-on player counts as listening", async () => {
    const first = await client.callTool({ name: 'speak', arguments: { text: 'Short one.' } });
    const token = inChatOf(first);
    const inChat = await connectPlayer(server.url, '', {
      protocols: tokenProtocols(token.playerToken),
      origin: 'null',
      audio: 'on',
    });
    expect(server.running.hub.listeningCount('alice')).toBe(1);
    const console1 = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const long = 'This one is long enough to still be streaming when the other player presses stop. '.repeat(
      3,
    );
    const call = client.callTool({ name: 'speak', arguments: { text: long } });
    const started = await console1.waitFor('speech.start');
    inChat.send({ type: 'stop' });
    await sendState(inChat, { audio: 'on' });
    const result = (await call).structuredContent as { status: string; playersListening: number };
    expect(result.status).toBe('completed');
    expect(console1.received('speech.end', (end) => end.id === started.id)).toHaveLength(1);
    expect(result.playersListening).toBe(1);
    await sendState(inChat, { audio: 'off' });
    expect(server.running.hub.listeningCount('alice')).toBe(1);
    await inChat.close();
    await console1.close();
  });

  it('text_to_speech gives a token that waits for a click (autoplay false)', async () => {
    const result = await client.callTool({
      name: 'text_to_speech',
      arguments: { text: 'Made, not played.' },
    });
    expect(inChatOf(result).autoplay).toBe(false);
  });
});

describe('in-chat speeches are bounded', () => {
  it('opens a speech until the token expires, then never again', () => {
    let now = 1_000;
    const speeches = new InChatSpeeches(() => now, 60_000);
    speeches.record('alice', 'sp_a');
    expect(speeches.issue('bob', 'sp_a')).toBeNull();
    const issued = speeches.issue('alice', 'sp_a')!;
    expect(speeches.open(issued.token)?.speechId).toBe('sp_a');
    now += 60_001;
    expect(speeches.open(issued.token)).toBeNull();
    expect(speeches.issue('alice', 'sp_a')).toBeNull();
  });
});

describe('in-chat speeches: seats, eviction and long speeches', () => {
  it('seats at most MAX_PLAYERS_PER_TOKEN players per token, and frees a seat on release', () => {
    const speeches = new InChatSpeeches();
    speeches.record('alice', 'sp_a');
    const { token } = speeches.issue('alice', 'sp_a')!;
    const grants = Array.from({ length: MAX_PLAYERS_PER_TOKEN }, () => speeches.open(token));
    expect(grants.every((grant) => grant !== null)).toBe(true);
    expect(speeches.open(token)).toBeNull();
    grants[0]!.setListening(true);
    expect(speeches.listening('alice')).toBe(1);
    grants[0]!.release();
    expect(speeches.listening('alice')).toBe(0);
    expect(speeches.open(token)).not.toBeNull();
  });

  it('keeps the latest MAX_TAPES speeches: the oldest token stops working', () => {
    const speeches = new InChatSpeeches();
    speeches.record('alice', 'sp_0');
    const { token } = speeches.issue('alice', 'sp_0')!;
    for (let i = 1; i <= MAX_TAPES; i++) speeches.record('alice', `sp_${i}`);
    expect(speeches.open(token)).toBeNull();
  });

  it('cuts a speech longer than the tape, and ends it with an error instead of speech.end', () => {
    const tape = new SpeechTape('sp_long', 10);
    const voice = { id: 'v', name: 'V' };
    tape.message({
      type: 'speech.start',
      id: 'sp_long',
      text: 't',
      voice,
      source: 'mcp',
      audio: { mimeType: 'audio/pcm' },
    });
    tape.audio(new Uint8Array(8));
    tape.audio(new Uint8Array(8));
    tape.audio(new Uint8Array(1));
    tape.message({ type: 'speech.end', id: 'sp_long', durationMs: 1, bytes: 17 });
    const items: TapeItem[] = [];
    tape.follow((item) => items.push(item));
    expect(items.map((item) => (item.kind === 'audio' ? item.chunk.byteLength : item.message.type))).toEqual([
      'speech.start',
      8,
      'speech.error',
    ]);
  });
});
