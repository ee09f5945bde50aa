import { OggOpusDecoder } from '@earshot/flite';
import { OGG_OPUS } from '@earshot/protocol';
import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectMcp, MCP_CLIENT_KINDS, textOf } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startWithStandin, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'el-test-key-123';
const TEXT = 'Your pull request is ready. Three files changed, and every check is green. Shall I merge it?';

describe('speak through ElevenLabs (the stand-in)', () => {
  let standin: Standin;
  let server: TestServer;

  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ standin, server, close: stop } = await startWithStandin(UPSTREAM_KEY));
  });
  afterAll(() => stop());
  beforeEach(() => {
    standin.clearFaults();
    standin.setPacing({ firstByteLatencyMs: 0, realtimeFactor: Infinity, chunkIntervalMs: 0 });
  });

  it('loads the voice and model lists at start, so the first speech asks ElevenLabs only for its audio', async () => {
    const own = await startWithStandin(UPSTREAM_KEY);
    try {
      // startWithStandin waits for the start-up load (catalogWarmed): both lists were asked for, before any call.
      const listings = own.standin.requests.map((request) => `${request.method} ${request.path}`);
      expect([...listings].sort()).toEqual(['GET /v1/models', 'GET /v2/voices']);
      const before = own.standin.requests.length;
      const client = await connectMcp(own.server.url, own.server.keys.alice);
      const result = await client.callTool({ name: 'speak', arguments: { text: 'Ready.', voice: 'rachel' } });
      expect(result.isError).toBeFalsy();
      const during = own.standin.requests.slice(before).map((request) => `${request.method} ${request.path}`);
      expect(during).toEqual(['POST /v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream/with-timestamps']);
      await client.close();
    } finally {
      await own.close();
    }
  });

  it('starts playing before generation ends, with the audio ElevenLabs sent, and bills its character-cost', async () => {
    // Paced like the real API: first byte after 250 ms, audio arriving at 2× real time.
    standin.setPacing({ firstByteLatencyMs: 250, realtimeFactor: 2 });
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    const usageBefore = standin.usage;
    // The upstream holds after its first 20 kB until the test lets it go: audio reaching the player while the
    // call is still running (it cannot end before the rest of the upstream stream) is streaming, not buffering.
    const upstreamHeld = Promise.withResolvers<void>();
    standin.injectFault({ kind: 'stall', afterBytes: 20_000, ms: 600_000, until: upstreamHeld.promise });
    let returned = false;
    const speaking = client
      .callTool({ name: 'speak', arguments: { text: TEXT, voice: 'rachel' } })
      .finally(() => (returned = true));
    await expect.poll(() => player.frames.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(returned).toBe(false);
    upstreamHeld.resolve();
    const result = await speaking;
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as {
      id: string;
      credits: number;
      durationMs: number;
      voice: { id: string };
    };
    expect(structured.voice.id).toBe('21m00Tcm4TlvDq8ikWAM');

    const start = await player.waitFor('speech.start', (m) => m.id === structured.id);
    const end = await player.waitFor('speech.end', (m) => m.id === structured.id);
    expect(start.audio).toEqual({ mimeType: OGG_OPUS, sampleRate: 48_000, channels: 1 });
    expect(end.durationMs).toBeGreaterThan(4000);

    // Earshot asks for Ogg Opus at 32 kbit/s, and players get exactly the bytes ElevenLabs sent.
    expect(
      standin.requests.find((r) => r.path.includes('/stream/with-timestamps'))?.query.output_format,
    ).toBe('opus_48000_32');
    const direct = await fetch(
      `${standin.url}/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream?output_format=opus_48000_32`,
      {
        method: 'POST',
        headers: { 'xi-api-key': UPSTREAM_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ text: TEXT, model_id: 'eleven_multilingual_v2' }),
      },
    );
    const received = player.audioOf(structured.id);
    const expected = Buffer.from(await direct.arrayBuffer());
    // Same audio, though each Ogg stream has its own random serial number: compare what they decode to.
    const decode = (opus: Buffer) => {
      const decoder = new OggOpusDecoder(24_000);
      const pcm = Buffer.concat(decoder.push(opus));
      decoder.close();
      return pcm;
    };
    const pcm = decode(received);
    expect(pcm.equals(decode(expected))).toBe(true);
    expect(end.durationMs).toBe(Math.round((pcm.length / 2 / 24_000) * 1000));
    expect(received.length).toBe(end.bytes);
    // Under 64 kbit/s per player (24 kHz PCM was 384).
    expect((received.length * 8) / (end.durationMs / 1000)).toBeLessThan(64_000);

    // With no model named, in the call or the settings, Earshot asks for Flash v2.5 (the fastest to first audio),
    // and the credits come from its character-cost header: half a credit per character, rounded up.
    const speechRequest = standin.requests.find((r) => r.path.includes('/stream/with-timestamps'));
    expect((speechRequest?.body as { model_id?: string }).model_id).toBe('eleven_flash_v2_5');
    expect(structured.credits).toBe(Math.ceil(TEXT.length / 2));
    // Our call and the direct one (which names Multilingual v2: a credit per character).
    expect(standin.usage - usageBefore).toBe(Math.ceil(TEXT.length / 2) + TEXT.length);

    // Character timings for live captions, in order and covering the whole text.
    const alignments = player.received('speech.alignment', (m) => m.id === structured.id);
    expect(alignments.length).toBeGreaterThan(0);
    expect(alignments.flatMap((a) => a.chars).join('')).toBe(TEXT);
    const starts = alignments.flatMap((a) => a.startMs);
    for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThanOrEqual(starts[i - 1]!);
    expect(starts[starts.length - 1]!).toBeLessThan(end.durationMs);

    const call = standin.requests.find(
      (r) => r.path.includes('/stream') && r.apiKey === UPSTREAM_KEY && r.query.output_format,
    );
    expect(call?.query.output_format).toBe('opus_48000_32');
    await client.close();
    await player.close();
  });

  it('bills a credit per character on Multilingual v2, as the API does, when the call names it', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: 'Slow and rich.', model: 'eleven_multilingual_v2' },
    });
    expect((result.structuredContent as { credits: number }).credits).toBe('Slow and rich.'.length);
    await client.close();
  });

  it("list_models marks the default: the engine's (Flash v2.5), or the one the user's settings name", async () => {
    const client = await connectMcp(server.url, server.keys.bob);
    type Listed = { models: { id: string; isDefault?: true }[]; settingsModel: string | null };
    try {
      const listed = await client.callTool({ name: 'list_models', arguments: {} });
      const { models, settingsModel } = listed.structuredContent as Listed;
      expect(models.filter((m) => m.isDefault).map((m) => m.id)).toEqual(['eleven_flash_v2_5']);
      expect(settingsModel).toBeNull();
      expect(textOf(listed)).toMatch(/\(eleven_flash_v2_5\)[^\n]* — the default/);
      expect(textOf(listed).match(/the default/g)).toHaveLength(1);
      // REST lists the same mark for the console.
      const rest = await fetch(`${server.url}/api/v1/models`, {
        headers: { authorization: `Bearer ${server.keys.bob}` },
      });
      const restModels = ((await rest.json()) as Listed).models;
      expect(restModels.filter((m) => m.isDefault).map((m) => m.id)).toEqual(['eleven_flash_v2_5']);
      // get_settings names the model "the engine default" stands for.
      const settings = await client.callTool({ name: 'get_settings', arguments: {} });
      expect(textOf(settings)).toContain('model: (engine default: eleven_flash_v2_5);');

      await client.callTool({
        name: 'update_settings',
        arguments: { default_model: 'eleven_multilingual_v2' },
      });
      const after = await client.callTool({ name: 'list_models', arguments: {} });
      expect((after.structuredContent as Listed).settingsModel).toBe('eleven_multilingual_v2');
      expect(textOf(after)).toMatch(/\(eleven_multilingual_v2\)[^\n]* — the default/);
      expect(textOf(after)).toContain("The user's settings make eleven_multilingual_v2 the default.");
    } finally {
      await client.callTool({ name: 'update_settings', arguments: { default_model: null } });
      await client.close();
    }
  });

  it("sends audio only to the speaking user's players", async () => {
    const alice = await connectPlayer(server.url, server.keys.alice!);
    const bob = await connectPlayer(server.url, server.keys.bob!);
    await bob.waitFor('hello');
    const client = await connectMcp(server.url, server.keys.alice);
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: 'Only for Alice.' },
    });
    const { id } = result.structuredContent as { id: string };
    await alice.waitFor('speech.end', (m) => m.id === id);
    expect(alice.frames.length).toBeGreaterThan(0);
    expect(bob.frames).toEqual([]);
    expect(bob.messages.map((m) => m.type)).toEqual(['hello']);
    await Promise.all([client.close(), alice.close(), bob.close()]);
  });

  const faults = [
    {
      name: 'bad upstream key (401)',
      fault: { status: 401 as const },
      error: /rejected the API key/,
      code: 'upstream_unauthorized',
    },
    {
      name: 'unknown voice (404)',
      fault: { status: 404 as const },
      error: /does not know voice/,
      code: 'unknown_voice',
    },
    {
      name: 'too many requests (429)',
      fault: { status: 429 as const },
      error: /429.*retry in \d+ s/,
      code: 'upstream_busy',
    },
    {
      name: 'server error (500)',
      fault: { status: 500 as const },
      error: /server error \(HTTP 500\)/,
      code: 'upstream_busy',
    },
    {
      name: 'unavailable (503)',
      fault: { status: 503 as const },
      error: /server error \(HTTP 503\)/,
      code: 'upstream_busy',
    },
    {
      name: 'mid-stream reset',
      fault: { kind: 'reset' as const, afterBytes: 30_000 },
      error: /broke off/,
      code: 'upstream_interrupted',
    },
  ];
  for (const { name, fault, error, code } of faults) {
    it(`reports ${name} to the agent and the player, then keeps serving`, async () => {
      const player = await connectPlayer(server.url, server.keys.alice!);
      const client = await connectMcp(server.url, server.keys.alice);
      standin.injectFault({ ...fault, path: /text-to-speech/ });
      // fresh: the same text was spoken before and would otherwise replay from the cache.
      const result = await client.callTool({
        name: 'speak',
        arguments: { text: TEXT, fresh: true },
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(error);
      expect(textOf(result)).not.toContain(UPSTREAM_KEY);
      const speechError = await player.waitFor('speech.error');
      expect(speechError.code).toBe(code);
      if ('kind' in fault) {
        // The reset came after audio had started: the player saw the start and some audio first.
        expect(player.messages.some((m) => m.type === 'speech.start' && m.id === speechError.id)).toBe(true);
      }
      const again = await client.callTool({
        name: 'speak',
        arguments: { text: 'Recovered.' },
      });
      expect(again.isError).toBeFalsy();
      await client.close();
      await player.close();
    });
  }

  it.each(MCP_CLIENT_KINDS)(
    'cancelling the MCP request stops generation and the players (%s client)',
    async (kind) => {
      // The upstream stream stalls after its first chunks: it cannot end by itself while the test runs.
      standin.injectFault({ kind: 'stall', afterBytes: 8192, ms: 600_000, path: /text-to-speech/ });
      const player = await connectPlayer(server.url, server.keys.alice!);
      const client = await connectMcp(server.url, server.keys.alice, kind);
      const abort = new AbortController();
      const requestsBefore = standin.requests.length;
      // fresh: an earlier test may have spoken the same text, which would replay from the cache.
      const call = client.callTool(
        { name: 'speak', arguments: { text: TEXT, fresh: true } },
        { signal: abort.signal },
      );
      const start = await player.waitFor('speech.start', (m) => m.text === TEXT);
      const usage = standin.usage;
      abort.abort();
      await expect(call).rejects.toThrow();
      const stopped = await player.waitFor('speech.stopped', (m) => m.id === start.id);
      // Generation stopped: Earshot closed its request to ElevenLabs (the stalled stream ends only when closed).
      const upstream = standin.requests
        .slice(requestsBefore)
        .find((r) => r.path.includes('/text-to-speech/'));
      expect(upstream).toBeDefined();
      await expect.poll(() => upstream!.status, { timeout: 10_000 }).toBeDefined();
      // The players stopped: the user's next speech starts only after the first is over, so no audio of the
      // cancelled one can arrive between its speech.stopped and the next speech.start.
      const next = await client.callTool({
        name: 'speak',
        arguments: { text: 'After the stop.', fresh: true },
      });
      const nextId = (next.structuredContent as { id: string }).id;
      const nextStart = await player.waitFor('speech.start', (m) => m.id === nextId);
      expect(player.frames.filter((frame) => frame.at > stopped.at && frame.at < nextStart.at)).toEqual([]);
      expect(player.audioOf(start.id).length).toBeGreaterThan(0);
      // Only the next speech was billed (Flash, the default: half a credit per character).
      expect(standin.usage - usage).toBe(Math.ceil('After the stop.'.length / 2));
      await client.close();
      await player.close();
    },
  );
});
