// The wire format checked byte by byte with plain fetch, where the SDK would hide details.
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './index.js';

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({ apiKeys: ['k1', 'k2'], maxConcurrentRequests: 2 });
});
afterEach(() => {
  standin.clearFaults();
  standin.setPacing({ realtimeFactor: Infinity, firstByteLatencyMs: 0 });
});
afterAll(() => standin.close());

function tts(path: string, body: unknown, key = 'k1', query = ''): Promise<Response> {
  return fetch(`${standin.url}/v1/text-to-speech/${path}${query}`, {
    method: 'POST',
    headers: { 'xi-api-key': key, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('wire format', () => {
  it('ends every NDJSON line of the timestamps stream with a newline', async () => {
    const res = await tts(`${RACHEL}/stream/with-timestamps`, { text: 'One. Two. Three.' }, 'k2');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      const object = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(object).sort()).toEqual(['alignment', 'audio_base64', 'normalized_alignment']);
    }
    expect(standin.requests.at(-1)?.apiKey).toBe('k2');
  });

  it('defaults to mp3_44100_128 and logs the query it was given', async () => {
    const res = await tts(RACHEL, { text: 'Hello.' });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const mp3 = Buffer.from(await res.arrayBuffer());
    expect(mp3[0]).toBe(0xff); // an MPEG frame sync
    const chunked = await tts(
      `${RACHEL}/stream`,
      { text: 'Hello.' },
      'k1',
      '?output_format=ulaw_8000&enable_logging=false',
    );
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked');
    const ulaw = Buffer.from(await chunked.arrayBuffer());
    expect(standin.requests.at(-1)?.query).toEqual({ output_format: 'ulaw_8000', enable_logging: 'false' });
    // G.711 at 8 kHz: one byte per sample, same duration as 8 kHz PCM.
    const pcm = await tts(`${RACHEL}/stream`, { text: 'Hello.' }, 'k1', '?output_format=pcm_8000');
    expect((await pcm.arrayBuffer()).byteLength).toBe(ulaw.length * 2);
  });

  it('sends request-id on every response, errors included', async () => {
    const ok = await fetch(`${standin.url}/v1/models`, { headers: { 'xi-api-key': 'k1' } });
    const missing = await fetch(`${standin.url}/v1/nothing-here`, { headers: { 'xi-api-key': 'k1' } });
    const unauthorised = await fetch(`${standin.url}/v1/models`);
    for (const res of [ok, missing, unauthorised])
      expect(res.headers.get('request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(missing.status).toBe(404);
    expect(unauthorised.status).toBe(401);
    const body = (await unauthorised.json()) as { detail: Record<string, string> };
    expect(body.detail).toEqual({
      type: 'authentication_error',
      code: 'invalid_api_key',
      status: 'invalid_api_key',
      message: 'Invalid API key',
      request_id: unauthorised.headers.get('request-id'),
    });
  });

  it('rejects missing text, a bad output_format and bad JSON with 422', async () => {
    const missing = await tts(RACHEL, { model_id: 'eleven_flash_v2_5' });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toEqual({
      detail: [{ loc: ['body', 'text'], msg: 'Field required', type: 'missing' }],
    });
    const format = await tts(RACHEL, { text: 'Hi.' }, 'k1', '?output_format=wav_44100');
    expect(format.status).toBe(422);
    expect(((await format.json()) as { detail: { loc: string[] }[] }).detail[0]?.loc).toEqual([
      'query',
      'output_format',
    ]);
    expect((await tts(RACHEL, '{"text": ')).status).toBe(422);
  });

  it('applies language_code on Flash/Turbo v2.5 and v3, refuses a language they lack, and ignores it elsewhere', async () => {
    const german = await tts(RACHEL, { text: 'Hallo.', model_id: 'eleven_flash_v2_5', language_code: 'de' });
    expect(german.status).toBe(200);
    const farsi = await tts(RACHEL, { text: 'Salam.', model_id: 'eleven_turbo_v2_5', language_code: 'fa' });
    expect(farsi.status).toBe(400);
    expect(((await farsi.json()) as { detail: { message: string } }).detail.message).toBe(
      "Model 'eleven_turbo_v2_5' does not support language_code 'fa'.",
    );
    const ignored = await tts(RACHEL, {
      text: 'Salam.',
      model_id: 'eleven_multilingual_v2',
      language_code: 'fa',
    });
    expect(ignored.status).toBe(200);
    expect((await tts(RACHEL, { text: 'Hi.', language_code: 7 })).status).toBe(422);
  });

  it('answers 413 to a body over the limit', async () => {
    const res = await tts(RACHEL, { text: 'a'.repeat(1024 * 1024 + 10) });
    expect(res.status).toBe(413);
  });

  it('answers 429 beyond the concurrency limit and reports the counts', async () => {
    standin.setPacing({ realtimeFactor: 2 });
    const text = 'This sentence keeps a request busy for a while.';
    const first = await tts(`${RACHEL}/stream`, { text }, 'k1', '?output_format=pcm_16000');
    const second = await tts(`${RACHEL}/stream`, { text }, 'k1', '?output_format=pcm_16000');
    const third = await tts(`${RACHEL}/stream`, { text }, 'k1', '?output_format=pcm_16000');
    expect(first.headers.get('current-concurrent-requests')).toBe('1');
    expect(second.headers.get('current-concurrent-requests')).toBe('2');
    expect(second.headers.get('maximum-concurrent-requests')).toBe('2');
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ detail: { code: 'too_many_concurrent_requests' } });
    await Promise.all([first.body?.cancel(), second.body?.cancel()]);
  });

  it('applies a path-filtered fault only to matching requests, the given number of times', async () => {
    standin.injectFault({ status: 503, path: /^\/v1\/models$/, times: 2 });
    const voices = await fetch(`${standin.url}/v1/voices`, { headers: { 'xi-api-key': 'k1' } });
    expect(voices.status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await fetch(`${standin.url}/v1/models`, { headers: { 'xi-api-key': 'k1' } })).status);
    }
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('cuts the connection mid-body on a reset fault (no clean chunked end)', async () => {
    standin.injectFault({ kind: 'reset', afterBytes: 5000 });
    const res = await tts(
      `${RACHEL}/stream`,
      { text: 'Reset me. Please.' },
      'k1',
      '?output_format=pcm_16000',
    );
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('closes idle keep-alive sockets and everything on close()', async () => {
    const own = await startStandin({ idleTimeoutMs: 200 });
    // A raw socket: an HTTP client would close an idle socket itself (with agent: false at once, and a
    // keep-alive agent too when the server's Keep-Alive hint is under a second), whatever the stand-in did.
    const socket = connect(own.port, '127.0.0.1');
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString()));
    socket.write(
      'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nxi-api-key: test-key\r\nConnection: keep-alive\r\n\r\n',
    );
    await once(socket, 'close');
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).not.toMatch(/^connection: close/im);

    // A stream that cannot end by itself (it stalls after its first chunk): close() must cut it.
    own.injectFault({ kind: 'stall', afterBytes: 4096, ms: 600_000 });
    const res = await fetch(`${own.url}/v1/text-to-speech/${RACHEL}/stream?output_format=pcm_16000`, {
      method: 'POST',
      headers: { 'xi-api-key': 'test-key' },
      body: JSON.stringify({ text: 'A long answer that would take several seconds to play in real time.' }),
    });
    expect(res.status).toBe(200);
    const pending = res.arrayBuffer().then(
      () => 'completed',
      (error: unknown) => error,
    );
    await own.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
