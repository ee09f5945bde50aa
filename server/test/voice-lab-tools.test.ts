import { OGG_OPUS } from '@earshot/protocol';
import type { Standin } from '@earshot/elevenlabs-standin';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, textOf, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startWithStandin, type TestServer } from './support/server.js';

const KEY = 'voice-lab-upstream-key';

type Played = {
  id: string;
  credits: number;
  durationMs: number;
  playersReached: number;
  playersListening: number;
  audioUrl: string | null;
  resourceUri: string;
};

describe('voice_clone, speech_to_speech and compose_music through the stand-in', () => {
  let standin: Standin;
  let server: TestServer;
  let client: McpTestClient;
  let bob: McpTestClient;
  let inputDir: string;
  /** A WAV file of stored speech, written into the input folder. */
  const wavFile = async (name: string, text: string) => {
    const uri = await clip(text);
    const id = uri.split('/').at(-1)!;
    const wav = await fetch(`${server.url}/api/v1/history/${id}/audio?format=wav`, { headers: auth() });
    await writeFile(join(inputDir, name), Buffer.from(await wav.arrayBuffer()));
    return name;
  };
  const call = async (name: string, args: Record<string, unknown>, as = client) =>
    await as.callTool({ name, arguments: args });
  const auth = () => ({ authorization: `Bearer ${server.keys.alice}` });
  /** A stored clip of alice's (text_to_speech keeps its audio). */
  const clip = async (text: string, as = client) =>
    (
      (await call('text_to_speech', { text, fresh: true }, as)).structuredContent as {
        resourceUri: string;
        id: string;
      }
    ).resourceUri;

  beforeAll(async () => {
    inputDir = await mkdtemp(join(tmpdir(), 'earshot-voice-lab-input-'));
    ({ standin, server } = await startWithStandin(KEY, { env: { EARSHOT_INPUT_DIRS: inputDir } }));
    client = await connectMcp(server.url, server.keys.alice, 'modern');
    bob = await connectMcp(server.url, server.keys.bob, 'modern');
  });
  afterAll(async () => {
    await client.close();
    await bob.close();
    await server.close();
    await standin.close();
    await rm(inputDir, { recursive: true, force: true });
  });

  it('re-voices stored speech in another voice, streams it to the players and keeps it', async () => {
    const text = 'Say this again in another voice.';
    const source = await clip(text);
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const result = await call('speech_to_speech', { source, voice: 'Rachel', settings: { stability: 0.3 } });
    expect(result.isError, textOf(result)).toBeFalsy();
    const played = result.structuredContent as Played & { voice: { name: string } };
    expect(played).toMatchObject({ playersReached: 1, playersListening: 1, voice: { name: 'Rachel' } });
    expect(played.credits).toBeGreaterThan(0);
    expect(textOf(result)).toMatch(/^Re-voiced .* as Rachel and played it to 1 listening player/);
    // The in-chat player (MCP Apps) gets a token for this speech in _meta, not in what the model reads.
    expect(result._meta?.['earshot/player']).toMatchObject({ speechId: played.id, autoplay: true });
    const start = await player.waitFor('speech.start', (m) => m.id === played.id);
    expect(start.audio.mimeType).toBe(OGG_OPUS);
    const end = await player.waitFor('speech.end', (m) => m.id === played.id);
    expect(player.audioOf(played.id).length).toBe(end.bytes);

    const upload = standin.requests.findLast((r) => r.path.startsWith('/v1/speech-to-speech/'));
    expect(upload?.path).toBe('/v1/speech-to-speech/21m00Tcm4TlvDq8ikWAM/stream');
    expect(upload?.query).toMatchObject({ output_format: 'opus_48000_32' });
    expect(upload?.body).toMatchObject({
      model_id: 'eleven_multilingual_sts_v2',
      voice_settings: JSON.stringify({ stability: 0.3 }),
      parts: [{ field: 'audio', type: 'audio/ogg' }],
    });
    // Kept and downloadable; the stand-in re-speaks what the source said, so its transcript is the text.
    const audio = await fetch(played.audioUrl!, { headers: auth() });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toMatch(/^audio\/ogg/);
    const heard = await call('speech_to_text', { source: played.resourceUri });
    expect((heard.structuredContent as { text: string }).text).toBe(text);
    await player.close();
  });

  it('says first that nobody heard it when no player listens', async () => {
    const source = await clip('Nobody is listening to this one.');
    const result = await call('speech_to_speech', { source, model: 'eleven_english_sts_v2' });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(textOf(result)).toMatch(/^Nobody heard it: no Earshot player is open/);
    expect((result.structuredContent as Played).playersReached).toBe(0);
  });

  it('refuses bad sources and voices before anything is spent', async () => {
    const bobs = await clip('This clip is Bob’s, not Alice’s.', bob);
    const fine = await clip('Fine source.');
    const revoiced = () => standin.requests.filter((r) => r.path.startsWith('/v1/speech-to-speech/')).length;
    const before = revoiced();
    for (const [args, pattern] of [
      [{ source: bobs }, /No stored audio .*\[not_found\]/],
      [{ source: 'earshot://history/sp_nothere' }, /\[not_found\]/],
      [{ source: '../../etc/passwd' }, /\[invalid_input\]/],
      [{ source: fine, voice: 'No Such Voice' }, /\[unknown_voice\]/],
      [{ source: fine, model: 'eleven_flash_v2_5' }, /model/],
    ] as const) {
      const result = await call('speech_to_speech', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(result)).toMatch(pattern);
    }
    expect(revoiced()).toBe(before);
  });

  it('composes music of the asked length, streamed to the players and kept in history', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const result = await call('compose_music', {
      prompt: 'a calm lo-fi loop with soft piano',
      length_ms: 3000,
      force_instrumental: true,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const played = result.structuredContent as Played;
    expect(played).toMatchObject({ playersReached: 1, playersListening: 1 });
    expect(played.durationMs).toBeGreaterThanOrEqual(2900);
    expect(played.durationMs).toBeLessThanOrEqual(3100);
    const end = await player.waitFor('speech.end', (m) => m.id === played.id);
    expect(player.audioOf(played.id).length).toBe(end.bytes);
    const request = standin.requests.findLast((r) => r.path === '/v1/music/stream');
    expect(request?.query).toMatchObject({ output_format: 'opus_48000_32' });
    expect(request?.body).toEqual({
      prompt: 'a calm lo-fi loop with soft piano',
      music_length_ms: 3000,
      force_instrumental: true,
    });
    const item = await fetch(`${server.url}/api/v1/history/${played.id}`, { headers: auth() });
    expect(await item.json()).toMatchObject({
      text: 'a calm lo-fi loop with soft piano',
      voice: { name: 'Music' },
    });
    expect((await fetch(played.audioUrl!, { headers: auth() })).status).toBe(200);

    // wait: "played" returns once the listening player says it finished.
    const waiting = call('compose_music', { prompt: 'a two-note doorbell', length_ms: 3000, wait: 'played' });
    const started = await player.waitFor('speech.start', (m) => m.text === 'a two-note doorbell');
    const ended = await player.waitFor('speech.end', (m) => m.id === started.id);
    player.send({ type: 'played', id: ended.id });
    expect((await waiting).structuredContent).toMatchObject({ played: true, playersListening: 1 });

    for (const args of [
      { prompt: '   ' },
      { prompt: 'short', length_ms: 1000 },
      { prompt: 'x'.repeat(2001) },
    ]) {
      expect((await call('compose_music', args)).isError, JSON.stringify(args).slice(0, 40)).toBe(true);
    }
    await player.close();
  });

  it('clones a voice from history clips; list_voices shows it and it becomes the default', async () => {
    const sources = [await clip('First sample of my voice.'), await clip('Second sample of my voice.')];
    const result = await call('voice_clone', {
      sources,
      name: 'My Clone',
      description: 'Cloned from two clips.',
      labels: { accent: 'british', gender: 'female' },
      remove_background_noise: true,
      make_default: true,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const made = result.structuredContent as { voice_id: string; name: string; is_default: boolean };
    expect(made).toMatchObject({ name: 'My Clone', is_default: true, samples: 2 });
    const request = standin.requests.findLast((r) => r.path === '/v1/voices/add');
    expect(request?.body).toMatchObject({
      name: 'My Clone',
      description: 'Cloned from two clips.',
      labels: JSON.stringify({ accent: 'british', gender: 'female' }),
      remove_background_noise: 'true',
      parts: [
        { field: 'files', type: 'audio/ogg' },
        { field: 'files', type: 'audio/ogg' },
      ],
    });
    const voices = await call('list_voices', { search: 'my clone' });
    expect((voices.structuredContent as { voices: { id: string }[] }).voices.map((v) => v.id)).toContain(
      made.voice_id,
    );
    const spoken = await call('speak', { text: 'Speaking in the cloned voice.' });
    expect((spoken.structuredContent as { voice: { id: string } }).voice.id).toBe(made.voice_id);
    await call('update_settings', { default_voice: null });
  });

  it('bounds voice_clone input: sources, labels, duplicates and other users’ clips', async () => {
    const mine = await clip('A clip to clone from.');
    const bobs = await clip('Bob owns this clip.', bob);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sources: [], name: 'X' }, /./],
      [{ sources: Array.from({ length: 26 }, (_, i) => `sp_${i}`), name: 'X' }, /./],
      [{ sources: [mine], name: '   ' }, /\[invalid_input\]/],
      [{ sources: [mine, mine], name: 'X' }, /twice/],
      [{ sources: [mine, bobs], name: 'X' }, /\[not_found\]/],
      [
        {
          sources: [mine],
          name: 'X',
          labels: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
        },
        /At most 10 labels/,
      ],
      [{ sources: [mine], name: 'X', labels: { 'Bad Key': 'v' } }, /lower-case/],
    ];
    const adds = standin.requests.filter((r) => r.path === '/v1/voices/add').length;
    for (const [args, pattern] of cases) {
      const result = await call('voice_clone', args);
      expect(result.isError, JSON.stringify(args).slice(0, 60)).toBe(true);
      expect(textOf(result)).toMatch(pattern);
    }
    expect(standin.requests.filter((r) => r.path === '/v1/voices/add').length).toBe(adds);
  });

  it('takes files from EARSHOT_INPUT_DIRS, and only those', async () => {
    const take = await wavFile('take-1.wav', 'A take recorded to a file.');
    const revoiced = await call('speech_to_speech', { input_path: take, voice: 'Rachel' });
    expect(revoiced.isError, textOf(revoiced)).toBeFalsy();
    expect(textOf(revoiced)).toMatch(/Re-voiced take-1\.wav as Rachel/);
    const upload = standin.requests.findLast((r) => r.path.startsWith('/v1/speech-to-speech/'));
    expect(upload?.body).toMatchObject({
      parts: [{ field: 'audio', name: 'take-1.wav', type: 'audio/wav' }],
    });

    const second = await wavFile('take-2.wav', 'Another take for the clone.');
    const cloned = await call('voice_clone', {
      input_paths: [take, join(inputDir, second)],
      sources: [await clip('And one from history.')],
      name: 'From Files',
    });
    expect(cloned.isError, textOf(cloned)).toBeFalsy();
    expect(cloned.structuredContent).toMatchObject({ samples: 3 });
    const add = standin.requests.findLast((r) => r.path === '/v1/voices/add');
    expect((add?.body as { parts: { name: string }[] }).parts.map((p) => p.name).sort()).toEqual(
      expect.arrayContaining(['take-1.wav', 'take-2.wav']),
    );

    await writeFile(join(inputDir, 'notes.wav'), 'not audio at all');
    for (const [args, code] of [
      [{ input_path: '../../etc/passwd' }, 'input_outside_allowed'],
      [{ input_path: '/etc/hostname' }, 'input_outside_allowed'],
      [{ input_path: 'missing.wav' }, 'input_not_found'],
      [{ input_path: 'notes.wav' }, 'input_not_audio'],
      [{ input_path: take, source: 'sp_x' }, 'invalid_input'],
    ] as const) {
      const result = await call('speech_to_speech', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(result)).toMatch(new RegExp(`\\[${code}\\]$`));
    }
    const twice = await call('voice_clone', { input_paths: [take, take], name: 'X' });
    expect(textOf(twice)).toMatch(/twice/);

    // Each under the 25 MB cap, together over it: refused before anything is uploaded.
    const big = Buffer.alloc(13 * 1024 * 1024);
    big.write('RIFF', 0, 'latin1');
    big.write('WAVE', 8, 'latin1');
    await writeFile(join(inputDir, 'big-1.wav'), big);
    await writeFile(join(inputDir, 'big-2.wav'), big);
    const adds = standin.requests.filter((r) => r.path === '/v1/voices/add').length;
    const heavy = await call('voice_clone', { input_paths: ['big-1.wav', 'big-2.wav'], name: 'Heavy' });
    expect(textOf(heavy)).toMatch(/\[input_too_large\]$/);
    expect(standin.requests.filter((r) => r.path === '/v1/voices/add').length).toBe(adds);
  });
});
