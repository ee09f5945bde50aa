import { describe, expect, it } from 'vitest';
import { generateApiKey } from './keys.js';
import { routeKeyOf, routeTagOf } from './route-tag.js';

describe('route tags', () => {
  it('are 12 base64url characters, the same for a user every time and different between users', () => {
    expect(routeTagOf('alice')).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(routeTagOf('alice')).toBe(routeTagOf('alice'));
    expect(routeTagOf('alice')).not.toBe(routeTagOf('bob'));
  });

  it("route every credential a user is issued on that user's tag", () => {
    const tag = routeTagOf('alice');
    const key = generateApiKey('alice');
    expect(key).toMatch(new RegExp(`^esk_${tag.replace(/[-]/g, '\\-')}\\.[A-Za-z0-9_-]{32}$`));
    expect(routeKeyOf(key)).toBe(tag);
    expect(routeKeyOf(`eso_at_${tag}.x`)).toBe(tag);
    expect(routeKeyOf(`est_${tag}.y`)).toBe(tag);
  });

  it('route anything else on the whole credential', () => {
    const local = generateApiKey();
    expect(local).toMatch(/^esk_[A-Za-z0-9_-]{32}$/);
    expect(routeKeyOf(local)).toBe(local);
    for (const other of ['esk_short.x', 'eso_rt_AbCdEfGh_-12.x', 'xesk_AbCdEfGh_-12.x', 'esk_AbCdEfGh_-12']) {
      expect(routeKeyOf(other), other).toBe(other);
    }
  });
});
