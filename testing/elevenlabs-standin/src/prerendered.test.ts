// Prerendered mode (benchmarks): each distinct request synthesised once, the same bytes replayed after.
import { FliteSynthesizer } from '@earshot/flite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './index.js';

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
const ADAM = 'pNInz6obpgDQGcFmaJgB';

let synthesizer: FliteSynthesizer;
let syntheses = 0;
let prerendered: Standin;
let live: Standin;

beforeAll(async () => {
  synthesizer = new FliteSynthesizer();
  // Counts syntheses: the one thing prerendered mode must not repeat.
  const synthesizeSentences = synthesizer.synthesizeSentences.bind(synthesizer);
  synthesizer.synthesizeSentences = (...args) => {
    syntheses++;
    return synthesizeSentences(...args);
  };
  [prerendered, live] = await Promise.all([
    startStandin({ synthesizer, prerendered: true }),
    startStandin({ synthesizer }),
  ]);
});
beforeEach(() => void (syntheses = 0));
afterAll(async () => {
  await Promise.all([prerendered?.close(), live?.close()]);
  await synthesizer?.close();
});

async function body(standin: Standin, path: string, text: string, format = 'pcm_24000'): Promise<Buffer> {
  const response = await fetch(`${standin.url}/v1/text-to-speech/${path}?output_format=${format}`, {
    method: 'POST',
    headers: { 'xi-api-key': 'test-key', 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('prerendered mode', () => {
  it('synthesises a request once and replays the same NDJSON bytes to the next ones', async () => {
    const text = 'The build is green. Three tests were slow.';
    const first = await body(prerendered, `${RACHEL}/stream/with-timestamps`, text);
    const second = await body(prerendered, `${RACHEL}/stream/with-timestamps`, text);
    expect(second.equals(first)).toBe(true);
    expect(syntheses).toBe(1);
    expect(first.toString('utf8').trimEnd().split('\n').length).toBeGreaterThan(1);
  });

  it('sends exactly what live synthesis sends, on every text-to-speech endpoint', async () => {
    const text = 'Deploy finished. Error rate is flat.';
    for (const path of [
      `${RACHEL}/stream/with-timestamps`,
      `${RACHEL}/stream`,
      `${RACHEL}/with-timestamps`,
      RACHEL,
    ]) {
      const [replayed, synthesised] = await Promise.all([
        body(prerendered, path, text, 'mp3_22050_32'),
        body(live, path, text, 'mp3_22050_32'),
      ]);
      expect(replayed.equals(synthesised), path).toBe(true);
    }
  });

  it('renders anew for another voice, text or format, and once for requests that arrive together', async () => {
    const text = 'Two requests at once share one render.';
    const together = await Promise.all(
      Array.from({ length: 3 }, () => body(prerendered, `${RACHEL}/stream/with-timestamps`, text)),
    );
    expect(together.every((bytes) => bytes.equals(together[0]!))).toBe(true);
    expect(syntheses).toBe(1);
    await body(prerendered, `${ADAM}/stream/with-timestamps`, text);
    await body(prerendered, `${RACHEL}/stream/with-timestamps`, `${text} Again.`);
    await body(prerendered, `${RACHEL}/stream/with-timestamps`, text, 'pcm_16000');
    expect(syntheses).toBe(4);
  });

  it('still bills, logs and keeps history for a replayed request', async () => {
    const text = 'Replays are billed like any request.';
    await body(prerendered, `${RACHEL}/stream/with-timestamps`, text);
    const usage = prerendered.usage;
    await body(prerendered, `${RACHEL}/stream/with-timestamps`, text);
    expect(prerendered.usage - usage).toBe(text.length);
    expect(prerendered.requests.at(-1)?.status).toBe(200);
    const history = await fetch(`${prerendered.url}/v1/history?page_size=2`, {
      headers: { 'xi-api-key': 'test-key' },
    });
    const items = ((await history.json()) as { history: { text: string }[] }).history;
    expect(items.map((item) => item.text)).toEqual([text, text]);
  });
});
