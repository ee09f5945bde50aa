import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mp3ToPcm } from './mp3-pcm.js';

const KEY = 'mp3-pcm-key';
const TEXT = 'The quick brown fox jumps over the lazy dog.';

function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return Math.sqrt(sum / (pcm.length / 2));
}

/** The same speech from the stand-in as MP3 (44.1 kHz) and as 24 kHz PCM: the decoded MP3 must match the PCM. */
describe('Mp3ToPcm', () => {
  let standin: Standin;
  const speech = async (format: string) => {
    const response = await fetch(
      `${standin.url}/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=${format}`,
      {
        method: 'POST',
        headers: { 'xi-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ text: TEXT }),
      },
    );
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };

  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [KEY] });
  });
  afterAll(async () => {
    await standin.close();
  });

  it('decodes MP3 in arbitrary pieces to 24 kHz PCM as long and as loud as the same speech', async () => {
    const [mp3, reference] = await Promise.all([speech('mp3_44100_128'), speech('pcm_24000')]);
    const decoder = await Mp3ToPcm.create(24_000);
    const parts: Buffer[] = [];
    // Uneven pieces that split frames, as a network delivers them.
    for (let offset = 0, size = 1; offset < mp3.length; offset += size, size = ((size * 7) % 5000) + 1)
      parts.push(decoder.push(mp3.subarray(offset, offset + size)));
    decoder.close();
    const pcm = Buffer.concat(parts);
    const ms = (bytes: number) => bytes / 48;
    // MP3 adds encoder delay and padding (a few frames at most).
    expect(Math.abs(ms(pcm.length) - ms(reference.length))).toBeLessThan(120);
    expect(rms(pcm)).toBeGreaterThan(rms(reference) * 0.7);
    expect(rms(pcm)).toBeLessThan(rms(reference) * 1.3);
  });

  it('gives no audio for bytes that are not MP3, and refuses use after close', async () => {
    const decoder = await Mp3ToPcm.create(24_000);
    const garbage = Buffer.alloc(64 * 1024, 0x5a);
    let decoded: Buffer = Buffer.alloc(0);
    let threw = false;
    try {
      decoded = decoder.push(garbage);
    } catch {
      threw = true;
    }
    decoder.close();
    expect(threw || decoded.length === 0).toBe(true);
    expect(() => decoder.push(garbage)).toThrow(/closed/);
  });
});
