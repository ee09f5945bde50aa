import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { AppDeps } from '../deps.js';
import { registerOAuthConsoleApi } from './console-api.js';
import { registerOAuthEndpoints } from './endpoints.js';
import { registerMetadataRoutes } from './metadata.js';

/** Every OAuth route: discovery documents, the /oauth endpoints and the console's /api/v1/oauth API. */
export function registerOAuthRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  authenticate: onRequestHookHandler,
): void {
  registerMetadataRoutes(app, deps.config);
  registerOAuthEndpoints(app, deps);
  registerOAuthConsoleApi(app, deps, authenticate);
}

/** Routes a page on any origin may call without credentials (CORS `*`, no Origin check): browser MCP clients. */
export const OAUTH_PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-authorization-server',
  '/oauth/register',
  '/oauth/token',
  '/oauth/revoke',
]);
