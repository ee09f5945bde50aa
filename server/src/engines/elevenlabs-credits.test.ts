import { describe, expect, it } from 'vitest';
import { creditsCharged } from './elevenlabs-credits.js';

describe('creditsCharged (the character-cost header)', () => {
  it('reads the credits ElevenLabs names', () => {
    expect(creditsCharged('80', 5)).toBe(80);
    expect(creditsCharged(' 12 ', 5)).toBe(12);
    expect(creditsCharged('0', 5)).toBe(0);
    expect(creditsCharged('2.5', 5)).toBe(2.5);
  });

  it('counts the fallback for a missing, empty, negative or malformed value, never less', () => {
    for (const header of [null, '', ' ', '-3', 'abc', '1e3', 'Infinity', 'NaN', '12abc', '9'.repeat(20)])
      expect(creditsCharged(header, 42), String(header)).toBe(42);
  });
});
