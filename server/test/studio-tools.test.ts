import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, textOf, MCP_CLIENT_KINDS, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const KEY = 'studio-upstream-key';

describe.each(MCP_CLIENT_KINDS)(
  'sound effects, transcription and the voice library through the stand-in (%s client)',
  (kind) => {
    let standin: Standin;
    let server: TestServer;
    let client: McpTestClient;
    const call = async (name: string, args: Record<string, unknown>) =>
      await client.callTool({ name, arguments: args });

    beforeAll(async () => {
      standin = await startStandin({ apiKeys: [KEY] });
      server = await startTestServer({
        engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
      });
      client = await connectMcp(server.url, server.keys.alice, kind);
    });
    afterAll(async () => {
      await client.close();
      await server.close();
      await standin.close();
    });

    it('makes a sound effect of the asked length, plays it and keeps it in history', async () => {
      const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
      const result = await call('text_to_sound_effects', {
        text: 'a short success chime',
        duration_seconds: 2,
      });
      expect(result.isError).toBeFalsy();
      const structured = result.structuredContent as {
        id: string;
        durationMs: number;
        credits: number;
        playersReached: number;
        playersListening: number;
      };
      expect(structured.durationMs).toBeGreaterThanOrEqual(1950);
      expect(structured.durationMs).toBeLessThanOrEqual(2050);
      expect(structured).toMatchObject({ playersReached: 1, playersListening: 1 });
      expect(textOf(result)).toMatch(/Played to 1 listening player\./);
      expect(structured.credits).toBeGreaterThan(0);
      const end = await player.waitFor('speech.end', (m) => m.id === structured.id);
      expect(player.audioOf(structured.id).length).toBe(end.bytes);
      expect(result.content.some((part) => part.type === 'resource_link')).toBe(true);
      // This test's request, not one an earlier test made.
      const call2 = standin.requests.findLast((r) => r.path === '/v1/sound-generation');
      expect(call2?.body).toMatchObject({ text: 'a short success chime', duration_seconds: 2 });
      const kept = await fetch(`${server.url}/api/v1/history/${structured.id}`, {
        headers: { authorization: `Bearer ${server.keys.alice}` },
      });
      expect(kept.status).toBe(200);
      expect(await kept.json()).toMatchObject({ id: structured.id, text: 'a short success chime' });

      const quiet = await call('text_to_sound_effects', {
        text: 'a soft click',
        duration_seconds: 1,
        play: false,
        output: 'audio',
      });
      expect((quiet.structuredContent as { playersReached: number }).playersReached).toBe(0);
      expect(quiet.content.find((part) => part.type === 'resource')).toMatchObject({
        resource: {
          uri: `earshot://history/${(quiet.structuredContent as { id: string }).id}`,
          mimeType: 'audio/wav',
        },
      });
      expect(player.messages.some((m) => m.type === 'speech.start' && m.text === 'a soft click')).toBe(false);
      const bad = await call('text_to_sound_effects', { text: 'too long', duration_seconds: 60 });
      expect(bad.isError).toBe(true);
      await player.close();
    });

    it('transcribes speech Earshot generated, with word timings', async () => {
      const text = 'Transcribe this sentence, please.';
      const spoken = await call('text_to_speech', { text });
      const { resourceUri } = spoken.structuredContent as { resourceUri: string };
      const result = await call('speech_to_text', { source: resourceUri });
      expect(result.isError).toBeFalsy();
      const transcript = result.structuredContent as {
        text: string;
        words: { text: string; start: number; end: number }[];
      };
      expect(transcript.text).toBe(text);
      const words = transcript.words.filter((w) => w.text.trim() !== '');
      expect(words.length).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < words.length; i++)
        expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.start);
      const upload = standin.requests.findLast((r) => r.path === '/v1/speech-to-text');
      expect(upload?.apiKey).toBe(KEY);

      expect((await call('speech_to_text', {})).isError).toBe(true);
      expect(
        textOf(
          await call('speech_to_text', { source: resourceUri, audio_base64: 'AAAA', mime_type: 'audio/wav' }),
        ),
      ).toMatch(/exactly one/);
      expect(textOf(await call('speech_to_text', { source: 'earshot://history/sp_nothere' }))).toMatch(
        /No stored audio/,
      );
      expect(textOf(await call('speech_to_text', { audio_base64: 'AAAA' }))).toMatch(/mime_type/);
    });

    it('searches the shared voice library with filters and pages', async () => {
      const result = await call('search_voice_library', { gender: 'female', page_size: 5 });
      expect(result.isError).toBeFalsy();
      const page = result.structuredContent as {
        voices: { gender: string; id: string }[];
        has_more: boolean;
      };
      expect(page.voices.length).toBeGreaterThan(0);
      expect(page.voices.every((v) => v.gender === 'female')).toBe(true);
      // A library voice works directly in speak.
      const spoken = await call('speak', { text: 'From the library.', voice: page.voices[0]!.id });
      expect(spoken.isError).toBeFalsy();
    });

    it('designs voices, plays each preview, and saves the chosen one for speak', async () => {
      // Its audio is off: the previews reach it, and the result says nobody heard them.
      const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'off' });
      const description = 'A calm, low British narrator in his sixties, slow and warm.';
      const designed = await call('design_voice', { description });
      expect(designed.isError).toBeFalsy();
      const { previews } = designed.structuredContent as {
        previews: {
          generated_voice_id: string;
          history_id: string;
          players_reached: number;
          players_listening: number;
        }[];
      };
      expect(previews.length).toBe(3);
      expect(previews.every((p) => p.players_reached === 1 && p.players_listening === 0)).toBe(true);
      expect(textOf(designed)).toMatch(/^Nobody heard it: 1 player is open but none has audio on/);
      const started = player.messages
        .filter((m) => m.type === 'speech.start')
        .map((m) => (m as { voice: { name: string } }).voice.name);
      expect(started).toEqual(['Preview 1', 'Preview 2', 'Preview 3']);

      const saved = await call('save_designed_voice', {
        generated_voice_id: previews[1]!.generated_voice_id,
        name: 'Narrator',
        description,
        make_default: true,
      });
      expect(saved.isError).toBeFalsy();
      const voices = await call('list_voices', { search: 'narrator' });
      expect(
        (voices.structuredContent as { voices: { name: string }[] }).voices.map((v) => v.name),
      ).toContain('Narrator');
      const spoken = await call('speak', { text: 'The default voice is now the narrator.' });
      expect((spoken.structuredContent as { voice: { name: string } }).voice.name).toBe('Narrator');
      await call('update_settings', { default_voice: null });

      const missing = await call('save_designed_voice', {
        generated_voice_id: 'nope',
        name: 'X',
        description,
      });
      expect(missing.isError).toBe(true);
      expect((await call('design_voice', { description: 'too short' })).isError).toBe(true);
      await player.close();
    });

    it('reports upstream failures of each feature as clear tool errors', async () => {
      for (const [name, path, args] of [
        ['text_to_sound_effects', /sound-generation/, { text: 'a bell', play: false }],
        ['search_voice_library', /shared-voices/, {}],
        ['design_voice', /text-to-voice/, { description: 'A bright young voice with lots of energy.' }],
      ] as const) {
        standin.injectFault({ status: 503, path });
        const result = await call(name, args);
        expect(result.isError, name).toBe(true);
        expect(textOf(result), name).toMatch(/server error \(HTTP 503\)/);
      }
      standin.clearFaults();
    });

    it('leaves these out when running offline: not listed, and a call is an unknown tool', async () => {
      const offline = await startTestServer();
      const offlineClient = await connectMcp(offline.url, offline.keys.alice, kind);
      const listed = (await offlineClient.listTools()).tools.map((tool) => tool.name);
      for (const [name, args] of [
        ['text_to_sound_effects', { text: 'beep' }],
        ['speech_to_text', { source: 'earshot://history/sp_x' }],
        ['search_voice_library', {}],
        ['design_voice', { description: 'A voice that cannot be made offline at all.' }],
        [
          'save_designed_voice',
          { generated_voice_id: 'x', name: 'X', description: 'A voice that cannot be made offline.' },
        ],
      ] as const) {
        expect(listed, name).not.toContain(name);
        await expect(offlineClient.callTool({ name, arguments: args }), name).rejects.toThrow(
          new RegExp(`Tool ${name} not found`),
        );
      }
      await offlineClient.close();
      await offline.close();
    });
  },
);

describe('REST additions for the console', () => {
  it('searches the library and replays history over REST', async () => {
    const standin = await startStandin({ apiKeys: [KEY] });
    const server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    const headers = { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' };
    const library = await fetch(`${server.url}/api/v1/library?gender=male&page_size=3`, { headers });
    expect(library.status).toBe(200);
    const body = (await library.json()) as { voices: { gender: string }[]; hasMore: boolean };
    expect(body.voices.length).toBeGreaterThan(0);
    expect(body.voices.every((v) => v.gender === 'male')).toBe(true);
    expect((await fetch(`${server.url}/api/v1/library?page_size=500`, { headers })).status).toBe(400);

    const player = await connectPlayer(server.url, server.keys.alice!);
    const spoken = (await (
      await fetch(`${server.url}/api/v1/speak`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: 'Replay me.' }),
      })
    ).json()) as { id: string };
    const replay = await fetch(`${server.url}/api/v1/history/${spoken.id}/replay`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    expect(replay.status).toBe(200);
    expect((await replay.json()) as { cached: boolean; playersReached: number }).toMatchObject({
      cached: true,
      playersReached: 1,
    });
    expect(
      (
        await fetch(`${server.url}/api/v1/history/sp_none/replay`, {
          method: 'POST',
          headers: { authorization: headers.authorization },
        })
      ).status,
    ).toBe(404);
    await player.close();
    await server.close();
    await standin.close();
  });
});
