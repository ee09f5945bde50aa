import { isIP } from 'node:net';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { isAllowedHost, isAllowedOrigin, type OriginPolicy } from '../auth/request-guard.js';
import { isLoopbackHost, type Config } from '../config/env.js';
import { speechTokenFromSubprotocols } from './speech-socket.js';

/*
 * Which checks a request gets is decided by the route the router matched (`request.routeOptions.url`), never by
 * the raw URL: the router decodes percent-encoding (`/%61pi/v1/settings` reaches `/api/v1/settings`), so a string
 * prefix on `request.url` can be walked around. Whatever reaches a route is checked as that route; routes are
 * guarded unless listed here, so a new route, or a request that matches none, fails closed.
 */
/** Routes answered whatever the Host: load-balancer health checks address the task by IP or any name. */
const HOST_EXEMPT_ROUTES = new Set(['/healthz']);
/** Routes a page from any origin may reach: health and the console's static files (public, no data). */
const ORIGIN_EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/', '/*']);
/**
 * The only routes a WebSocket upgrade may reach. @fastify/websocket upgrades an upgrade request on any route and
 * then closes it; refusing those up front keeps `/anything` from answering 101.
 */
const WEBSOCKET_ROUTES = new Set(['/ws']);

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // Voice samples are hosted by ElevenLabs (previewUrl); media cannot run code, so any HTTPS source is allowed.
  "media-src 'self' blob: https:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers every response carries, whichever server sends it (the onSend hook below, mcp-direct.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': CONTENT_SECURITY_POLICY,
};

/** The Host and Origin checks for one request; null when it may pass, else the refusal to send. */
export function checkHostAndOrigin(
  headers: { host?: string; origin?: string },
  policy: OriginPolicy,
): { code: 'forbidden'; message: string } | null {
  if (!isAllowedHost(headers.host, policy)) {
    return {
      code: 'forbidden',
      message: 'This Host is not served here (set EARSHOT_ALLOWED_HOSTS to add it).',
    };
  }
  if (!isAllowedOrigin(headers.origin, headers.host, policy)) {
    return {
      code: 'forbidden',
      message: 'This Origin may not call Earshot (set EARSHOT_ALLOWED_ORIGINS to allow a console origin).',
    };
  }
  return null;
}

/** The Host names served: loopback names and IP literals always, these configured names besides. */
export function originPolicyFor(config: Config): OriginPolicy {
  const names = new Set(config.allowedHosts.map((host) => host.toLowerCase()));
  if (config.publicUrl) names.add(new URL(config.publicUrl).host.toLowerCase());
  const bind = config.host.toLowerCase();
  if (isIP(bind) === 0 && !isLoopbackHost(bind)) names.add(bind);
  return { allowedOrigins: config.allowedOrigins, allowedHosts: [...names] };
}

/** The start-up warning for a non-loopback bind that serves no host name, or undefined. */
export function hostPolicyWarning(config: Config, policy: OriginPolicy): string | undefined {
  if (isLoopbackHost(config.host) || policy.allowedHosts.length > 0) return undefined;
  return (
    `Listening on ${config.host} with no host name configured: only requests addressed to an IP address or ` +
    'localhost are served, any other Host gets 403. Set EARSHOT_PUBLIC_URL (the URL users open) or ' +
    'EARSHOT_ALLOWED_HOSTS (comma-separated names) to serve a name.'
  );
}

/**
 * Host and Origin checks (DNS rebinding, cross-site requests and cross-site WebSocket hijacking), CORS for
 * the console served from another origin (CloudFront), and security headers on every response.
 */
export async function registerSecurity(
  app: FastifyInstance,
  policy: OriginPolicy,
  /**
   * Routes any origin may call without credentials: OAuth discovery, registration, token and revocation, which
   * browser-based MCP clients call from their own origin. They hold no ambient authority (no cookies; a token
   * request needs the code and its PKCE verifier), so the Origin check has nothing to protect there.
   */
  publicRoutes: ReadonlySet<string> = new Set(),
): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    const checkHost = route === undefined || !HOST_EXEMPT_ROUTES.has(route);
    // A CORS preflight matches the cors plugin's catch-all route; for a public OAuth path it only answers headers.
    const publicPreflight = request.method === 'OPTIONS' && publicRoutes.has(request.url.split('?')[0] ?? '');
    const checkOrigin =
      !publicPreflight &&
      (route === undefined || !(ORIGIN_EXEMPT_ROUTES.has(route) || publicRoutes.has(route)));
    if (request.ws && (route === undefined || !WEBSOCKET_ROUTES.has(route))) {
      return reply
        .code(404)
        .send({ error: { code: 'not_found', message: 'WebSocket upgrades are served at /ws only.' } });
    }
    if (!checkHost) return;
    // A speech token is the page's own credential: player-socket.ts checks it (and the Host) for any origin.
    const tokenUpgrade =
      request.ws &&
      route === '/ws' &&
      speechTokenFromSubprotocols(request.headers['sec-websocket-protocol']) !== undefined;
    const refusal = checkHostAndOrigin(
      {
        host: request.headers.host,
        origin: checkOrigin && !tokenUpgrade ? request.headers.origin : undefined,
      },
      policy,
    );
    // On a WebSocket upgrade, @fastify/websocket (registered before this hook) closes the socket after the reply.
    if (refusal) return reply.code(403).send({ error: refusal });
  });

  const publicCors = {
    origin: '*',
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'mcp-protocol-version'],
    credentials: false,
    maxAge: 600,
  };
  const consoleCors = {
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) =>
      callback(null, origin !== undefined && policy.allowedOrigins.includes(origin)),
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'mcp-protocol-version',
      // 2026-07-28 clients name the method (and tool or resource) of each request in these.
      'mcp-method',
      'mcp-name',
      'mcp-session-id',
      'last-event-id',
    ],
    exposedHeaders: ['mcp-session-id', 'retry-after', 'www-authenticate'],
    maxAge: 600,
  };
  // Decided per request on the exact path (a CORS preflight matches no route): the public OAuth routes get `*`.
  await app.register(cors, {
    delegator: (request, callback) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      callback(null, publicRoutes.has(path) ? publicCors : consoleCors);
    },
  });

  // Set on every response: static files get their content type after this hook runs.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
}
