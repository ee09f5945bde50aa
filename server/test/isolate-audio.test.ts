import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OGG_OPUS } from '@earshot/protocol';
import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, textOf, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startWithStandin, type TestServer } from './support/server.js';

const KEY = 'isolate-audio-key';

type Isolated = {
  id: string;
  credits: number;
  durationMs: number;
  playersReached: number;
  playersListening: number;
  audioUrl: string | null;
  resourceUri: string;
};

describe('isolate_audio through the stand-in (MP3 from ElevenLabs, decoded as it streams)', () => {
  let standin: Standin;
  let server: TestServer;
  let client: McpTestClient;
  let inputDir: string;
  const call = async (name: string, args: Record<string, unknown>) =>
    await client.callTool({ name, arguments: args });
  const auth = () => ({ authorization: `Bearer ${server.keys.alice}` });
  const clip = async (text: string) =>
    (await call('text_to_speech', { text, fresh: true })).structuredContent as {
      resourceUri: string;
      durationMs: number;
    };
  const isolations = () => standin.requests.filter((r) => r.path === '/v1/audio-isolation/stream').length;

  beforeAll(async () => {
    inputDir = await mkdtemp(join(tmpdir(), 'earshot-isolate-input-'));
    ({ standin, server } = await startWithStandin(KEY, { env: { EARSHOT_INPUT_DIRS: inputDir } }));
    client = await connectMcp(server.url, server.keys.alice, 'modern');
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await standin.close();
    await rm(inputDir, { recursive: true, force: true });
  });

  it('cleans stored speech, keeps it in history and does not play it unless asked', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const source = await clip('Please clean up this noisy recording.');
    const result = await call('isolate_audio', { source: source.resourceUri });
    expect(result.isError, textOf(result)).toBeFalsy();
    const isolated = result.structuredContent as Isolated;
    expect(isolated).toMatchObject({ playersReached: 0, playersListening: 0 });
    expect(isolated.credits).toBeGreaterThan(0);
    // The stand-in says the same words again: the decoded MP3 is as long as speech of that text.
    expect(isolated.durationMs).toBeGreaterThan(1000);
    expect(textOf(result)).toMatch(/^Removed the background from sp_[\w-]+: .* Not played\./);
    expect(result._meta?.['earshot/player']).toMatchObject({ speechId: isolated.id, autoplay: false });
    expect(result.content.some((part) => part.type === 'resource_link')).toBe(true);
    const request = standin.requests.findLast((r) => r.path === '/v1/audio-isolation/stream');
    expect(request?.body).toMatchObject({
      file_format: 'other',
      parts: [{ field: 'audio', type: 'audio/ogg' }],
    });
    expect(player.messages.some((m) => m.type === 'speech.start' && m.id === isolated.id)).toBe(false);
    // Kept as 24 kHz PCM (decoded from MP3): downloadable as WAV, and a source for other tools.
    const wav = await fetch(`${isolated.audioUrl!}?format=wav`, { headers: auth() });
    expect(wav.status).toBe(200);
    const bytes = Buffer.from(await wav.arrayBuffer());
    expect(bytes.toString('latin1', 0, 4)).toBe('RIFF');
    expect(bytes.readUInt32LE(24)).toBe(24_000);
    expect(Math.abs((bytes.length - 44) / 48 - isolated.durationMs)).toBeLessThan(5);
    expect(bytes.subarray(44).some((byte) => byte !== 0)).toBe(true);
    await player.close();
  });

  it('plays it when asked, as Ogg Opus to players, and returns the audio inline', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const source = await clip('Play the clean version.');
    const result = await call('isolate_audio', { source: source.resourceUri, play: true, output: 'audio' });
    expect(result.isError, textOf(result)).toBeFalsy();
    const isolated = result.structuredContent as Isolated;
    expect(isolated).toMatchObject({ playersReached: 1, playersListening: 1 });
    expect(textOf(result)).toMatch(/Played to 1 listening player\./);
    const start = await player.waitFor('speech.start', (m) => m.id === isolated.id);
    expect(start.audio.mimeType).toBe(OGG_OPUS);
    const end = await player.waitFor('speech.end', (m) => m.id === isolated.id);
    expect(player.audioOf(isolated.id).length).toBe(end.bytes);
    expect(result.content.find((part) => part.type === 'resource')).toMatchObject({
      resource: { uri: `earshot://history/${isolated.id}`, mimeType: 'audio/wav' },
    });
    await player.close();
  });

  it('takes a file from EARSHOT_INPUT_DIRS and refuses bad input before spending', async () => {
    const noisy = Buffer.alloc(44 + 32_000);
    noisy.write('RIFF', 0, 'latin1');
    noisy.writeUInt32LE(36 + 32_000, 4);
    noisy.write('WAVEfmt ', 8, 'latin1');
    noisy.writeUInt32LE(16, 16);
    noisy.writeUInt16LE(1, 20);
    noisy.writeUInt16LE(1, 22);
    noisy.writeUInt32LE(16_000, 24);
    noisy.writeUInt32LE(32_000, 28);
    noisy.writeUInt16LE(2, 32);
    noisy.writeUInt16LE(16, 34);
    noisy.write('data', 36, 'latin1');
    noisy.writeUInt32LE(32_000, 40);
    for (let i = 44; i < noisy.length; i += 2) noisy.writeInt16LE(Math.round(Math.sin(i) * 8000), i);
    await writeFile(join(inputDir, 'noisy.wav'), noisy);
    const fromFile = await call('isolate_audio', { input_path: 'noisy.wav' });
    expect(fromFile.isError, textOf(fromFile)).toBeFalsy();
    expect(textOf(fromFile)).toMatch(/^Removed the background from noisy\.wav/);
    // One second of audio, booked and billed as a started minute's share.
    expect((fromFile.structuredContent as Isolated).credits).toBe(17);

    const before = isolations();
    for (const [args, pattern] of [
      [{}, /exactly one of source/],
      [{ source: 'earshot://history/sp_gone' }, /\[not_found\]$/],
      [{ input_path: '../noisy.wav' }, /\[input_outside_allowed\]$/],
      [{ input_path: 'noisy.wav', file_name: 'x.wav' }, /file_name only applies/],
    ] as const) {
      const result = await call('isolate_audio', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(result)).toMatch(pattern);
    }
    expect(isolations()).toBe(before);
  });

  it('turns a 429 and a stream cut mid-way into clear errors', async () => {
    const source = (await clip('A clip for the failures.')).resourceUri;
    standin.injectFault({ status: 429, path: /audio-isolation/ });
    expect(textOf(await call('isolate_audio', { source }))).toMatch(/\[upstream_busy\]$/);
    standin.injectFault({ kind: 'reset', afterBytes: 2000, path: /audio-isolation/ });
    expect(textOf(await call('isolate_audio', { source }))).toMatch(/broke off.*\[upstream_interrupted\]$/);
  });
});
