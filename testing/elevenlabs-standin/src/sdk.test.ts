// The stand-in driven through the official ElevenLabs SDK, with its strict response parsing.
import { ElevenLabs, ElevenLabsClient, ElevenLabsError } from '@elevenlabs/elevenlabs-js';
import { FliteSynthesizer } from '@earshot/flite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './index.js';

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
const TEXT = 'The build finished. All two hundred tests passed.';

let standin: Standin;
let client: ElevenLabsClient;
const flite = new FliteSynthesizer();

beforeAll(async () => {
  standin = await startStandin({ apiKeys: ['test-key'] });
  client = new ElevenLabsClient({ apiKey: 'test-key', baseUrl: standin.url, maxRetries: 0 });
});
afterEach(() => {
  standin.clearFaults();
  standin.setPacing({
    firstByteLatencyMs: 0,
    chunkIntervalMs: 0,
    realtimeFactor: Infinity,
    chunkBytes: 4096,
  });
});
afterAll(async () => {
  await standin.close();
  await flite.close();
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Buffer; arrivals: number[] }> {
  const chunks: Buffer[] = [];
  const arrivals: number[] = [];
  const started = performance.now();
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
    arrivals.push(performance.now() - started);
  }
  return { bytes: Buffer.concat(chunks), arrivals };
}

/** Seconds of 16 kHz Flite audio for the same text, sentence by sentence, as the stand-in makes it. */
async function fliteSeconds(text: string, voice: string, speed = 1): Promise<number> {
  let samples = 0;
  for await (const piece of flite.synthesizeSentences(text, { voice, speed }))
    samples += piece.pcm.length / 2;
  return samples / 16_000;
}

describe('text to speech through the SDK', () => {
  it('streams pcm_24000 speech as long as Flite says the text takes', async () => {
    const stream = await client.textToSpeech.stream(RACHEL, {
      text: TEXT,
      modelId: 'eleven_flash_v2_5',
      outputFormat: 'pcm_24000',
    });
    const { bytes } = await readAll(stream);
    const seconds = bytes.length / 2 / 24_000;
    expect(seconds).toBeCloseTo(await fliteSeconds(TEXT, 'slt'), 1);
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    expect(rms).toBeGreaterThan(300); // speech, not silence
    const logged = standin.requests.at(-1)!;
    expect(logged.path).toBe(`/v1/text-to-speech/${RACHEL}/stream`);
    expect(logged.query.output_format).toBe('pcm_24000');
    expect(logged.apiKey).toBe('test-key');
    expect(logged.body).toMatchObject({ text: TEXT, model_id: 'eleven_flash_v2_5' });
  });

  it('delivers paced chunks over time, the first before the last is generated', async () => {
    standin.setPacing({ realtimeFactor: 4, firstByteLatencyMs: 150, chunkBytes: 8000 });
    const started = performance.now();
    const stream = await client.textToSpeech.stream(RACHEL, { text: TEXT, outputFormat: 'pcm_16000' });
    const headersAfter = performance.now() - started;
    const { bytes, arrivals } = await readAll(stream);
    const seconds = bytes.length / 2 / 16_000;
    expect(headersAfter).toBeGreaterThanOrEqual(140);
    expect(arrivals.length).toBeGreaterThan(5);
    // The first chunk is in hand long before the last one is due.
    expect(arrivals[0]!).toBeLessThan(arrivals.at(-1)! / 2);
    // ~3.5 s of audio at 4× real time: the last chunk comes well after the first.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan((seconds * 1000) / 4 - 400);
  });

  it('speaks faster with voice_settings.speed, and each voice differently', async () => {
    const lengthOf = async (voiceId: string, speed: number) => {
      const stream = await client.textToSpeech.stream(voiceId, {
        text: TEXT,
        outputFormat: 'pcm_16000',
        voiceSettings: { speed },
      });
      return (await readAll(stream)).bytes;
    };
    const normal = await lengthOf(RACHEL, 1);
    const fast = await lengthOf(RACHEL, 1.2);
    expect(fast.length).toBeLessThan(normal.length * 0.9);
    const adam = await lengthOf('pNInz6obpgDQGcFmaJgB', 1);
    expect(adam.equals(normal)).toBe(false);
  });

  it('streams timestamps whose alignment covers the text', async () => {
    const stream = await client.textToSpeech.streamWithTimestamps(RACHEL, {
      text: TEXT,
      outputFormat: 'pcm_16000',
    });
    const characters: string[] = [];
    const ends: number[] = [];
    let audioBytes = 0;
    for await (const chunk of stream) {
      audioBytes += Buffer.from(chunk.audioBase64, 'base64').length;
      characters.push(...(chunk.alignment?.characters ?? []));
      ends.push(...(chunk.alignment?.characterEndTimesSeconds ?? []));
    }
    expect(characters.join('')).toBe(TEXT);
    expect(ends.at(-1)).toBeCloseTo(audioBytes / 2 / 16_000, 1);
  });

  it('returns one object with timestamps from convertWithTimestamps', async () => {
    const result = await client.textToSpeech.convertWithTimestamps(RACHEL, {
      text: 'Hi there.',
      outputFormat: 'pcm_8000',
    });
    expect(result.alignment?.characters.join('')).toBe('Hi there.');
    expect(result.normalizedAlignment?.characters.join('')).toBe('Hi there.');
    expect(Buffer.from(result.audioBase64, 'base64').length).toBeGreaterThan(4000);
  });

  it('exposes character-cost and request-id through withRawResponse', async () => {
    const before = standin.usage;
    const { data, rawResponse } = await client.textToSpeech
      .convert(RACHEL, { text: TEXT, modelId: 'eleven_turbo_v2_5', outputFormat: 'pcm_16000' })
      .withRawResponse();
    await readAll(data);
    expect(rawResponse.headers.get('character-cost')).toBe(String(Math.ceil(TEXT.length / 2)));
    expect(rawResponse.headers.get('request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(rawResponse.headers.get('history-item-id')).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(standin.usage - before).toBe(Math.ceil(TEXT.length / 2));
    const full = await client.textToSpeech
      .convert(RACHEL, { text: TEXT, outputFormat: 'pcm_16000' })
      .withRawResponse();
    await readAll(full.data);
    expect(full.rawResponse.headers.get('character-cost')).toBe(String(TEXT.length));
  });
});

describe('catalog through the SDK', () => {
  it('searches voices with paging', async () => {
    const first = await client.voices.search({ pageSize: 5 });
    expect(first.voices).toHaveLength(5);
    expect(first.hasMore).toBe(true);
    expect(first.totalCount).toBeGreaterThan(5);
    const second = await client.voices.search({ pageSize: 5, nextPageToken: first.nextPageToken! });
    expect(second.voices[0]?.voiceId).not.toBe(first.voices[0]?.voiceId);
    const found = await client.voices.search({ search: 'rachel' });
    expect(found.voices.map((voice) => voice.name)).toEqual(['Rachel']);
    expect(found.voices[0]?.labels).toMatchObject({ gender: 'female', accent: 'american' });
    expect(standin.requests.at(-1)?.query).toMatchObject({ search: 'rachel' });
  });

  it('gets all voices and one voice; an unknown one is 404 voice_not_found', async () => {
    const all = await client.voices.getAll();
    expect(all.voices.map((voice) => voice.voiceId)).toContain(RACHEL);
    const rachel = await client.voices.get(RACHEL);
    expect(rachel.name).toBe('Rachel');
    expect(rachel.category).toBe('premade');
    expect(rachel.settings?.stability).toBe(0.5);
    const error = await client.voices.get('nope').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ElevenLabsError);
    expect((error as ElevenLabsError).statusCode).toBe(404);
    expect((error as ElevenLabsError).body).toMatchObject({ detail: { code: 'voice_not_found' } });
  });

  it('lists models with their limits and rates', async () => {
    const models = await client.models.list();
    const byId = new Map(models.map((model) => [model.modelId, model]));
    expect(byId.get('eleven_multilingual_v2')?.maximumTextLengthPerRequest).toBe(10_000);
    expect(byId.get('eleven_flash_v2_5')?.modelRates?.characterCostMultiplier).toBe(0.5);
    expect(byId.has('eleven_turbo_v2_5')).toBe(true);
    expect(byId.has('eleven_v3')).toBe(true);
  });

  it('reads the subscription, whose character_count follows usage', async () => {
    const subscription = await client.user.subscription.get();
    expect(subscription.characterCount).toBe(standin.usage);
    expect(subscription.characterLimit).toBeGreaterThan(0);
    expect(subscription.status).toBe('active');
  });
});

describe('errors through the SDK', () => {
  const statusOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ElevenLabsError);
    return error as ElevenLabsError;
  };

  it('rejects a bad key with 401 invalid_api_key', async () => {
    const bad = new ElevenLabsClient({ apiKey: 'wrong', baseUrl: standin.url, maxRetries: 0 });
    const error = await statusOf(bad.models.list());
    expect(error.statusCode).toBe(401);
    expect(error.body).toMatchObject({ detail: { code: 'invalid_api_key', status: 'invalid_api_key' } });
  });

  it('answers invalid settings with 422, which the SDK types as UnprocessableEntityError', async () => {
    // The SDK refuses to send a body without `text` itself; fetch.test.ts checks that case on the wire.
    const error = await statusOf(
      client.textToSpeech.stream(RACHEL, { text: 'Hi.', voiceSettings: { speed: 2 } }),
    );
    expect(error).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
    expect(error.statusCode).toBe(422);
    expect(error.body).toMatchObject({
      detail: [{ loc: ['body', 'voice_settings', 'speed'], type: 'less_than_equal' }],
    });
  });

  it('rejects an unknown voice, an unknown model and too long a text', async () => {
    expect((await statusOf(client.textToSpeech.stream('nope', { text: 'Hi.' }))).statusCode).toBe(404);
    const model = await statusOf(client.textToSpeech.stream(RACHEL, { text: 'Hi.', modelId: 'eleven_nope' }));
    expect(model.body).toMatchObject({ detail: { code: 'model_not_found' } });
    const long = await statusOf(
      client.textToSpeech.stream(RACHEL, { text: 'a'.repeat(5_001), modelId: 'eleven_v3' }),
    );
    expect(long.statusCode).toBe(400);
    expect(long.body).toMatchObject({ detail: { code: 'max_character_limit_exceeded' } });
  });

  it.each([
    [401, 'invalid_api_key'],
    [404, 'voice_not_found'],
    [429, 'too_many_concurrent_requests'],
    [500, 'system_busy'],
    [503, 'system_busy'],
  ] as const)('injects a %i fault with the real body', async (status, code) => {
    standin.injectFault({ status, path: /text-to-speech/ });
    const error = await statusOf(client.textToSpeech.stream(RACHEL, { text: 'Hi.' }));
    expect(error.statusCode).toBe(status);
    expect(error.body).toMatchObject({ detail: { code } });
    // Only the next request was affected.
    await readAll(await client.textToSpeech.stream(RACHEL, { text: 'Hi.', outputFormat: 'pcm_16000' }));
  });

  it('injects a 422 fault', async () => {
    standin.injectFault({ status: 422 });
    const error = await statusOf(client.models.list());
    expect(error.statusCode).toBe(422);
  });

  it('surfaces a mid-stream reset as a stream error', async () => {
    standin.injectFault({ kind: 'reset', afterBytes: 10_000 });
    const stream = await client.textToSpeech.stream(RACHEL, { text: TEXT, outputFormat: 'pcm_16000' });
    let received = 0;
    const reading = (async () => {
      for await (const chunk of stream) received += chunk.length;
    })();
    await expect(reading).rejects.toThrow();
    expect(received).toBeLessThanOrEqual(10_000);
    expect(received).toBeGreaterThan(0);
  });

  it('stalls a stream for the given time, then finishes it', async () => {
    standin.injectFault({ kind: 'stall', afterBytes: 4096, ms: 400 });
    const stream = await client.textToSpeech.stream(RACHEL, {
      text: 'Short and sweet.',
      outputFormat: 'pcm_16000',
    });
    const { bytes, arrivals } = await readAll(stream);
    const gaps = arrivals.slice(1).map((at, index) => at - arrivals[index]!);
    // The client sees the stall a little shortened when the chunk before it arrives late (loaded CI machines).
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(300);
    expect(bytes.length).toBeGreaterThan(8192);
  });
});
