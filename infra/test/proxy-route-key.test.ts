// earshot-route-key, the proxy's decoder of players' keys (nginx cannot decode base64url), as a real process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouteKeyService, type RouteKeyService } from '../src/proxy/testing/local-nginx.js';

let service: RouteKeyService;
beforeAll(async () => {
  service = await startRouteKeyService();
});
afterAll(async () => {
  await service?.stop();
});

async function routeKeyFor(subprotocols?: string): Promise<{ status: number; key: string | null }> {
  const response = await fetch(`http://${service.address}/_nginx/route-key`, {
    headers: subprotocols === undefined ? {} : { 'Sec-WebSocket-Protocol': subprotocols },
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, key: response.headers.get('x-earshot-route-key') };
}

const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('earshot-route-key', () => {
  it('answers the raw key a player offers as bearer.<base64url(key)>, whatever its length and padding', async () => {
    for (const key of ['k', 'ke', 'key', 'esk_2f9c0a7b1e', 'A+/=~_-.:'.repeat(3), 'x'.repeat(512)]) {
      expect(await routeKeyFor(`earshot.v1, bearer.${b64url(key)}`)).toEqual({ status: 204, key });
    }
  });

  it('answers the route tag of a credential Earshot issued, for keys and in-chat speech tokens alike', async () => {
    expect(await routeKeyFor(`earshot.v1, bearer.${b64url('esk_AbCdEfGh_-12.secret')}`)).toEqual({
      status: 204,
      key: 'AbCdEfGh_-12',
    });
    expect(await routeKeyFor('earshot.v1, speech-token.est_AbCdEfGh_-12.other')).toEqual({
      status: 204,
      key: 'AbCdEfGh_-12',
    });
    // No tag (a key made by hand, a tag of the wrong length): the whole credential, as before.
    for (const key of ['esk_short.secret', 'esk_AbCdEfGh_-123.secret', 'xyz_AbCdEfGh_-12.secret']) {
      expect(await routeKeyFor(`earshot.v1, bearer.${b64url(key)}`), key).toEqual({ status: 204, key });
    }
    expect(await routeKeyFor('earshot.v1, speech-token.has space')).toEqual({ status: 204, key: null });
  });

  it('finds the bearer entry wherever it is in the list and takes the first usable one', async () => {
    expect(await routeKeyFor(`bearer.${b64url('first')},earshot.v1,bearer.${b64url('second')}`)).toEqual({
      status: 204,
      key: 'first',
    });
  });

  it('answers without a key (so nginx routes by the empty key) for anything it cannot use', async () => {
    for (const offered of [
      undefined,
      'earshot.v1',
      'earshot.v1, bearer.',
      'earshot.v1, bearer.@@@@',
      `earshot.v1, bearer.${b64url('has space')}`,
      `earshot.v1, bearer.${b64url('line\nbreak')}`,
      `earshot.v1, bearer.${b64url('ümlaut')}`,
      `earshot.v1, bearer.${b64url('x'.repeat(513))}`,
    ]) {
      expect(await routeKeyFor(offered), String(offered)).toEqual({ status: 204, key: null });
    }
  });

  it('answers a burst of lookups at once (every player reconnects together after a reload)', async () => {
    const keys = Array.from({ length: 100 }, (_, index) => `burst-${index}`);
    const answers = await Promise.all(keys.map((key) => routeKeyFor(`earshot.v1, bearer.${b64url(key)}`)));
    expect(answers.map((answer) => answer.key)).toEqual(keys);
  });
});
