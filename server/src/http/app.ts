import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import websocket from '@fastify/websocket';
import { PLAYER_SUBPROTOCOL } from '@earshot/protocol';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ClientLogLevels, InFlightCalls, registerMcpRoute, type EarshotMcp } from '../mcp/index.js';
import { authenticateBeforeBody, makeAuthenticate, makeResolver } from './auth.js';
import { guardConnections, httpServerTimeouts } from './connection-guard.js';
import type { AppDeps } from './deps.js';
import { registerErrorHandling } from './errors.js';
import { registerHealthRoutes } from './health.js';
import { OAUTH_PUBLIC_ROUTES, registerOAuthRoutes } from './oauth/index.js';
import { handlePlayerSocketError, MAX_PLAYER_FRAME_BYTES, registerPlayerSocket } from './player-socket.js';
import { registerRestRoutes } from './rest.js';
import { registerRouteRing, RoutedPlayers } from './route-ring.js';
import { lazyChildLogger } from './lazy-logger.js';
import { mcpDirect } from './mcp-direct.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { hostPolicyWarning, originPolicyFor, registerSecurity } from './security.js';
import { registerStatic } from './static.js';

// node:http through require, as in engines/elevenlabs-http.ts: its ESM namespace would load undici (~75 ms).
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/** Bodies larger than this are refused with 413 (the longest allowed text fits many times over). */
const BODY_LIMIT_BYTES = 512 * 1024;

/** The HTTP app, and the MCP surface its /mcp endpoint serves from. */
export interface BuiltApp {
  readonly app: FastifyInstance;
  /** For MCP connections that are not HTTP: `earshot mcp` serves its stdio from the same tools, in process. */
  readonly mcp: EarshotMcp;
}

/** Builds the HTTP app (MCP, REST, player WebSocket, page). Does not listen. */
export async function buildApp(deps: AppDeps): Promise<BuiltApp> {
  // Typed as Fastify's base logger so the instance has Fastify's default type parameters.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  // Slow requests are cut, long responses are not: see connection-guard.ts.
  const timeouts = httpServerTimeouts(deps.config.connections);
  // The common MCP call is served before Fastify (mcp-direct.ts), once the routes exist; anything else goes on.
  let direct: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
  const app = Fastify({
    // Fastify's own server (fastify/lib/server.js) with the direct path in front of its handler.
    serverFactory: (handler) => {
      const server = createServer(timeouts, (request, response) => {
        if (direct?.(request, response) !== true) handler(request, response);
      });
      server.keepAliveTimeout = timeouts.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout;
      return server;
    },
    // One sequence of ids for both paths (Fastify's default form; x-request-id, when sent, is used instead).
    genReqId: nextRequestId,
    loggerInstance,
    // Ajv and fast-json-stringify load only if a route ever declares a schema (see schema-compilers.ts).
    schemaController: { compilersFactory: lazySchemaCompilers },
    http: timeouts,
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    // One line per request comes from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made when the request first logs (lazy-logger.ts), not on its way to its answer.
    childLoggerFactory: lazyChildLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    // Behind CloudFront and nginx (EARSHOT_TRUSTED_PROXY_HOPS=2), request.ip is the address CloudFront saw: the
    // per-address OAuth rate limits would otherwise count every user as nginx.
    trustProxy: (_address: string, hop: number) => hop < deps.config.trustedProxyHops,
    forceCloseConnections: true,
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.url === '/healthz' || request.url === '/readyz') return;
    // The server's logger with the request id, as request.log would write it, without making request.log.
    deps.logger.info(
      {
        reqId: request.id,
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  guardConnections(app.server, deps.config.connections, deps.logger);

  app.decorateRequest('user', '');
  app.decorateRequest('authMethod', 'none');
  registerErrorHandling(app);
  const originPolicy = originPolicyFor(deps.config);
  const warning = hostPolicyWarning(deps.config, originPolicy);
  // Said once the server really listens: a start that fails (address not on this machine) prints only its error.
  if (warning) app.addHook('onListen', async () => void deps.logger.warn(warning));
  // Before the security hook: its onRequest marks upgrades, so a refused upgrade's socket is closed after the reply.
  await app.register(websocket, {
    errorHandler: handlePlayerSocketError,
    options: {
      maxPayload: MAX_PLAYER_FRAME_BYTES,
      handleProtocols: (protocols) => (protocols.has(PLAYER_SUBPROTOCOL) ? PLAYER_SUBPROTOCOL : false),
    },
  });
  await registerSecurity(app, originPolicy, OAUTH_PUBLIC_ROUTES);

  const resolve = makeResolver(deps.keyRing, deps.oauth.tokens);
  const authenticate = authenticateBeforeBody(makeAuthenticate(resolve, deps.config));
  registerHealthRoutes(app, deps);
  registerRestRoutes(app, deps, authenticate);
  registerOAuthRoutes(app, deps, authenticate);
  // Behind the AWS proxy only (EARSHOT_PROXY_SECRET): players tracked by route, so a proxy reload moves only
  // the users nginx now sends elsewhere (route-ring.ts).
  const routed = deps.config.proxySecret ? new RoutedPlayers() : undefined;
  registerPlayerSocket(app, deps, originPolicy, resolve, routed);
  if (routed && deps.config.proxySecret) registerRouteRing(app, routed, deps.config.proxySecret);
  const mcpHandler = registerMcpRoute(app, {
    deps: {
      hub: deps.hub,
      catalog: deps.catalog,
      speech: deps.speech,
      settings: deps.settings,
      engineName: deps.engine.name,
      engine: deps.engine,
      store: deps.store,
      outputDir: deps.config.outputDir,
      inputDirs: deps.config.inputDirs,
      inFlight: new InFlightCalls(),
      logLevels: new ClientLogLevels(),
      maxTextLength: deps.config.maxTextLength,
    },
    authenticate,
    sseKeepaliveMs: deps.config.sseKeepaliveMs,
    ...(deps.mcpTurnClock && { turnClock: deps.mcpTurnClock }),
  });
  await registerStatic(app);

  if (!deps.config.omitAuth) {
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    const fastifyJson = app.getDefaultJsonParser('error', 'error');
    direct = mcpDirect({
      policy: originPolicy,
      keyRing: deps.keyRing,
      bodyLimit: BODY_LIMIT_BYTES,
      parseJson: (text) => {
        const parsed: { error?: Error | null; body?: unknown; done?: true } = {};
        // Fastify's JSON parser calls back before it returns (it parses a string it is given whole).
        void fastifyJson(undefined as never, text, (error, body: unknown) =>
          Object.assign(parsed, { error, body, done: true }),
        );
        if (parsed.done !== true) throw new Error("Fastify's JSON parser did not answer at once.");
        if (parsed.error) throw parsed.error;
        return parsed.body;
      },
      requestId: (request) => {
        const sent = request.headers['x-request-id'];
        return typeof sent === 'string' && sent !== '' ? sent : nextRequestId();
      },
      logger: deps.logger,
      handler: () => mcpHandler,
      closing: () => closing,
    });
  }
  return { app, mcp: mcpHandler.mcp };
}

let lastRequestId = 0;
/** Fastify's default request ids (`req-1`, `req-2`…), from one counter shared by Fastify and the direct path. */
function nextRequestId(): string {
  lastRequestId = (lastRequestId + 1) & 0x7fffffff;
  return `req-${lastRequestId.toString(36)}`;
}
