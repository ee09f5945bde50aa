import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionLimits } from '../config/env.js';

/*
 * Why these limits, and why no others:
 * - Node times a request only once its first byte arrived (`headersTimeout` for the head, `requestTimeout` for
 *   head and body), and only until the request is complete: a `speak` whose SSE answer lasts minutes, or a player
 *   WebSocket that lives all day, is never cut. That is the shape we want; Fastify turns `requestTimeout` off by
 *   default, so it is set here.
 * - Node's deadlines are checked every `connectionsCheckingInterval` (30 s by default, so a 10 s deadline could
 *   take 40 s); we check at a quarter of the shortest deadline, at most once a second. The check walks only sockets
 *   with a request in progress.
 * - A socket that connects and sends nothing is timed too: Node starts the head clock when the socket connects.
 *   `connectionTimeout` (an idle timeout on every socket) is not used: it would cut a quiet SSE stream.
 * - Keep-alive stays at Fastify's 72 s: above the 60 s idle time of nginx and load balancers upstream of us, so a
 *   proxy never reuses a socket we are closing.
 * - Sockets are capped per client address (an IPv6 client holds a whole /64, so it counts as one), so one client
 *   cannot hold every socket, and in all (`server.maxConnections`) to bound memory and file descriptors. Behind a
 *   proxy every socket comes from the proxy: there the per-client cap is turned off (the proxy applies its own).
 */

/** The key a socket is counted under: its IPv4 address, or the /64 of its IPv6 address. */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const bare = address.replace(/%.*$/, '').toLowerCase();
  const [head = '', tail = ''] = bare.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = bare.includes('::')
    ? [
        ...headGroups,
        ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'),
        ...tailGroups,
      ]
    : headGroups;
  const prefix = groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}

/** Node's HTTP server options for these limits (Fastify passes them to `http.createServer`). */
export function httpServerTimeouts(limits: ConnectionLimits) {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(shortest / 4))),
  };
}

/** Caps sockets, in all and per client. */
export function guardConnections(server: Server, limits: ConnectionLimits, logger: Logger): void {
  server.maxConnections = limits.maxConnections;
  let lastDropLog = 0;
  server.on('drop', () => {
    // One line a minute at most: a flood must not become a flood of log lines.
    if (Date.now() - lastDropLog < 60_000) return;
    lastDropLog = Date.now();
    logger.warn({ limit: limits.maxConnections }, 'refusing connections: EARSHOT_MAX_CONNECTIONS reached');
  });

  const open = new Map<string, number>();
  const warned = new Set<string>();

  server.on('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress);
    const perClient = limits.maxConnectionsPerClient;
    if (perClient > 0) {
      const count = open.get(client) ?? 0;
      if (count >= perClient) {
        if (!warned.has(client)) {
          warned.add(client);
          logger.warn(
            { client, limit: perClient },
            'refusing connections from a client over EARSHOT_MAX_CONNECTIONS_PER_CLIENT',
          );
        }
        socket.destroy();
        return;
      }
      open.set(client, count + 1);
      socket.once('close', () => {
        const left = (open.get(client) ?? 1) - 1;
        if (left > 0) return void open.set(client, left);
        open.delete(client);
        warned.delete(client);
      });
    }
  });
}
