import { readFile, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, connectMcpBridge, MCP_CLIENT_KINDS, type McpTestClient, textOf } from './support/mcp.js';
import { startTestServer, startWithStandin, type TestServer } from './support/server.js';

const KEY = 'output-format-upstream-key';

type Result = Awaited<ReturnType<McpTestClient['callTool']>>;
/** The inline clip: an embedded resource with a base64 blob, as every inline audio of Earshot's. */
const inline = (result: Result) => {
  const part = result.content.find((content) => content.type === 'resource') as
    { resource: { blob: string; mimeType: string; uri: string } } | undefined;
  if (!part) return undefined;
  expect(part.resource.uri).toMatch(/^earshot:\/\/clip\/earshot-.+\.(mp3|wav|ogg)$/);
  return { bytes: Buffer.from(part.resource.blob, 'base64'), mimeType: part.resource.mimeType };
};

describe('text_to_speech output_format', () => {
  let standin: Standin;
  let server: TestServer;
  let outputDir: string;
  const clients: Record<string, McpTestClient> = {};

  beforeAll(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'earshot-formats-'));
    ({ standin, server } = await startWithStandin(KEY, { env: { EARSHOT_OUTPUT_DIR: outputDir } }));
    for (const kind of MCP_CLIENT_KINDS)
      clients[`http ${kind}`] = await connectMcp(server.url, server.keys.alice, kind);
    clients.stdio = await connectMcpBridge(server.url, server.keys.alice!);
  });
  afterAll(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await server.close();
    await standin.close();
    await rm(outputDir, { recursive: true, force: true });
  });

  for (const via of [...MCP_CLIENT_KINDS.map((kind) => `http ${kind}`), 'stdio']) {
    it(`returns each format with its extension and MIME type, refusing bad combinations before spending (${via})`, async () => {
      const client = clients[via]!;
      const tts = (args: Record<string, unknown>) =>
        client.callTool({ name: 'text_to_speech', arguments: args });
      const lastQuery = () =>
        standin.requests.findLast((r) => r.path.startsWith('/v1/text-to-speech/'))?.query;

      const mp3 = await tts({ text: `An MP3 over ${via}.`, output_format: 'mp3_44100_128', output: 'audio' });
      expect(mp3.isError, textOf(mp3)).toBeFalsy();
      expect(inline(mp3)?.mimeType).toBe('audio/mpeg');
      expect(inline(mp3)?.bytes[0]).toBe(0xff);
      expect(lastQuery()).toMatchObject({ output_format: 'mp3_44100_128' });
      expect(mp3.structuredContent).toMatchObject({ format: 'mp3_44100_128', cached: false, audioUrl: null });
      expect((mp3.structuredContent as { id?: string }).id).toBeUndefined();

      const opus = await tts({ text: `Opus over ${via}.`, output_format: 'opus_48000_64', output: 'audio' });
      expect(inline(opus)?.mimeType).toBe('audio/ogg; codecs=opus');
      expect(inline(opus)?.bytes.toString('latin1', 0, 4)).toBe('OggS');

      const pcm = await tts({ text: `PCM over ${via}.`, output_format: 'pcm_22050', output: 'file' });
      const pcmPath = (pcm.structuredContent as { path: string }).path;
      expect(pcmPath).toMatch(new RegExp(`^${join(outputDir, 'alice')}/earshot-.+\\.wav$`));
      const wav = await readFile(pcmPath);
      expect([wav.toString('latin1', 0, 4), wav.readUInt16LE(20), wav.readUInt32LE(24)]).toEqual([
        'RIFF',
        1,
        22050,
      ]);
      expect((await stat(pcmPath)).mode & 0o777).toBe(0o600);

      const name = `ulaw-${via.replace(' ', '-')}.wav`;
      const ulaw = await tts({
        text: `Mu-law over ${via}.`,
        output_format: 'ulaw_8000',
        output: 'file',
        file_name: name,
      });
      const ulawFile = await readFile(join(outputDir, 'alice', name));
      expect(ulaw.isError, textOf(ulaw)).toBeFalsy();
      expect([ulawFile.readUInt16LE(20), ulawFile.readUInt32LE(24), ulawFile.readUInt16LE(34)]).toEqual([
        7, 8000, 8,
      ]);

      const before = standin.requests.length;
      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ output_format: 'mp3_44100_128' }, /needs output "audio" or "file".*\[invalid_input\]/],
        [{ output_format: 'mp3_44100_128', output: 'link' }, /\[invalid_input\]/],
        [
          { output_format: 'mp3_44100_128', output: 'file', file_name: 'x.wav' },
          /ending in \.mp3.*\[invalid_input\]/,
        ],
        [{ output_format: 'wav_44100', output: 'file' }, /output_format: .*\[invalid_input\]/],
        [
          { output_format: 'pcm_16000', output: 'audio', model: 'eleven_multilingual_v2', language: 'de' },
          /\[language_unsupported\]/,
        ],
      ];
      for (const [args, expected] of refusals) {
        expect(textOf(await tts({ text: 'Refused.', ...args })), JSON.stringify(args)).toMatch(expected);
      }
      expect(standin.requests.length).toBe(before);

      standin.injectFault({ status: 500, path: /text-to-speech/ });
      const failed = await tts({
        text: `Fails over ${via}.`,
        output_format: 'mp3_22050_32',
        output: 'audio',
      });
      expect(textOf(failed)).toMatch(/server error \(HTTP 500\)/);
    });
  }

  it('offline: lists and makes PCM at Opus rates and Opus, refuses MP3 by the schema, and holds the daily budget', async () => {
    const offline = await startTestServer({ env: { EARSHOT_DAILY_CHAR_LIMIT: '40' } });
    const client = await connectMcp(offline.url, offline.keys.alice);
    const { tools } = await client.listTools();
    const schema = tools.find((tool) => tool.name === 'text_to_speech')!.inputSchema as unknown as {
      properties: { output_format: { enum: string[] } };
    };
    expect(schema.properties.output_format.enum).toEqual([
      'pcm_8000',
      'pcm_16000',
      'pcm_24000',
      'pcm_48000',
      'opus_48000_32',
      'opus_48000_64',
      'opus_48000_96',
      'opus_48000_128',
      'opus_48000_192',
    ]);
    const tts = (args: Record<string, unknown>) =>
      client.callTool({ name: 'text_to_speech', arguments: args });
    const pcm = inline(await tts({ text: 'Offline PCM.', output_format: 'pcm_16000', output: 'audio' }))!;
    expect([pcm.mimeType, pcm.bytes.toString('latin1', 0, 4), pcm.bytes.readUInt32LE(24)]).toEqual([
      'audio/wav',
      'RIFF',
      16000,
    ]);
    expect(pcm.bytes.length).toBeGreaterThan(16000); // over half a second of 16-bit speech
    const opus = inline(
      await tts({ text: 'Offline Opus.', output_format: 'opus_48000_32', output: 'audio' }),
    )!;
    expect(opus.bytes.toString('latin1', 0, 4)).toBe('OggS');
    expect(textOf(await tts({ text: 'No MP3.', output_format: 'mp3_44100_128', output: 'audio' }))).toMatch(
      /output_format: .*\[invalid_input\]/,
    );
    // 25 of 40 characters used: a 20-character clip is refused before it is rendered.
    const over = await tts({ text: 'Twenty characters!!!', output_format: 'pcm_16000', output: 'audio' });
    expect(textOf(over)).toContain('[quota_exceeded]');
    await client.close();
    await offline.close();
  });
});
