import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPlayer, type TestPlayer } from '../../test/support/player.js';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { routeHashOf, RoutedPlayers, UpstreamRing } from './route-ring.js';

const keys = Array.from(
  { length: 2000 },
  (_, index) => `esk_ring_${index}_${randomBytes(6).toString('hex')}`,
);
const three = ['10.0.1.5:8080', '10.0.2.17:8080', '10.0.1.200:8080'];

describe('UpstreamRing (nginx consistent hash)', () => {
  it('spreads keys over every server', () => {
    const ring = new UpstreamRing(three);
    const counts = new Map<string, number>();
    for (const key of keys) {
      const owner = ring.ownerOf(routeHashOf(key))!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...three].sort());
    for (const count of counts.values()) expect(count).toBeGreaterThan(keys.length / 6);
  });

  it('does not depend on the order the servers are listed in', () => {
    const a = new UpstreamRing(three);
    const b = new UpstreamRing([...three].reverse());
    for (const key of keys) expect(b.ownerOf(routeHashOf(key))).toBe(a.ownerOf(routeHashOf(key)));
  });

  it('moves only the keys of a server that leaves, and only to the server that joins', () => {
    const before = new UpstreamRing(three);
    const shrunk = new UpstreamRing(three.slice(0, 2));
    const grown = new UpstreamRing([...three, '10.0.2.99:8080']);
    let movedToNew = 0;
    for (const key of keys) {
      const hash = routeHashOf(key);
      const was = before.ownerOf(hash);
      if (was !== three[2]) expect(shrunk.ownerOf(hash)).toBe(was);
      const now = grown.ownerOf(hash);
      if (now !== was) {
        expect(now).toBe('10.0.2.99:8080');
        movedToNew++;
      }
    }
    // About a quarter of the keys move to the fourth server; none move between the others.
    expect(movedToNew).toBeGreaterThan(keys.length / 8);
    expect(movedToNew).toBeLessThan(keys.length / 2);
  });

  it('wraps round past the highest point and answers nothing for an empty ring', () => {
    const ring = new UpstreamRing(three);
    expect(ring.ownerOf(0xffffffff)).toBe(ring.ownerOf(0));
    expect(new UpstreamRing([]).ownerOf(1)).toBeUndefined();
  });
});

describe('RoutedPlayers', () => {
  it('closes exactly the players whose key the ring gives to another server', () => {
    const players = new RoutedPlayers();
    const ring = new UpstreamRing(three);
    const self = three[0]!;
    const closed: string[] = [];
    for (const key of keys.slice(0, 60)) {
      players.track({ routeHash: routeHashOf(key), moved: () => closed.push(key) });
    }
    const expected = keys.slice(0, 60).filter((key) => ring.ownerOf(routeHashOf(key)) !== self);
    expect(players.closeMoved(ring, self)).toBe(expected.length);
    expect(closed).toEqual(expected);
    expect(players.size).toBe(60 - expected.length);
    // A second identical ring moves nobody.
    expect(players.closeMoved(ring, self)).toBe(0);
  });
});

describe('POST /internal/v1/route-ring', () => {
  const secret = randomBytes(24).toString('hex');
  let server: TestServer | undefined;
  const players: TestPlayer[] = [];

  afterEach(async () => {
    for (const player of players.splice(0)) await player.close();
    await server?.close();
    server = undefined;
  });

  async function post(body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${server!.url}/internal/v1/route-ring`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  it('does not exist without EARSHOT_PROXY_SECRET', async () => {
    server = await startTestServer();
    const response = await post({ self: three[0], servers: three }, { 'x-earshot-proxy-secret': secret });
    expect(response.status).toBe(404);
  });

  it('refuses a missing or wrong secret and a bad body, and keeps serving', async () => {
    server = await startTestServer({ env: { EARSHOT_PROXY_SECRET: secret } });
    expect((await post({ self: three[0], servers: three })).status).toBe(401);
    expect(
      (await post({ self: three[0], servers: three }, { 'x-earshot-proxy-secret': `${secret}x` })).status,
    ).toBe(401);
    const bad = await post({ self: 'evil.example:80', servers: ['x'] }, { 'x-earshot-proxy-secret': secret });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_input' } });
    const tooMany = Array.from({ length: 65 }, (_, index) => `10.0.0.${index}:8080`);
    expect(
      (await post({ self: three[0], servers: tooMany }, { 'x-earshot-proxy-secret': secret })).status,
    ).toBe(400);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("closes the players of users the new ring sends elsewhere with 4001, and keeps the others'", async () => {
    const users = Array.from({ length: 12 }, (_, index) => `u${index}`);
    server = await startTestServer({ users, env: { EARSHOT_PROXY_SECRET: secret } });
    const self = '10.0.1.5:8080';
    const ring = new UpstreamRing([self, '10.0.2.17:8080']);
    const byUser = new Map<string, TestPlayer>();
    for (const user of users) {
      const player = await connectPlayer(server.url, server.keys[user]!);
      players.push(player);
      byUser.set(user, player);
    }
    const moving = users.filter((user) => ring.ownerOf(routeHashOf(server!.keys[user]!)) !== self);
    // With 12 users both outcomes occur except with probability ~2⁻¹¹.
    expect(moving.length).toBeGreaterThan(0);
    expect(moving.length).toBeLessThan(users.length);

    const response = await post(
      { self, servers: ['10.0.2.17:8080', self] },
      { 'x-earshot-proxy-secret': secret },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ moved: moving.length, kept: users.length - moving.length });
    for (const user of moving) expect((await byUser.get(user)!.closed).code).toBe(4001);
    // The others still hear speech: a REST speak for one of them reaches its player.
    const staying = users.find((user) => !moving.includes(user))!;
    const spoken = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.keys[staying]!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Still here.' }),
    });
    expect(spoken.status).toBeLessThan(300);
    await byUser.get(staying)!.waitFor('speech.end');
  }, 60_000);
});
