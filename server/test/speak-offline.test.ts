import { FliteSynthesizer, OggOpusDecoder, splitIntoSentences } from '@earshot/flite';
import { OGG_OPUS } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, MCP_CLIENT_KINDS, textOf } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const TEXT = 'The build finished. All two hundred tests passed. I am ready for the next task.';

describe('speak with the offline engine, end to end', () => {
  let server: TestServer;
  beforeAll(async () => {
    // carol is the settings test's own (the voice and speed it sets must not reach other tests); dave is the
    // bad-input test's (its usage and history must hold nothing from other tests).
    server = await startTestServer({ users: ['alice', 'bob', 'carol', 'dave'] });
  });
  afterAll(() => server.close());

  it('lists the tools it can serve (none that needs ElevenLabs) with honest annotations', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'delete_history_item',
        'get_settings',
        'get_usage',
        'get_voice',
        'list_history',
        'list_models',
        'list_voices',
        'replay',
        'search_voices',
        'speak',
        'speak_dialogue',
        'stop_speaking',
        'text_to_speech',
        'update_settings',
      ].sort(),
    );
    expect(byName.speak?.annotations?.readOnlyHint).toBe(false);
    expect(byName.speak?.annotations?.openWorldHint).toBe(true);
    expect(byName.speak?.description).toMatch(/credit/i);
    expect(byName.list_voices?.annotations?.readOnlyHint).toBe(true);
    expect(byName.speak?.outputSchema).toBeDefined();
    await client.close();
  });

  it('streams Ogg Opus to a default player and PCM to one that takes only PCM: start, frames as generated, end, the right length, both downloads', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const pcmPlayer = await connectPlayer(server.url, server.keys.alice!, { accept: ['audio/pcm'] });
    await player.waitFor('hello');
    const client = await connectMcp(server.url, server.keys.alice);
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: TEXT, voice: 'robert' },
    });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as {
      id: string;
      playersReached: number;
      durationMs: number;
      characters: number;
      audioUrl: string;
    };
    expect(structured.playersReached).toBe(2);
    expect(structured.characters).toBe(TEXT.length);

    const start = await player.waitFor('speech.start', (m) => m.id === structured.id);
    const end = await player.waitFor('speech.end', (m) => m.id === structured.id);
    expect(start.text).toBe(TEXT);
    expect(start.voice.name).toBe('Robert');
    expect(start.audio).toEqual({ mimeType: OGG_OPUS, sampleRate: 16_000, channels: 1 });

    const frames = player.frames.filter((frame) => frame.at > start.at && frame.at < end.at);
    expect(frames.length).toBeGreaterThan(3);
    const opus = player.audioOf(structured.id);
    expect(opus.length).toBe(end.bytes);
    expect(opus.subarray(0, 4).toString('ascii')).toBe('OggS');
    expect(structured.durationMs).toBe(end.durationMs);

    // The same text through Flite directly, sentence by sentence, is what the Opus decodes to: each sentence is
    // encoded on its own (on whichever worker is free) and keeps under 27 ms of encoder look-ahead and padding.
    const flite = new FliteSynthesizer();
    let expected = 0;
    for (const sentence of splitIntoSentences(TEXT))
      expected += (await flite.synthesize(sentence, { voice: 'rms' })).pcm.length;
    await flite.close();
    const decoder = new OggOpusDecoder(16_000);
    const decoded = Buffer.concat(decoder.push(opus));
    decoder.close();
    const sentences = splitIntoSentences(TEXT).length;
    expect(decoded.length).toBeGreaterThanOrEqual(expected);
    expect(decoded.length - expected).toBeLessThanOrEqual(sentences * 2 * (104 + 320));
    expect(end.durationMs).toBe(Math.round((decoded.length / 2 / 16_000) * 1000));
    // Compressed: Opus at 24 kbit/s, against 256 kbit/s of 16 kHz PCM.
    expect((opus.length * 8) / (end.durationMs / 1000)).toBeLessThan(40_000);

    // The PCM-only player got the same speech decoded once on the server, at 24 kHz, in step with the same timings.
    const pcmStart = await pcmPlayer.waitFor('speech.start', (m) => m.id === structured.id);
    const pcmEnd = await pcmPlayer.waitFor('speech.end', (m) => m.id === structured.id);
    expect(pcmStart.audio).toEqual({ mimeType: 'audio/pcm', sampleRate: 24_000, channels: 1 });
    const audio = pcmPlayer.audioOf(structured.id);
    expect(audio.length).toBe(pcmEnd.bytes);
    expect(audio.length).toBe(decoded.length * 1.5);
    expect(pcmEnd.durationMs).toBe(end.durationMs);

    // Estimated character timings, sentence by sentence, within the audio, the same for both players.
    const alignments = player.received('speech.alignment', (m) => m.id === structured.id);
    expect(alignments).toHaveLength(3);
    expect(alignments.map((a) => a.chars.join('').trim()).join(' ')).toBe(TEXT);
    expect(alignments[2]!.startMs[0]!).toBeGreaterThan(0);
    expect(alignments[2]!.startMs.at(-1)!).toBeLessThan(end.durationMs);
    expect(pcmPlayer.received('speech.alignment', (m) => m.id === structured.id)).toEqual(
      alignments.map((a) => ({ ...a, at: expect.any(Number) as number })),
    );

    // Real speech, not silence.
    const samples = new Int16Array(audio.buffer, audio.byteOffset, audio.length / 2);
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    expect(rms).toBeGreaterThan(300);

    // The stored copy downloads as the Ogg Opus the player got, and as a WAV of the same length.
    const headers = { authorization: `Bearer ${server.keys.alice}` };
    const stored = await fetch(structured.audioUrl, { headers });
    expect(stored.status).toBe(200);
    expect(stored.headers.get('content-type')).toBe(OGG_OPUS);
    expect(stored.headers.get('content-disposition')).toContain('.opus');
    const storedBytes = Buffer.from(await stored.arrayBuffer());
    expect(Number(stored.headers.get('content-length'))).toBe(storedBytes.length);
    expect(storedBytes.equals(opus)).toBe(true);
    const download = await fetch(`${structured.audioUrl}?format=wav`, { headers });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await download.arrayBuffer());
    expect(Number(download.headers.get('content-length'))).toBe(wav.length);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16_000);
    expect(wav.readUInt32LE(40)).toBe(decoded.length);
    expect(wav.subarray(44).equals(decoded)).toBe(true);
    const refused = await fetch(`${structured.audioUrl}?format=mp3`, { headers });
    expect(refused.status).toBe(400);

    await client.close();
    await player.close();
    await pcmPlayer.close();
  });

  it('with no player open, still succeeds and tells the agent where the player page is', async () => {
    const client = await connectMcp(server.url, server.keys.bob);
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: 'Nobody is listening.' },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain(`${server.url}/`);
    expect(textOf(result)).toMatch(/^Nobody heard it: no Earshot player is open/);
    expect(result.structuredContent).toMatchObject({ playersReached: 0, playersListening: 0 });
    await client.close();
  });

  it.each(MCP_CLIENT_KINDS)(
    'reports MCP progress while a long text is generated (%s client)',
    async (kind) => {
      const client = await connectMcp(server.url, server.keys.bob, kind);
      const progress: number[] = [];
      const long = Array.from(
        { length: 8 },
        (_, i) => `This is sentence number ${i + 1} of a longer report.`,
      ).join(' ');
      const result = await client.callTool(
        { name: 'speak', arguments: { text: long } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(result.isError).toBeFalsy();
      expect(progress.length).toBeGreaterThan(0);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
      await client.close();
    },
  );

  it('waits until the player reports played when asked', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const client = await connectMcp(server.url, server.keys.alice);
    let returned = false;
    const call = client
      .callTool({
        name: 'speak',
        arguments: { text: 'Wait for me.', wait: 'played' },
      })
      .finally(() => (returned = true));
    const start = await player.waitFor('speech.start', (m) => m.text === 'Wait for me.');
    const end = await player.waitFor('speech.end', (m) => m.id === start.id);
    // The next speech of the same user can only start once this one is done: when it has been generated and
    // returned, the first call has had every chance to return too, and must still be waiting for "played".
    const next = await client.callTool({
      name: 'speak',
      arguments: { text: 'Generated while the first waits.' },
    });
    expect(next.isError).toBeFalsy();
    expect(returned).toBe(false);
    player.send({ type: 'played', id: end.id });
    const structured = (await call).structuredContent as { played: boolean; id: string };
    expect(structured.id).toBe(end.id);
    expect(structured.played).toBe(true);
    expect(textOf(await call)).toMatch(/finished playing/);
    await client.close();
    await player.close();
  });

  it('rejects bad input with clear tool errors and spends nothing', async () => {
    const client = await connectMcp(server.url, server.keys.dave);
    const empty = await client.callTool({ name: 'speak', arguments: { text: '   ' } });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/empty/);
    const unknown = await client.callTool({
      name: 'speak',
      arguments: { text: 'Hi', voice: 'Sallie' },
    });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/No voice is called "Sallie"\. Closest: "Sally"/);
    const tooLong = await client.callTool({
      name: 'speak',
      arguments: { text: 'a'.repeat(5001) },
    });
    expect(tooLong.isError).toBe(true);
    expect(textOf(tooLong)).toMatch(/5001 characters/);
    const badModel = await client.callTool({
      name: 'speak',
      arguments: { text: 'Hi', model: 'eleven_v3' },
    });
    expect(badModel.isError).toBe(true);
    const badSettings = await client.callTool({
      name: 'speak',
      arguments: { text: 'Hi', settings: { speed: 3 } },
    });
    expect(badSettings.isError).toBe(true);
    const get = async <T>(path: string): Promise<T> =>
      (await (
        await fetch(`${server.url}/api/v1${path}`, {
          headers: { authorization: `Bearer ${server.keys.dave}` },
        })
      ).json()) as T;
    expect((await get<{ items: unknown[] }>('/history')).items).toEqual([]);
    // Usage is written in the background, in order: once a good speech is counted, anything the bad ones
    // had spent would be counted too.
    const good = 'Counted.';
    expect((await client.callTool({ name: 'speak', arguments: { text: good } })).isError).toBeFalsy();
    const charactersToday = async () =>
      (await get<{ today: { characters: number } }>('/usage?days=1')).today.characters;
    await expect.poll(charactersToday).toBeGreaterThanOrEqual(good.length);
    expect(await charactersToday()).toBe(good.length);
    await client.close();
  });

  it('saves settings, pushes them to players, and uses the default voice', async () => {
    const player = await connectPlayer(server.url, server.keys.carol!);
    const client = await connectMcp(server.url, server.keys.carol);
    const updated = await client.callTool({
      name: 'update_settings',
      arguments: { default_voice: 'alan', voice_settings: { speed: 1.1 } },
    });
    expect(updated.isError).toBeFalsy();
    expect(updated.structuredContent).toMatchObject({ default_voice: 'awb', voice_settings: { speed: 1.1 } });
    const pushed = await player.waitFor('settings.changed');
    expect(pushed.settings.defaultVoice).toBe('awb');
    const got = await client.callTool({ name: 'get_settings', arguments: {} });
    expect(got.structuredContent).toMatchObject({ default_voice: 'awb' });
    const spoken = await client.callTool({
      name: 'speak',
      arguments: { text: 'Default voice now.' },
    });
    expect((spoken.structuredContent as { voice: { name: string } }).voice.name).toBe('Alan');
    const nothing = await client.callTool({ name: 'update_settings', arguments: {} });
    expect(nothing.isError).toBe(true);
    await client.close();
    await player.close();
  });

  it('sends log messages at the level a 2025 client set (kept across stateless requests)', async () => {
    const client = await connectMcp(server.url, server.keys.bob, 'legacy');
    const messages: { level: string; data: unknown }[] = [];
    client.onLogMessage((params) => void messages.push(params));
    await client.callTool({ name: 'speak', arguments: { text: 'Logged once.' } });
    expect(messages).toEqual([]);
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'speak', arguments: { text: 'Logged once.' } });
    expect(messages.map((m) => m.level)).toEqual(['info']);
    expect(String(messages[0]!.data)).toMatch(/replaying it, 0 credits/);
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'speak', arguments: { text: 'Logged once.' } });
    expect(messages.map((m) => m.level)).toEqual(['info', 'info', 'debug']);
    await client.close();
  });

  it('sends a 2026-07-28 client log messages only at the level named in that request', async () => {
    const client = await connectMcp(server.url, server.keys.bob, 'modern');
    const messages: { level: string; data: unknown }[] = [];
    client.onLogMessage((params) => void messages.push(params));
    const speak = (level?: string) =>
      client.callTool({
        name: 'speak',
        arguments: { text: 'Logged per request.' },
        ...(level && { _meta: { 'io.modelcontextprotocol/logLevel': level } }),
      });
    await speak();
    await speak();
    expect(messages).toEqual([]);
    await speak('info');
    expect(messages.map((m) => m.level)).toEqual(['info']);
    expect(String(messages[0]!.data)).toMatch(/replaying it, 0 credits/);
    // No level named: none sent, whatever an earlier request asked for.
    await speak();
    expect(messages).toHaveLength(1);
    await client.close();
  });

  it('lists voices with search, and models', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const voices = await client.callTool({
      name: 'list_voices',
      arguments: { search: 'scottish male' },
    });
    expect((voices.structuredContent as { voices: { name: string }[] }).voices.map((v) => v.name)).toEqual([
      'Alan',
    ]);
    const models = await client.callTool({ name: 'list_models', arguments: {} });
    expect(textOf(models)).toMatch(/flite/);
    await client.close();
  });

  it('stop_speaking stops the current speech and players get speech.stopped', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    const long = Array.from(
      { length: 40 },
      (_, i) => `Line ${i + 1} of a very long reading that nobody wants to hear.`,
    ).join(' ');
    const speaking = client.callTool({ name: 'speak', arguments: { text: long } });
    const start = await player.waitFor('speech.start', (m) => m.text === long);
    const stop = await client.callTool({ name: 'stop_speaking', arguments: {} });
    expect((stop.structuredContent as { stopped: number }).stopped).toBe(1);
    await player.waitFor('speech.stopped', (m) => m.id === start.id);
    const result = await speaking;
    expect((result.structuredContent as { status: string }).status).toBe('stopped');
    expect(player.messages.some((m) => m.type === 'speech.end' && m.id === start.id)).toBe(false);
    await client.close();
    await player.close();
  });
});
