import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { speechCacheKey } from './cache-key.js';

/** The key as the first release computed it: stored audio is found by it, so it must never drift. */
function keyAsStored(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

describe('speech cache key', () => {
  const settings = { stability: 0.5, similarity_boost: 0.75, speed: undefined };

  it('is the key audio was stored under: sha256 of the request, settings sorted and unset ones left out', () => {
    const key = speechCacheKey('Hello there.', 'voice1', 'eleven_multilingual_v2', settings);
    expect(key).toBe(
      keyAsStored([
        'Hello there.',
        'voice1',
        'eleven_multilingual_v2',
        { similarity_boost: 0.75, stability: 0.5 },
      ]),
    );
    expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('adds the language only when one is given, and tells requests apart', () => {
    const plain = speechCacheKey('Hola.', 'voice1', 'm', settings);
    const spanish = speechCacheKey('Hola.', 'voice1', 'm', settings, 'es');
    expect(spanish).toBe(
      keyAsStored(['Hola.', 'voice1', 'm', { similarity_boost: 0.75, stability: 0.5 }, 'es']),
    );
    expect(spanish).not.toBe(plain);
    expect(speechCacheKey('Hola.', 'voice2', 'm', settings)).not.toBe(plain);
    // Key order of the settings does not matter.
    expect(speechCacheKey('Hola.', 'voice1', 'm', { similarity_boost: 0.75, stability: 0.5 })).toBe(plain);
  });
});
