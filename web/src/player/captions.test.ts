import { describe, expect, it } from 'vitest';
import { alignPcm } from './audio-out.js';
import { CaptionTiming, splitWords, wordAt } from './captions.js';

describe('caption timing', () => {
  const text = 'Build passed. Ship it?';

  it('splits words on whitespace, indexing the original text', () => {
    const words = splitWords('  two  words ');
    expect(words).toEqual([
      { start: 2, end: 5 },
      { start: 7, end: 12 },
    ]);
    expect(wordAt(words, 0)).toBe(-1);
    expect(wordAt(words, 6)).toBe(0);
    expect(wordAt(words, 8)).toBe(1);
  });

  it('estimates from the known audio length, never running ahead of a typical speaking rate', () => {
    const timing = new CaptionTiming(text);
    // 22 characters at 15/s is ~1467 ms: with only 500 ms of audio known, the estimate uses the longer one.
    expect(timing.charAt(0, 500, false)).toBe(0);
    expect(timing.charAt(733, 500, false)).toBe(10);
    // Once ended, the real duration rules: half way through is half the text.
    expect(timing.charAt(1000, 2000, true)).toBe(11);
    expect(timing.charAt(5000, 2000, true)).toBe(text.length - 1);
  });

  it('follows alignment chunks, which continue one another', () => {
    const timing = new CaptionTiming(text);
    timing.addAlignment(
      [...text.slice(0, 14)],
      [...text.slice(0, 14)].map((_, i) => i * 100),
    );
    timing.addAlignment(
      [...text.slice(14)],
      [...text.slice(14)].map((_, i) => 2000 + i * 100),
    );
    expect(timing.hasAlignment).toBe(true);
    expect(timing.charAt(550, 0, false)).toBe(5);
    // The gap between chunks holds the last character of the first one.
    expect(timing.charAt(1900, 0, false)).toBe(13);
    expect(timing.charAt(2150, 0, false)).toBe(15);
  });
});

describe('PCM frame alignment', () => {
  it('carries an odd byte over to the next frame so no sample is split', () => {
    const first = alignPcm(new Uint8Array([1, 2, 3]), null);
    expect([...first.bytes]).toEqual([1, 2]);
    expect(first.carry).toBe(3);
    const second = alignPcm(new Uint8Array([4, 5, 6]), first.carry);
    expect([...second.bytes]).toEqual([3, 4, 5, 6]);
    expect(second.carry).toBeNull();
  });
});
