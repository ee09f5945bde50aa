import { describe, expect, it } from 'vitest';
import { Aligner, takeAlignment } from './alignment.js';
import { parseOutputFormat, secondsPerByte, OUTPUT_FORMAT_IDS } from './audio/formats.js';
import { linearToAlaw, linearToUlaw } from './audio/g711.js';
import { Mp3Encoder } from './audio/mp3/encoder.js';
import { LinearResampler } from './audio/resample.js';

const MPEG1_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/** Walks MPEG audio frames by their headers; throws on anything that is not a Layer III mono frame. */
function parseFrames(mp3: Buffer): { frames: number; sampleRate: number; kbps: number; samples: number } {
  let offset = 0;
  let frames = 0;
  let samples = 0;
  let sampleRate = 0;
  let kbps = 0;
  while (offset < mp3.length) {
    const header = mp3.readUInt32BE(offset);
    if (header >>> 21 !== 0x7ff) throw new Error(`no frame sync at byte ${offset}`);
    const mpeg1 = ((header >>> 19) & 3) === 3;
    if (((header >>> 17) & 3) !== 1) throw new Error('not Layer III');
    if (((header >>> 6) & 3) !== 3) throw new Error('not mono');
    kbps = (mpeg1 ? MPEG1_KBPS : MPEG2_KBPS)[(header >>> 12) & 15]!;
    sampleRate = (mpeg1 ? [44100, 48000, 32000] : [22050, 24000, 16000])[(header >>> 10) & 3]!;
    const padding = (header >>> 9) & 1;
    const perFrame = mpeg1 ? 1152 : 576;
    offset += Math.floor(((perFrame / 8) * kbps * 1000) / sampleRate) + padding;
    frames++;
    samples += perFrame;
  }
  if (offset !== mp3.length) throw new Error('trailing partial frame');
  return { frames, sampleRate, kbps, samples };
}

function tone(rate: number, seconds: number, hz: number): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)),
  );
}

describe('MP3 encoder', () => {
  it.each([
    [44100, 128],
    [44100, 32],
    [44100, 192],
    [22050, 32],
    [24000, 48],
  ])('writes whole CBR Layer III frames at %i Hz, %i kbps, as long as the input', (rate, kbps) => {
    const encoder = new Mp3Encoder({ sampleRate: rate, bitrateKbps: kbps });
    const input = tone(rate, 1.3, 440);
    // Fed in odd-sized pieces, as sentences arrive.
    const mp3 = Buffer.concat([
      encoder.encode(input.subarray(0, 1000)),
      encoder.encode(input.subarray(1000)),
      encoder.flush(),
    ]);
    const parsed = parseFrames(mp3);
    expect(parsed).toMatchObject({ sampleRate: rate, kbps });
    const seconds = parsed.samples / rate;
    expect(seconds).toBeGreaterThanOrEqual(1.3);
    expect(seconds).toBeLessThan(1.3 + 2 * (1152 / rate) + 0.06);
    // Constant bit rate: bytes × 8 / bit rate is the duration.
    expect((mp3.length * 8) / (kbps * 1000)).toBeCloseTo(seconds, 1);
  });

  it('codes silence and sound differently (the spectrum is really coded)', () => {
    const encode = (samples: Int16Array) => {
      const encoder = new Mp3Encoder({ sampleRate: 44100, bitrateKbps: 128 });
      return Buffer.concat([encoder.encode(samples), encoder.flush()]);
    };
    const silent = encode(new Int16Array(44100));
    const loud = encode(tone(44100, 1, 1000));
    expect(silent.length).toBe(loud.length);
    // Silent frames carry no main data: everything after header and side info is zero.
    expect(silent.subarray(21, 417).every((byte) => byte === 0)).toBe(true);
    expect(loud.subarray(21 + 417 * 4, 417 * 5).some((byte) => byte !== 0)).toBe(true);
  });
});

describe('G.711', () => {
  // The standard decoders (ITU-T G.711), to check the encoders round-trip within a step.
  const ulawToLinear = (code: number) => {
    const u = ~code & 0xff;
    const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
    return u & 0x80 ? 0x84 - t : t - 0x84;
  };
  const alawToLinear = (code: number) => {
    const a = code ^ 0x55;
    const seg = (a & 0x70) >> 4;
    let t = (a & 0x0f) << 4;
    t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
    return a & 0x80 ? t : -t;
  };

  it('round-trips within one quantisation step', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    for (let sample = -32768; sample < 32768; sample += 37) {
      const tolerance = Math.max(16, Math.abs(sample) / 16);
      expect(Math.abs(ulawToLinear(linearToUlaw(sample)) - sample)).toBeLessThanOrEqual(tolerance * 1.1);
      expect(Math.abs(alawToLinear(linearToAlaw(sample)) - sample)).toBeLessThanOrEqual(tolerance * 1.1);
    }
  });
});

describe('resampler', () => {
  it('keeps duration across pieces and reproduces a slow ramp', () => {
    const resampler = new LinearResampler(16000, 24000);
    const input = Int16Array.from({ length: 16000 }, (_, i) => i);
    const pieces = [input.subarray(0, 3333), input.subarray(3333, 9000), input.subarray(9000)];
    const output = pieces.flatMap((piece) => Array.from(resampler.push(piece)));
    expect(Math.abs(output.length - 24000)).toBeLessThanOrEqual(2);
    for (let i = 0; i < output.length; i += 997) expect(output[i]).toBeCloseTo((i * 2) / 3, -1);
  });
});

describe('output formats and alignment', () => {
  it('knows every documented format and its byte rate', () => {
    expect(OUTPUT_FORMAT_IDS).toContain('mp3_44100_128');
    expect(parseOutputFormat('pcm_44100')).toEqual({ id: 'pcm_44100', codec: 'pcm', sampleRate: 44100 });
    expect(parseOutputFormat('wav_44100')).toBeUndefined();
    expect(secondsPerByte(parseOutputFormat('mp3_44100_128')!)).toBe(1 / 16000);
    expect(secondsPerByte(parseOutputFormat('ulaw_8000')!)).toBe(1 / 8000);
  });

  it('spreads each piece over its characters, whitespace between pieces at zero length', () => {
    const aligner = new Aligner('Hi.\n\nGo  now.');
    const first = aligner.next('Hi.', 0, 0.3);
    expect(first.characters).toEqual(['H', 'i', '.']);
    expect(first.character_end_times_seconds).toEqual([0.1, 0.2, 0.3]);
    const second = aligner.next('Go now.', 0.3, 0.8);
    expect(second.characters.join('')).toBe('\n\nGo  now.');
    expect(second.character_start_times_seconds.slice(0, 3)).toEqual([0.3, 0.3, 0.3]);
    expect(second.character_end_times_seconds.at(-1)).toBe(1.1);
    expect(aligner.rest(1.1).characters).toEqual([]);
    const early = takeAlignment(second, 0.5);
    expect(early.characters.join('')).toBe('\n\nGo');
    expect(second.characters.join('')).toBe('  now.');
  });
});
