import type { McpServer } from '@modelcontextprotocol/server';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { KeyRing, sha256Hex } from './auth/keys.js';
import { loadOrCreateLocalKey } from './auth/local-key.js';
import { createOAuthServer, type ClientMetadataFetcher, type OAuthRateLimits } from './auth/oauth/index.js';
import type { Config } from './config/env.js';
import { createEngine, VoiceCatalog, type VoiceEngine } from './engines/index.js';
import { buildApp } from './http/app.js';
import { ANONYMOUS_USER } from './http/auth.js';
import type { Lifecycle } from './http/deps.js';
import { Hub } from './hub/index.js';
import type { ProtocolEra } from './mcp/tool-set.js';
import { startMetrics } from './metrics/emf.js';
import { SettingsService } from './services/settings.js';
import { SpeechService } from './services/speech.js';
import { startStore } from './store-runtime.js';

export interface StartOptions {
  readonly logger: Logger;
  /** Engine override (tests inject an engine with retries off). */
  readonly engine?: VoiceEngine;
  readonly maxPlayerBufferBytes?: number;
  /**
   * How long past a speech's length `wait: "played"` waits for a listening player's report (tests make it
   * long, so a wait that should end on an event cannot pass by timing out). @default 15 s
   */
  readonly playedGraceMs?: number;
  /** How often the local store's housekeeping runs (tests make it fast). */
  readonly maintenanceIntervalMs?: number;
  /** The OAuth server's clock (tests move it to expire tokens). */
  readonly oauthNow?: () => Date;
  /** Fetches client ID metadata documents (tests serve them without the public-https guard). */
  readonly fetchClientMetadata?: ClientMetadataFetcher;
  /** Registration and authorize rate limits (default 20 and 60 per address and minute). */
  readonly oauthLimits?: Partial<OAuthRateLimits>;
  /**
   * The clock that holds a begun MCP call's remaining work behind newly arriving calls (BehindNewCalls; tests
   * stop it to keep a call between its speech starting and its handler taking over). @default performance.now
   */
  readonly mcpTurnClock?: () => number;
  /**
   * The store's clock: the UTC day usage and the budget count on, and when history expires (tests keep a
   * run on the day it started). @default the system clock
   */
  readonly storeNow?: () => Date;
}

export interface RunningEarshot {
  readonly app: FastifyInstance;
  readonly hub: Hub;
  readonly engine: VoiceEngine;
  /** http://host:port of the listening socket. */
  readonly url: string;
  /** Where users open the player (EARSHOT_PUBLIC_URL, or the listening URL). */
  readonly publicUrl: string;
  /** The raw key of the default user when Earshot holds one (local use); undefined with EARSHOT_API_KEYS. */
  readonly localKey: string | undefined;
  readonly keyCreated: boolean;
  readonly users: readonly string[];
  /** Settles once the voice and model lists, asked for at start-up, have loaded (or failed: not kept). */
  readonly catalogWarmed: Promise<void>;
  /**
   * Whom a connection presenting `key` acts for, as /mcp decides it: the key's user, else (with
   * EARSHOT_DANGEROUSLY_OMIT_AUTH) the default user; null when the key is refused.
   */
  userOf(key: string | undefined): string | null;
  /**
   * An MCP server for one connection that is not HTTP (`earshot mcp` serving its own stdio), acting for `user`:
   * the tools, resources and logging that /mcp serves, from the same objects (tools built once per process).
   */
  mcpServer(user: string, era: ProtocolEra): McpServer;
  /**
   * Graceful stop: refuse new speech, let queued and running speech finish (bounded by
   * drainTimeoutMs), close players with 1001, close the server.
   */
  shutdown(): Promise<void>;
}

/** Wires every concern together and starts listening. */
export async function startEarshot(config: Config, options: StartOptions): Promise<RunningEarshot> {
  const logger = options.logger;
  let localKey: string | undefined;
  let keyCreated = false;
  if (config.keys.kind === 'raw') localKey = config.keys.key;
  if (config.keys.kind === 'generate')
    ({ key: localKey, created: keyCreated } = await loadOrCreateLocalKey(config.keys.file));
  const keyRing = new KeyRing(
    config.keys.kind === 'hashes' ? config.keys.entries : [{ user: 'default', sha256: sha256Hex(localKey!) }],
  );

  const storage = await startStore(config.store, logger, {
    maintenanceIntervalMs: options.maintenanceIntervalMs,
    now: options.storeNow,
  });
  const store = storage.store;
  const engine = options.engine ?? createEngine(config.engine);
  const catalog = new VoiceCatalog(engine, { log: logger.child({ component: 'catalog' }) });
  const hub = new Hub({ engine, store, logger, maxPlayerBufferBytes: options.maxPlayerBufferBytes });
  const settings = new SettingsService(store, hub, {
    dailyCharLimit: config.dailyCharLimit ?? null,
    audioRetentionDays: config.audioRetentionDays ?? null,
    audioQuotaMb: config.audioQuotaMb ?? null,
  });
  const lifecycle: Lifecycle = { draining: false };

  // The public URL is known only after listen when PORT=0; the speech service reads it lazily.
  const limits = {
    maxTextLength: config.maxTextLength,
    publicUrl: config.publicUrl ?? '',
    playedGraceMs: options.playedGraceMs,
  };
  const speech = new SpeechService(hub, catalog, settings, store, engine, limits, logger);
  const { app, mcp } = await buildApp({
    config,
    logger,
    keyRing,
    engine,
    catalog,
    store,
    hub,
    speech,
    settings,
    lifecycle,
    ...(options.mcpTurnClock && { mcpTurnClock: options.mcpTurnClock }),
    oauth: createOAuthServer({
      store: store.oauth,
      now: options.oauthNow,
      fetchMetadata: options.fetchClientMetadata,
      limits: options.oauthLimits,
    }),
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // Port taken, address not on this machine…: release what started, so a caller that recovers (earshot mcp
    // reusing the server that won the port) keeps no half-started server, worker threads or open store.
    await app.close().catch(() => undefined);
    if (!options.engine) await engine.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw error;
  }
  storage.startHousekeeping();
  // The voice and model lists load now rather than on the first speech: with ElevenLabs that is two round trips
  // the first call after a start (every morning, scaled from zero) would wait for. They refresh in the background.
  const catalogWarmed = catalog.warm();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  limits.publicUrl = config.publicUrl ?? url;
  const stopMetrics = config.metricsService ? startMetrics(hub, config.metricsService) : () => undefined;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = () => {
    shuttingDown ??= (async () => {
      lifecycle.draining = true;
      logger.info({ timeoutMs: config.drainTimeoutMs }, 'shutting down: finishing speech in progress');
      const drained = await hub.drain(config.drainTimeoutMs);
      if (!drained) logger.warn('drain timed out; stopped the remaining speech');
      hub.closePlayers(1001, 'server shutting down');
      stopMetrics();
      await app.close();
      await Promise.allSettled([engine.close(), storage.close()]);
      logger.info('stopped');
    })();
    return shuttingDown;
  };

  return {
    app,
    hub,
    engine,
    url,
    publicUrl: limits.publicUrl,
    localKey,
    keyCreated,
    users: keyRing.users,
    catalogWarmed,
    userOf: (key) => keyRing.authenticate(key) ?? (config.omitAuth ? ANONYMOUS_USER : null),
    mcpServer: (user, era) => mcp.server(user, era),
    shutdown,
  };
}
