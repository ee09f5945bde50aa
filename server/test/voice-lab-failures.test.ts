import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, textOf, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const KEY = 'voice-lab-failures-key';

describe('voice lab tools (and isolate_audio): the budget, upstream failures, offline, older clients', () => {
  let standin: Standin;
  let server: TestServer;
  let client: McpTestClient;
  const call = async (name: string, args: Record<string, unknown>, as = client) =>
    await as.callTool({ name, arguments: args });
  const clip = async (text: string) =>
    ((await call('text_to_speech', { text, fresh: true })).structuredContent as { resourceUri: string })
      .resourceUri;
  const todayUsed = async () =>
    ((await call('get_usage', {})).structuredContent as { today: { characters: number } }).today.characters;
  const upstream = (path: RegExp) => standin.requests.filter((r) => path.test(r.path)).length;

  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [KEY] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    client = await connectMcp(server.url, server.keys.alice, 'modern');
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await standin.close();
  });

  it('refuses re-voicing and music over the daily budget before calling ElevenLabs', async () => {
    const source = await clip('A clip of about two seconds to re-voice.');
    const used = await todayUsed();
    // Room for 10 more: a two-second clip is booked at 34, a 10-minute piece at 10,000.
    expect((await call('update_settings', { daily_char_limit: used + 10 })).isError).toBeFalsy();
    try {
      const before = upstream(/speech-to-speech|music|audio-isolation/);
      const revoice = await call('speech_to_speech', { source });
      expect(revoice.isError).toBe(true);
      expect(textOf(revoice)).toMatch(/today's budget .*\[quota_exceeded\]$/);
      const music = await call('compose_music', { prompt: 'an epic score', length_ms: 600_000 });
      expect(textOf(music)).toMatch(/\[quota_exceeded\]$/);
      const isolate = await call('isolate_audio', { source });
      expect(textOf(isolate)).toMatch(/\[quota_exceeded\]$/);
      expect(upstream(/speech-to-speech|music|audio-isolation/)).toBe(before);
      expect(await todayUsed()).toBe(used);
    } finally {
      await call('update_settings', { daily_char_limit: null });
    }
  });

  it('turns 429, a 401 quota answer and 5xx into clear errors and gives the booking back', async () => {
    const source = await clip('Something to re-voice while ElevenLabs is busy.');
    const used = await todayUsed();
    standin.injectFault({ status: 429, path: /speech-to-speech/ });
    const busy = await call('speech_to_speech', { source });
    expect(textOf(busy)).toMatch(/429 .*\[upstream_busy\]$/);

    standin.injectFault({
      status: 401,
      path: /music/,
      body: { detail: { status: 'quota_exceeded', message: 'This request exceeds your quota.' } },
    });
    const broke = await call('compose_music', { prompt: 'a jingle', length_ms: 3000 });
    expect(textOf(broke)).toMatch(/no credits left.*\[quota_exceeded\]$/);

    standin.injectFault({ status: 503, path: /voices\/add/ });
    const clone = await call('voice_clone', { sources: [source], name: 'Down' });
    expect(textOf(clone)).toMatch(/server error \(HTTP 503\).*\[upstream_busy\]$/);
    // Refused upstream: nothing was spent, so nothing stays booked.
    expect(await todayUsed()).toBe(used);
  });

  it('reports music cut off mid-stream as interrupted, and tells the players', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    standin.injectFault({ kind: 'reset', afterBytes: 3000, path: /music/ });
    const result = await call('compose_music', { prompt: 'a long ambient drone', length_ms: 20_000 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/broke off.*\[upstream_interrupted\]$/);
    const start = await player.waitFor('speech.start', (m) => m.text === 'a long ambient drone');
    await player.waitFor('speech.error', (m) => m.id === start.id);
    await player.close();
  });

  it('serves the same tools to a 2025-revision client', async () => {
    const legacy = await connectMcp(server.url, server.keys.alice, 'legacy');
    const names = (await legacy.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['voice_clone', 'speech_to_speech', 'compose_music']));
    const music = await call('compose_music', { prompt: 'a short fanfare', length_ms: 3000 }, legacy);
    expect(music.isError, textOf(music)).toBeFalsy();
    expect(music.structuredContent).toMatchObject({ status: 'completed', playersReached: 0 });
    expect(textOf(music)).toMatch(/^Nobody heard it:/);
    await legacy.close();
  });

  it('leaves them out when running offline: not listed, not callable', async () => {
    const offline = await startTestServer();
    const offlineClient = await connectMcp(offline.url, offline.keys.alice, 'modern');
    const names = (await offlineClient.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('speak');
    for (const [name, args] of [
      ['voice_clone', { sources: ['sp_x'], name: 'X' }],
      ['speech_to_speech', { source: 'sp_x' }],
      ['compose_music', { prompt: 'a tune' }],
      ['isolate_audio', { source: 'sp_x' }],
    ] as const) {
      expect(names).not.toContain(name);
      await expect(offlineClient.callTool({ name, arguments: args })).rejects.toThrow(/not found/);
    }
    await offlineClient.close();
    await offline.close();
  });

  it('refuses files when EARSHOT_INPUT_DIRS is not set', async () => {
    const off = await call('speech_to_speech', { input_path: '/etc/hostname' });
    expect(textOf(off)).toMatch(/EARSHOT_INPUT_DIRS.*\[input_dirs_off\]$/);
    const clone = await call('voice_clone', { input_paths: ['/tmp/a.wav'], name: 'X' });
    expect(textOf(clone)).toMatch(/\[input_dirs_off\]$/);
    expect(textOf(await call('speech_to_speech', {}))).toMatch(/exactly one of source .* or input_path/);
  });
});
