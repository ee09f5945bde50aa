import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { OggOpusDecoder } from '@earshot/flite';
import { OGG_OPUS } from '@earshot/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { launchChromium } from './support/browser.js';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'browser-opus-upstream-key';

interface Timeline {
  mimeType: string;
  firstAudioAt: number | null;
  peakBeforeEnd: number;
  endAt: number | null;
}
/** What the page scheduled for one speech: every sample, in order, as it went to Web Audio. */
interface Scheduled {
  rate: number;
  samples: number[];
}

/**
 * Debian's Chromium decodes the compressed stream for real (WebCodecs), and a browser without WebCodecs gets
 * PCM from the server: both play the same speech, sample-aligned with the character timings.
 */
describe('compressed streaming in Chromium', () => {
  let standin: Standin;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    standin = await startStandin({
      apiKeys: [UPSTREAM_KEY],
      pacing: { firstByteLatencyMs: 150, realtimeFactor: 2 },
    });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await standin?.close();
  });

  /** Opens the console with audio on; `withoutWebCodecs` removes AudioDecoder before any script runs. */
  async function openPlayer(withoutWebCodecs: boolean): Promise<Page> {
    const page = await browser.newPage();
    if (withoutWebCodecs) {
      await page.addInitScript(() => {
        delete (window as { AudioDecoder?: unknown }).AudioDecoder;
      });
    }
    await page.goto(`${server.url}/#key=${server.keys.alice}`);
    await page.getByText('Connected as alice').waitFor();
    await page.getByRole('button', { name: 'Enable audio' }).click();
    await page.getByRole('button', { name: 'Audio on' }).waitFor();
    // Record every sample handed to Web Audio (both paths end in scheduleSamples), then play it as usual.
    await page.evaluate(() => {
      type Out = {
        scheduleSamples(id: string, samples: Float32Array, rate: number, ...rest: unknown[]): unknown;
      };
      const w = window as unknown as {
        earshotPlayer: { player: { audio: Out } };
        scheduled: Record<string, Scheduled>;
      };
      const out = w.earshotPlayer.player.audio;
      const original = out.scheduleSamples.bind(out);
      w.scheduled = {};
      out.scheduleSamples = (id, samples, rate, ...rest) => {
        const entry = (w.scheduled[id] ??= { rate, samples: [] });
        for (const sample of samples) entry.samples.push(sample);
        return original(id, samples, rate, ...rest);
      };
    });
    return page;
  }

  async function speakAndCollect(page: Page, text: string) {
    const client = await connectMcp(server.url, server.keys.alice);
    const result = (await client.callTool({ name: 'speak', arguments: { text, wait: 'played' } }))
      .structuredContent as { id: string; played: boolean; durationMs: number; audioUrl: string };
    await client.close();
    const { timeline, scheduled } = await page.evaluate((id) => {
      const w = window as unknown as {
        earshotPlayer: { stats: { timeline: Record<string, Timeline> } };
        scheduled: Record<string, Scheduled>;
      };
      return { timeline: w.earshotPlayer.stats.timeline[id]!, scheduled: w.scheduled[id]! };
    }, result.id);
    // The stored Ogg Opus, decoded on the server at the rate the page played (the reference: its length is
    // checked against Flite's own output in speak-offline.test.ts).
    const stored = await fetch(result.audioUrl, {
      headers: { authorization: `Bearer ${server.keys.alice}` },
    });
    expect(stored.headers.get('content-type')).toBe(OGG_OPUS);
    const decoder = new OggOpusDecoder(scheduled.rate as 24_000 | 48_000);
    const pcm = Buffer.concat(decoder.push(Buffer.from(await stored.arrayBuffer())));
    decoder.close();
    const reference = Array.from(
      new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2),
      (s) => s / 32768,
    );
    return { result, timeline, scheduled, reference };
  }

  /** Normalised correlation of the page's samples with the reference, with no shift between them. */
  function correlationAtZero(a: readonly number[], b: readonly number[]): number {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! ** 2;
      bb += b[i]! ** 2;
    }
    return ab / Math.sqrt(aa * bb);
  }

  it('plays Ogg Opus through WebCodecs as it arrives, sample-aligned with the captions, and reports it played', async () => {
    const page = await openPlayer(false);
    const text =
      'The deployment finished without errors. Every service reports healthy, and the queue is empty.';
    const { result, timeline, scheduled, reference } = await speakAndCollect(page, text);
    expect(result.played).toBe(true);
    expect(timeline.mimeType).toBe(OGG_OPUS);
    // Heard while the speech was still being generated (the stand-in generates at twice real time).
    expect(timeline.firstAudioAt).not.toBeNull();
    expect(timeline.firstAudioAt!).toBeLessThan(timeline.endAt!);
    expect(timeline.peakBeforeEnd).toBeGreaterThan(0.05);
    // WebCodecs decodes at 48 kHz; the page dropped the encoder's pre-skip and the end padding, so its sample 0
    // is the server's sample 0 — where the character timings start — and it holds exactly the speech's length.
    expect(scheduled.rate).toBe(48_000);
    expect(scheduled.samples.length).toBe(reference.length);
    expect(Math.abs(scheduled.samples.length / 48 - result.durationMs)).toBeLessThanOrEqual(1);
    expect(correlationAtZero(scheduled.samples, reference)).toBeGreaterThan(0.95);
    // Chromium's own Ogg demuxer and decoder (not the console's code) read the stored file to the same length.
    const decodedSeconds = await page.evaluate(
      async ({ url, key }) => {
        const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
        const context = new AudioContext();
        const buffer = await context.decodeAudioData(await response.arrayBuffer());
        await context.close();
        return buffer.duration;
      },
      { url: result.audioUrl, key: server.keys.alice! },
    );
    expect(Math.abs(decodedSeconds * 1000 - result.durationMs)).toBeLessThan(30);
    // Captions followed to the last word once played.
    await expect
      .poll(() => page.locator('#now-text .word.spoken').count())
      .toBe(await page.locator('#now-text .word').count());
    await page.close();
  });

  it('gets PCM from the server in a browser without WebCodecs, and plays the same speech', async () => {
    const page = await openPlayer(true);
    expect(await page.evaluate(() => typeof (window as { AudioDecoder?: unknown }).AudioDecoder)).toBe(
      'undefined',
    );
    const text = 'Three reviews are waiting for you. The oldest one is about the cache, and it is small.';
    const { result, timeline, scheduled, reference } = await speakAndCollect(page, text);
    expect(result.played).toBe(true);
    expect(timeline.mimeType).toBe('audio/pcm');
    expect(timeline.peakBeforeEnd).toBeGreaterThan(0.05);
    // The server decoded its Opus once to 24 kHz PCM for this player: the same samples, the same timings.
    expect(scheduled.rate).toBe(24_000);
    expect(scheduled.samples.length).toBe(reference.length);
    expect(correlationAtZero(scheduled.samples, reference)).toBeGreaterThan(0.99);
    await page.close();
  });
});
