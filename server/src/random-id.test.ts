import { describe, expect, it } from 'vitest';
import { randomId } from './random-id.js';

describe('randomId', () => {
  it('gives the prefix and bytes·4/3 base64url characters, never the same twice across pool refills', () => {
    const ids = new Set<string>();
    // 9 bytes each: ~455 ids per 4 KiB pool, so 5,000 ids cross ten refills and the pool's end.
    for (let i = 0; i < 5000; i++) {
      const id = randomId('sp_', 9);
      expect(id).toMatch(/^sp_[A-Za-z0-9_-]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5000);
  });

  it('refuses more bytes than the pool holds', () => {
    expect(() => randomId('x', 4097)).toThrow(RangeError);
  });
});
