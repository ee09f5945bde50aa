import { createHash, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { routeKeyOf } from '../auth/route-tag.js';

/*
 * Keeping players through a proxy reload. In AWS, nginx routes every request of one key to one task with
 * `hash $earshot_route_key consistent` (infra/proxy/README.md). When the task set changes, nginx reloads: its new
 * workers route with the new ring, its old workers keep the open player sockets (worker_shutdown_timeout). Only
 * the users whose key now hashes to another task must move; the others should keep their sockets. nginx cannot
 * tell them apart, so after a reload earshot-upstreams tells every task the new server list, and each task closes
 * the players whose key no longer lands on it (close code 4001: reconnect now), computing nginx's own ring.
 */

/** nginx's ketama: 160 points per server of weight 1 (ngx_http_upstream_hash_module.c, init_chash). */
const POINTS_PER_SERVER = 160;

/** A credential's place on the ring: CRC-32 of its route key (its route tag, or all of it), as nginx hashes it. */
export function routeHashOf(credential: string): number {
  return crc32(routeKeyOf(credential));
}

/**
 * nginx's consistent-hash ring for upstream servers written as `host:port`. Each server's points are
 * crc32(host \0 port prev_hash) chained from prev_hash = 0, prev_hash in little-endian bytes (what nginx does on
 * every little-endian machine, Graviton included); equal points keep one (a 1-in-10⁴ event at 10 tasks, and then
 * which one nginx keeps depends on its unstable qsort, so a user may be told to move once too often, never too few:
 * see closeMoved).
 */
export class UpstreamRing {
  private readonly hashes: Uint32Array;
  private readonly owners: string[];

  constructor(servers: readonly string[]) {
    const points: { hash: number; server: string }[] = [];
    const previous = Buffer.alloc(4);
    for (const server of servers) {
      const colon = server.lastIndexOf(':');
      const host = colon < 0 ? server : server.slice(0, colon);
      const port = colon < 0 ? '' : server.slice(colon + 1);
      const base = crc32(Buffer.concat([Buffer.from(host), Buffer.from([0]), Buffer.from(port)]));
      previous.writeUInt32LE(0);
      for (let point = 0; point < POINTS_PER_SERVER; point++) {
        const hash = crc32(previous, base);
        points.push({ hash, server });
        previous.writeUInt32LE(hash);
      }
    }
    points.sort((a, b) => a.hash - b.hash);
    const unique = points.filter((point, index) => index === 0 || point.hash !== points[index - 1]!.hash);
    this.hashes = Uint32Array.from(unique, (point) => point.hash);
    this.owners = unique.map((point) => point.server);
  }

  /** The server nginx picks for this route hash: the first point at or after it, wrapping round. */
  ownerOf(routeHash: number): string | undefined {
    if (this.owners.length === 0) return undefined;
    let low = 0;
    let high = this.hashes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.hashes[middle]! < routeHash) low = middle + 1;
      else high = middle;
    }
    return this.owners[low % this.owners.length];
  }
}

export interface RoutedPlayer {
  readonly routeHash: number;
  /** Closes the player with 4001 "moved": it reconnects at once and nginx sends it to its new task. */
  moved(): void;
}

/** The players of this process with their route hashes, so a new ring can tell which must move. */
export class RoutedPlayers {
  private readonly players = new Set<RoutedPlayer>();

  track(player: RoutedPlayer): () => void {
    this.players.add(player);
    return () => this.players.delete(player);
  }

  get size(): number {
    return this.players.size;
  }

  /** Closes every player whose key the ring gives to another server than `self`; returns how many. */
  closeMoved(ring: UpstreamRing, self: string): number {
    let moved = 0;
    for (const player of [...this.players]) {
      if (ring.ownerOf(player.routeHash) === self) continue;
      this.players.delete(player);
      player.moved();
      moved++;
    }
    return moved;
  }
}

/** host:port as nginx's upstream file writes it (IPv4, port), bounded. */
const ServerAddress = z
  .string()
  .max(64)
  .regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}$/, 'expected IPv4:port');

const RingBody = z.object({
  self: ServerAddress,
  servers: z.array(ServerAddress).max(64),
});

/** The header earshot-upstreams sends; its value is the secret nginx also requires from CloudFront. */
export const PROXY_SECRET_HEADER = 'x-earshot-proxy-secret';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `POST /internal/v1/route-ring` `{self, servers}`: the proxy's new upstream list after a reload; closes the
 * players that now belong to another task. Registered only when EARSHOT_PROXY_SECRET is set (behind the AWS
 * proxy); the secret is checked before the body is read, and nginx refuses /internal/ from outside anyway.
 */
export function registerRouteRing(app: FastifyInstance, players: RoutedPlayers, secret: string): void {
  const expected = digest(secret);
  app.post(
    '/internal/v1/route-ring',
    {
      bodyLimit: 8 * 1024,
      onRequest: async (request, reply) => {
        const presented = request.headers[PROXY_SECRET_HEADER];
        if (typeof presented !== 'string' || !timingSafeEqual(digest(presented), expected)) {
          return reply.code(401).send({
            error: { code: 'unauthorized', message: `Send the proxy secret in ${PROXY_SECRET_HEADER}.` },
          });
        }
      },
    },
    async (request, reply) => {
      const parsed = RingBody.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({
          error: { code: 'invalid_input', message: `Send {self, servers} as IPv4:port strings.` },
        });
      }
      const { self, servers } = parsed.data;
      const moved = servers.length === 0 ? 0 : players.closeMoved(new UpstreamRing(servers), self);
      request.log.info({ servers: servers.length, moved, kept: players.size }, 'proxy ring changed');
      return { moved, kept: players.size };
    },
  );
}
