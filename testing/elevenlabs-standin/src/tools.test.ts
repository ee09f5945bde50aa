// The endpoints behind Earshot's agent tools (sound effects, speech to text, voice design, voice library,
// dialogue, history, request stitching), driven through the official SDK, with fetch for wire details.
import { ElevenLabs, ElevenLabsClient, ElevenLabsError } from '@elevenlabs/elevenlabs-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './index.js';

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
const ADAM = 'pNInz6obpgDQGcFmaJgB';

let standin: Standin;
let client: ElevenLabsClient;

beforeAll(async () => {
  standin = await startStandin({ apiKeys: ['test-key'], maxUploadBytes: 4 * 1024 * 1024 });
  client = new ElevenLabsClient({ apiKey: 'test-key', baseUrl: standin.url, maxRetries: 0 });
});
afterEach(() => standin.clearFaults());
afterAll(async () => {
  await standin.close();
});

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return Math.sqrt(sum / Math.max(1, pcm.length / 2));
}

function wav(pcm: Buffer, rate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

async function rejection(promise: Promise<unknown>): Promise<ElevenLabsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ElevenLabsError);
  return error as ElevenLabsError;
}

describe('sound effects (textToSoundEffects.convert)', () => {
  it('returns a non-silent sound of the requested duration, the same for the same prompt, billed', async () => {
    const request = {
      text: 'A door creaks open slowly',
      durationSeconds: 2,
      outputFormat: 'pcm_16000',
    } as const;
    const { data, rawResponse } = await client.textToSoundEffects.convert(request).withRawResponse();
    const pcm = await bytesOf(data);
    expect(pcm.length).toBe(2 * 16_000 * 2);
    expect(rms(pcm)).toBeGreaterThan(500);
    expect(rawResponse.headers.get('character-cost')).toBe('80');
    expect(rawResponse.headers.get('request-id')).toMatch(/^[0-9a-f]{32}$/);
    const again = await bytesOf(await client.textToSoundEffects.convert(request));
    expect(again.equals(pcm)).toBe(true);
    const other = await bytesOf(
      await client.textToSoundEffects.convert({ ...request, text: 'Thunder rolls' }),
    );
    expect(other.equals(pcm)).toBe(false);
    const mp3 = await bytesOf(
      await client.textToSoundEffects.convert({ text: 'Rain on a tin roof', loop: true, durationSeconds: 1 }),
    );
    expect(mp3[0]).toBe(0xff); // MP3 frame sync, default mp3_44100_128
  });

  it('rejects durations outside 0.5–30 s and prompt_influence outside 0–1 with 422', async () => {
    const error = await rejection(
      client.textToSoundEffects.convert({ text: 'Boom', durationSeconds: 31, promptInfluence: 1.5 }),
    );
    expect(error).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
    const detail = (error.body as { detail: { loc: string[]; type: string }[] }).detail;
    expect(detail.map((issue) => [issue.loc[1], issue.type])).toEqual([
      ['duration_seconds', 'less_than_equal'],
      ['prompt_influence', 'less_than_equal'],
    ]);
  });

  it('shares the concurrency limit with text to speech (429 over it)', async () => {
    // Generation is held for a minute, so the eleven requests overlap however slowly they arrive; the test
    // waits until the stand-in has seen them all, then cancels the ten it admitted.
    standin.setPacing({ firstByteLatencyMs: 60_000 });
    const before = standin.requests.length;
    const abort = new AbortController();
    try {
      const calls = Array.from({ length: 11 }, () =>
        fetch(`${standin.url}/v1/sound-generation?output_format=pcm_8000`, {
          method: 'POST',
          headers: { 'xi-api-key': 'test-key', 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'Tick', duration_seconds: 0.5 }),
          signal: abort.signal,
        }).then((response) => response.status),
      );
      const seen = () => standin.requests.slice(before);
      await expect.poll(() => seen().filter((r) => r.status === 429).length).toBe(1);
      await expect.poll(() => seen().length).toBe(11);
      expect(seen().filter((r) => r.status === undefined)).toHaveLength(10);
      expect(await Promise.race(calls)).toBe(429);
    } finally {
      abort.abort();
      standin.setPacing({ firstByteLatencyMs: 0 });
    }
    // The cancelled generations end as their sockets close: the next test starts once there is room again.
    await expect
      .poll(async () => {
        const response = await fetch(`${standin.url}/v1/sound-generation?output_format=pcm_8000`, {
          method: 'POST',
          headers: { 'xi-api-key': 'test-key', 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'Tock', duration_seconds: 0.5 }),
        });
        await response.arrayBuffer();
        return response.status;
      })
      .toBe(200);
  });

  it('applies injected faults', async () => {
    standin.injectFault({ status: 429, path: /sound-generation/ });
    const error = await rejection(client.textToSoundEffects.convert({ text: 'Boom' }));
    expect(error.statusCode).toBe(429);
    expect((error.body as { detail: { code: string } }).detail.code).toBe('too_many_concurrent_requests');
  });
});

describe('speech to text (speechToText.convert)', () => {
  it("returns the synthesised text with the synthesis's word timings for the stand-in's own audio", async () => {
    const text = 'The deploy finished. Three services restarted cleanly.';
    const pcm = await bytesOf(
      await client.textToSpeech.convert(RACHEL, {
        text,
        outputFormat: 'pcm_16000',
        modelId: 'eleven_flash_v2_5',
      }),
    );
    for (const file of [pcm, wav(pcm, 16_000)]) {
      const result = await client.speechToText.convert({
        modelId: 'scribe_v1',
        file: { data: file, filename: 'clip.wav' },
      });
      expect(result.text).toBe(text);
      expect(result.languageCode).toBe('eng');
      const words = result.words.filter((word) => word.type === 'word');
      expect(words.map((word) => word.text).join(' ')).toBe(text);
      for (let i = 1; i < words.length; i++)
        expect(words[i]!.start!).toBeGreaterThanOrEqual(words[i - 1]!.end!);
      expect(words.at(-1)!.end!).toBeCloseTo(pcm.length / 32_000, 1);
      expect(words[0]!.speakerId).toBeUndefined();
    }
  });

  it('transcribes unknown audio as plausible words over its duration, with speakers when diarizing', async () => {
    const silence = wav(Buffer.alloc(16_000 * 2 * 3), 16_000);
    const result = await client.speechToText.convert({
      modelId: 'scribe_v2',
      file: silence,
      diarize: true,
      timestampsGranularity: 'character',
    });
    const words = result.words.filter((word) => word.type === 'word');
    expect(words.length).toBeGreaterThan(3);
    expect(words.at(-1)!.end!).toBeLessThanOrEqual(3);
    expect(words[0]!.speakerId).toBe('speaker_0');
    expect(words[0]!.characters?.length).toBe(words[0]!.text.length);
  });

  it('answers 422 without a file or with a bad model, 413 over the upload limit, and faults', async () => {
    const noFile = await rejection(client.speechToText.convert({ modelId: 'scribe_v1' }));
    expect(noFile).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
    const badModel = await rejection(
      client.speechToText.convert({ modelId: 'whisper', file: Buffer.from([1, 2, 3]) }),
    );
    expect(badModel.statusCode).toBe(422);
    const form = new FormData();
    form.append('model_id', 'scribe_v1');
    form.append('file', new Blob([Buffer.alloc(5 * 1024 * 1024)]), 'big.wav');
    const tooBig = await fetch(`${standin.url}/v1/speech-to-text`, {
      method: 'POST',
      headers: { 'xi-api-key': 'test-key' },
      body: form,
    });
    expect(tooBig.status).toBe(413);
    standin.injectFault({ status: 500, path: 'speech-to-text' });
    const fault = await rejection(
      client.speechToText.convert({ modelId: 'scribe_v1', file: Buffer.from([1]) }),
    );
    expect(fault.statusCode).toBe(500);
  });
});

describe('voice design (textToVoice.design / createPreviews / create)', () => {
  it('makes three previews in different voices, saves one, and speaks with it', async () => {
    const voiceDescription = 'A calm, warm female narrator with a soft and friendly tone';
    const { data: design, rawResponse } = await client.textToVoice
      .design({ voiceDescription, autoGenerateText: true, outputFormat: 'pcm_16000' })
      .withRawResponse();
    expect(design.text.length).toBeGreaterThanOrEqual(100);
    expect(rawResponse.headers.get('character-cost')).toBe(String(design.text.length));
    expect(design.previews).toHaveLength(3);
    expect(new Set(design.previews.map((preview) => preview.generatedVoiceId)).size).toBe(3);
    const audios = design.previews.map((preview) => Buffer.from(preview.audioBase64, 'base64'));
    expect(new Set(audios.map((audio) => audio.length)).size).toBeGreaterThan(1); // different voices, different lengths
    for (const [i, preview] of design.previews.entries()) {
      expect(preview.durationSecs).toBeCloseTo(audios[i]!.length / 32_000, 2);
      expect(rms(audios[i]!)).toBeGreaterThan(300);
    }

    const voice = await client.textToVoice.create({
      voiceName: 'Calm narrator',
      voiceDescription,
      generatedVoiceId: design.previews[0]!.generatedVoiceId,
    });
    expect(voice.category).toBe('generated');
    expect((await client.voices.get(voice.voiceId)).name).toBe('Calm narrator');
    const found = await client.voices.search({ search: 'calm narrator' });
    expect(found.voices.map((v) => v.voiceId)).toContain(voice.voiceId);
    const personal = await client.voices.search({ voiceType: 'personal' });
    expect(personal.voices.map((v) => v.voiceId)).toEqual([voice.voiceId]);
    const spoken = await bytesOf(
      await client.textToSpeech.convert(voice.voiceId, { text: design.text, outputFormat: 'pcm_16000' }),
    );
    expect(spoken.equals(audios[0]!)).toBe(true); // the preview's Flite voice
  });

  it('rejects short descriptions with 422 and unknown generated voice ids with 404', async () => {
    const short = await rejection(
      client.textToVoice.createPreviews({ voiceDescription: 'too short', autoGenerateText: true }),
    );
    expect(short).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
    expect((short.body as { detail: { type: string }[] }).detail[0]!.type).toBe('string_too_short');
    const unknown = await rejection(
      client.textToVoice.create({
        voiceName: 'x',
        voiceDescription: 'A voice that was never designed at all',
        generatedVoiceId: 'nope',
      }),
    );
    expect(unknown.statusCode).toBe(404);
    standin.injectFault({ status: 503, path: 'text-to-voice' });
    const fault = await rejection(
      client.textToVoice.design({ voiceDescription: 'A deep and gravelly old man', autoGenerateText: true }),
    );
    expect(fault.statusCode).toBe(503);
  });
});

describe('voice library (voices.getShared)', () => {
  it('pages and filters thirty library voices, usable for speech', async () => {
    const first = await client.voices.getShared({ pageSize: 12 });
    expect(first.voices).toHaveLength(12);
    expect(first.hasMore).toBe(true);
    const third = await client.voices.getShared({ pageSize: 12, page: 2 });
    expect(third.voices).toHaveLength(6);
    expect(third.hasMore).toBe(false);
    const british = await client.voices.getShared({ accent: 'british', gender: 'male' });
    expect(british.voices.map((voice) => voice.name)).toEqual(['Oliver Grant']);
    const narrators = await client.voices.getShared({ useCases: 'narrative_story', age: 'old' });
    expect(narrators.voices.length).toBeGreaterThan(1);
    expect(
      narrators.voices.every((voice) => voice.useCase === 'narrative_story' && voice.age === 'old'),
    ).toBe(true);
    const search = await client.voices.getShared({ search: 'scottish' });
    expect(search.voices.map((voice) => voice.name).sort()).toEqual(['Fiona MacLeod', 'Hamish Reid']);
    const audio = await bytesOf(
      await client.textToSpeech.convert(british.voices[0]!.voiceId, {
        text: 'Hello.',
        outputFormat: 'pcm_16000',
      }),
    );
    expect(audio.length).toBeGreaterThan(1000);
  });

  it('rejects page_size over 100 with 422, and applies faults', async () => {
    const error = await rejection(client.voices.getShared({ pageSize: 500 }));
    expect(error.statusCode).toBe(422);
    standin.injectFault({ status: 401, path: 'shared-voices' });
    expect((await rejection(client.voices.getShared())).statusCode).toBe(401);
  });
});

describe('dialogue (textToDialogue.convert / stream)', () => {
  it('speaks each input in its voice, in order; speech to text gives them back with speakers', async () => {
    const inputs = [
      { text: 'Did the build pass?', voiceId: RACHEL },
      { text: '[sighs] Yes, all of it.', voiceId: ADAM },
    ];
    const { data, rawResponse } = await client.textToDialogue
      .convert({ inputs, outputFormat: 'pcm_16000' })
      .withRawResponse();
    const pcm = await bytesOf(data);
    expect(rawResponse.headers.get('character-cost')).toBe(
      String(inputs[0]!.text.length + inputs[1]!.text.length),
    );
    const transcript = await client.speechToText.convert({
      modelId: 'scribe_v1',
      file: pcm,
      diarize: true,
    });
    expect(transcript.text).toBe('Did the build pass? Yes, all of it.');
    const words = transcript.words.filter((word) => word.type === 'word');
    expect(words[0]!.speakerId).toBe('speaker_0');
    expect(words.at(-1)!.speakerId).toBe('speaker_1');
    const streamed = await bytesOf(await client.textToDialogue.stream({ inputs, outputFormat: 'pcm_16000' }));
    expect(streamed.equals(pcm)).toBe(true);
  });

  it('answers 404 for an unknown voice, 422 for no inputs, and cuts a stream on a reset fault', async () => {
    const unknown = await rejection(
      client.textToDialogue.convert({ inputs: [{ text: 'Hi', voiceId: 'nobody' }] }),
    );
    expect(unknown.statusCode).toBe(404);
    expect((await rejection(client.textToDialogue.convert({ inputs: [] }))).statusCode).toBe(422);
    standin.injectFault({ kind: 'reset', afterBytes: 2000, path: 'text-to-dialogue' });
    const stream = await client.textToDialogue.stream({
      inputs: [{ text: 'A long enough line to need several chunks of audio.', voiceId: RACHEL }],
      outputFormat: 'pcm_16000',
    });
    await expect(bytesOf(stream)).rejects.toThrow();
  });
});

describe('history (history.list / getAudio) and request stitching', () => {
  it('lists text-to-speech requests newest first and serves their audio', async () => {
    const made: { id: string; audio: Buffer }[] = [];
    for (const [voice, text] of [
      [RACHEL, 'First line.'],
      [ADAM, 'Second line.'],
      [RACHEL, 'Third line.'],
    ] as const) {
      const { data, rawResponse } = await client.textToSpeech
        .convert(voice, { text, outputFormat: 'pcm_16000' })
        .withRawResponse();
      made.push({ id: rawResponse.headers.get('history-item-id')!, audio: await bytesOf(data) });
    }
    const page = await client.history.list({ pageSize: 2 });
    expect(page.history.map((item) => item.historyItemId)).toEqual([made[2]!.id, made[1]!.id]);
    expect(page.hasMore).toBe(true);
    expect(page.history[0]!.text).toBe('Third line.');
    const next = await client.history.list({ pageSize: 2, startAfterHistoryItemId: page.lastHistoryItemId! });
    expect(next.history[0]!.historyItemId).toBe(made[0]!.id);
    const adams = await client.history.list({ voiceId: ADAM });
    expect(adams.history.map((item) => item.text)).toContain('Second line.');
    expect(adams.history.every((item) => item.voiceId === ADAM || item.dialogue)).toBe(true);
    const audio = await bytesOf(await client.history.getAudio(made[1]!.id));
    expect(audio.equals(made[1]!.audio)).toBe(true);
    expect((await rejection(client.history.getAudio('missing'))).statusCode).toBe(404);
  });

  it('accepts up to three previous/next request ids, logs them, and refuses more with 422', async () => {
    const previousRequestIds = ['a'.repeat(32), 'b'.repeat(32)];
    await bytesOf(
      await client.textToSpeech.convert(RACHEL, {
        text: 'Stitched.',
        previousRequestIds,
        nextRequestIds: [],
      }),
    );
    const logged = standin.requests.at(-1)!.body as { previous_request_ids: string[] };
    expect(logged.previous_request_ids).toEqual(previousRequestIds);
    const error = await rejection(
      client.textToSpeech.convert(RACHEL, { text: 'Too many.', nextRequestIds: ['1', '2', '3', '4'] }),
    );
    expect(error.statusCode).toBe(422);
  });
});

describe('wire details (fetch)', () => {
  it('sends sound effects whole as audio/mpeg with content-length and a request-id', async () => {
    const response = await fetch(`${standin.url}/v1/sound-generation`, {
      method: 'POST',
      headers: { 'xi-api-key': 'test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Footsteps on gravel', duration_seconds: 0.5 }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    const body = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(body.length);
    expect(response.headers.get('character-cost')).toBe('20');
  });

  it('logs multipart fields and the file size, not the file', async () => {
    const form = new FormData();
    form.append('model_id', 'scribe_v1');
    form.append('diarize', 'true');
    form.append('file', new Blob([Buffer.alloc(3200)]), 'a.pcm');
    const response = await fetch(`${standin.url}/v1/speech-to-text`, {
      method: 'POST',
      headers: { 'xi-api-key': 'test-key' },
      body: form,
    });
    expect(response.status).toBe(200);
    expect(standin.requests.at(-1)!.body).toEqual({
      model_id: 'scribe_v1',
      diarize: 'true',
      file: { name: 'a.pcm', type: 'application/octet-stream', bytes: 3200 },
      parts: [{ field: 'file', name: 'a.pcm', type: 'application/octet-stream', bytes: 3200 }],
    });
    const bad = await fetch(`${standin.url}/v1/speech-to-text`, {
      method: 'POST',
      headers: { 'xi-api-key': 'test-key', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(bad.status).toBe(422);
  });

  it('cuts a sound effect on a reset fault, and gets and deletes history items', async () => {
    standin.injectFault({ kind: 'reset', afterBytes: 1000, path: 'sound-generation' });
    const cut = await client.textToSoundEffects.convert({ text: 'Glass breaking', durationSeconds: 1 });
    await expect(bytesOf(cut)).rejects.toThrow();
    const { data, rawResponse } = await client.textToSpeech
      .convert(RACHEL, { text: 'Keep me.' })
      .withRawResponse();
    await bytesOf(data);
    const id = rawResponse.headers.get('history-item-id')!;
    expect((await client.history.get(id)).text).toBe('Keep me.');
    expect((await client.history.delete(id)).status).toBe('ok');
    expect((await rejection(client.history.get(id))).statusCode).toBe(404);
  });
});

describe('auth on the new endpoints', () => {
  it.each([
    ['POST', '/v1/sound-generation'],
    ['POST', '/v1/speech-to-text'],
    ['POST', '/v1/text-to-voice/design'],
    ['POST', '/v1/text-to-voice'],
    ['GET', '/v1/shared-voices'],
    ['POST', '/v1/text-to-dialogue'],
    ['GET', '/v1/history'],
  ])('%s %s answers 401 invalid_api_key without a key, with a request-id', async (method, path) => {
    const response = await fetch(`${standin.url}${path}`, { method, headers: { 'xi-api-key': 'wrong' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(((await response.json()) as { detail: { code: string } }).detail.code).toBe('invalid_api_key');
  });
});
