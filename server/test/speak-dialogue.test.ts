import { OggOpusDecoder } from '@earshot/flite';
import { OggPageReader } from '@earshot/protocol';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { FliteSynthesizer } from '@earshot/flite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, textOf } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const LINES = [
  { voice: 'sally', text: 'Did the deploy go out?' },
  { voice: 'robert', text: 'It did. Error rates are flat.' },
  { voice: 'sally', text: 'Great, ship it.' },
];

describe('speak_dialogue offline', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('speaks every line in its voice as one speech, with timings running on across lines', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    const result = await client.callTool({
      name: 'speak_dialogue',
      arguments: { lines: LINES },
    });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { id: string; characters: number; lines: number };
    expect(structured.lines).toBe(3);
    expect(structured.characters).toBe(LINES.reduce((sum, line) => sum + line.text.length, 0));
    expect(textOf(result)).toMatch(/3-line dialogue with Sally & Robert/);

    const start = await player.waitFor('speech.start', (m) => m.id === structured.id);
    await player.waitFor('speech.end', (m) => m.id === structured.id);
    expect(start.text).toBe(
      'Sally: Did the deploy go out?\nRobert: It did. Error rates are flat.\nSally: Great, ship it.',
    );
    expect(player.messages.filter((m) => m.type === 'speech.start')).toHaveLength(1);

    // The audio is each line in its own voice, back to back.
    const flite = new FliteSynthesizer();
    let expected = 0;
    for (const [voice, text] of [
      ['slt', 'Did the deploy go out?'],
      ['rms', 'It did.'],
      ['rms', 'Error rates are flat.'],
      ['slt', 'Great, ship it.'],
    ]) {
      expected += (await flite.synthesize(text!, { voice: voice! })).pcm.length;
    }
    await flite.close();
    // One Ogg Opus stream (one serial number, one first page), however many engine requests it took.
    const opus = player.audioOf(structured.id);
    const pages = new OggPageReader().push(opus);
    expect(new Set(pages.map((page) => page.serial)).size).toBe(1);
    expect(pages.filter((page) => page.flags & 2)).toHaveLength(1);
    const decoder = new OggOpusDecoder(16_000);
    const pcm = Buffer.concat(decoder.push(opus));
    decoder.close();
    // Each line keeps its encoder's look-ahead and last-frame padding (under 27 ms of near-silence).
    expect(pcm.length).toBeGreaterThanOrEqual(expected);
    expect(pcm.length - expected).toBeLessThanOrEqual(3 * 2 * (104 + 320));

    const starts = player
      .received('speech.alignment', (m) => m.id === structured.id)
      .map((m) => m.startMs[0]!);
    expect(starts.length).toBe(4);
    for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
    await Promise.all([client.close(), player.close()]);
  });

  it('checks every voice before speaking', async () => {
    const client = await connectMcp(server.url, server.keys.bob);
    const result = await client.callTool({
      name: 'speak_dialogue',
      arguments: {
        lines: [
          { voice: 'sally', text: 'Hi.' },
          { voice: 'nobody', text: 'Hello.' },
        ],
      },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/No voice is called "nobody"/);
    const history = await fetch(`${server.url}/api/v1/history`, {
      headers: { authorization: `Bearer ${server.keys.bob}` },
    });
    expect(((await history.json()) as { items: unknown[] }).items).toEqual([]);
    await client.close();
  });
});

describe('speak_dialogue through ElevenLabs', () => {
  let standin: Standin;
  let server: TestServer;
  beforeAll(async () => {
    standin = await startStandin({ apiKeys: ['dialogue-key'] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: 'dialogue-key', baseUrl: standin.url, maxRetries: 0 }),
    });
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
  });

  it('stitches each line to the ones before it and bills every line', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const lines = [
      { voice: 'Rachel', text: 'First line from Rachel.' },
      { voice: 'Adam', text: 'Second line from Adam.' },
      { voice: 'Rachel', text: 'Third line, Rachel again.' },
    ];
    const before = standin.requests.length;
    const result = await client.callTool({
      name: 'speak_dialogue',
      arguments: { lines },
    });
    expect(result.isError).toBeFalsy();
    const calls = standin.requests.slice(before).filter((r) => r.path.startsWith('/v1/text-to-speech/'));
    expect(calls).toHaveLength(3);
    const ids = calls.map((r) => r.requestId);
    const previous = calls.map(
      (r) => (r.body as { previous_request_ids?: string[] }).previous_request_ids ?? [],
    );
    expect(previous).toEqual([[], [ids[0]], [ids[0], ids[1]]]);
    // Each line billed as ElevenLabs bills it: Flash, the default model, half a credit per character, rounded up.
    const credits = lines.reduce((sum, line) => sum + Math.ceil(line.text.length / 2), 0);
    expect((result.structuredContent as { credits: number }).credits).toBe(credits);
    await client.close();
  });
});
