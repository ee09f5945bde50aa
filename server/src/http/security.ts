import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { isAllowedHost, isAllowedOrigin, type OriginPolicy } from '../auth/request-guard.js';

/** Paths a browser may call cross-site only from allowed origins. (`/ws` checks its own, see below.) */
const GUARDED_PREFIXES = ['/mcp', '/api/'];
const PUBLIC_PATHS = new Set(['/healthz']);

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

/**
 * Host and Origin checks (DNS rebinding, cross-site requests and cross-site WebSocket hijacking), CORS for
 * the console served from another origin (CloudFront), and security headers on every response.
 */
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

export async function registerSecurity(app: FastifyInstance, policy: OriginPolicy): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    // WebSocket upgrades are checked in the /ws route's preValidation: a reply sent from onRequest on an
    // upgrade left the socket open and made server close hang (@fastify/websocket 11).
    if (request.headers.upgrade !== undefined && path === '/ws') return;
    const guarded = GUARDED_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix));
    const refusal = checkHostAndOrigin(
      { host: request.headers.host, origin: guarded ? request.headers.origin : undefined },
      policy,
    );
    if (refusal) return reply.code(403).send({ error: refusal });
  });

  await app.register(cors, {
    origin: (origin, callback) =>
      callback(null, origin !== undefined && policy.allowedOrigins.includes(origin)),
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'mcp-protocol-version',
      'mcp-session-id',
      'last-event-id',
    ],
    exposedHeaders: ['mcp-session-id', 'retry-after'],
    maxAge: 600,
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    // Set on every response: static files get their content type after this hook runs.
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return payload;
  });
}
