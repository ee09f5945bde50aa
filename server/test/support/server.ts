import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateApiKey, sha256Hex } from '../../src/auth/keys.js';
import type { ClientMetadataFetcher, OAuthRateLimits } from '../../src/auth/oauth/index.js';
import { loadConfig } from '../../src/config/env.js';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { ElevenLabsEngine } from '../../src/engines/elevenlabs.js';
import type { VoiceEngine } from '../../src/engines/index.js';
import { createLogger } from '../../src/logger.js';
import { startEarshot, type RunningEarshot } from '../../src/runtime.js';
import { startDayClock } from './start-day-clock.mjs';

export interface TestServer {
  /** The server now listening (a new one after `start`). */
  readonly running: RunningEarshot;
  readonly url: string;
  /** Raw key of each user. */
  readonly keys: Record<string, string>;
  readonly dataDir: string;
  /** Shuts the server down (players get 1001) and keeps its data, for a later `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data and keys: a restart as users see one. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real Earshot on a loopback port with fresh keys for the given users and a temporary data dir. */
export async function startTestServer(
  options: {
    users?: string[];
    env?: Record<string, string>;
    engine?: VoiceEngine;
    maxPlayerBufferBytes?: number;
    /** How long `wait: "played"` may wait past the audio's length (see StartOptions). */
    playedGraceMs?: number;
    /** A logger whose lines the test reads (see log-capture.ts); default: EARSHOT_TEST_LOG or silent. */
    logger?: Logger;
    /** The OAuth server's clock and client metadata fetcher (see StartOptions). */
    oauthNow?: () => Date;
    fetchClientMetadata?: ClientMetadataFetcher;
    oauthLimits?: Partial<OAuthRateLimits>;
    /** BehindNewCalls' clock (see StartOptions.mcpTurnClock). */
    mcpTurnClock?: () => number;
    /** The store's clock (see StartOptions.storeNow); default: the real clock, held on the day the server started. */
    storeNow?: () => Date;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-test-'));
  const users = options.users ?? ['alice', 'bob'];
  const keys = Object.fromEntries(users.map((user) => [user, generateApiKey()]));
  const env = {
    HOST: '127.0.0.1',
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEYS: users.map((user) => `${user}:${sha256Hex(keys[user]!)}`).join(','),
    EARSHOT_DRAIN_TIMEOUT_MS: '5000',
    ...options.env,
  };
  const logger = options.logger ?? createLogger(process.env.EARSHOT_TEST_LOG ?? 'silent');
  const startDay = startDayClock();
  const storeNow = options.storeNow ?? (() => new Date(startDay()));
  const listen = async (port: string) => {
    const started = await startEarshot(loadConfig({ ...env, PORT: port }), {
      logger,
      engine: options.engine,
      maxPlayerBufferBytes: options.maxPlayerBufferBytes,
      playedGraceMs: options.playedGraceMs,
      oauthNow: options.oauthNow,
      fetchClientMetadata: options.fetchClientMetadata,
      oauthLimits: options.oauthLimits,
      mcpTurnClock: options.mcpTurnClock,
      storeNow,
    });
    // The voice and model lists load at start (runtime.ts): a test begins once they have, so a fault it injects
    // next is taken by its own calls, not by that load.
    await started.catalogWarmed;
    return started;
  };
  let running: RunningEarshot | null = await listen(env.PORT);
  const first = running;
  const stop = async () => {
    const stopping = running;
    running = null;
    await stopping?.shutdown();
  };
  return {
    get running() {
      if (!running) throw new Error('the test server is stopped');
      return running;
    },
    url: first.url,
    keys,
    dataDir,
    stop,
    async start() {
      running ??= await listen(new URL(first.url).port);
    },
    async close() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A test server on the ElevenLabs engine, whose upstream is a stand-in started with it (no retries). */
export async function startWithStandin(
  upstreamKey: string,
  options: { readonly env?: Record<string, string>; readonly mcpTurnClock?: () => number } = {},
): Promise<{
  readonly standin: Standin;
  readonly server: TestServer;
  readonly close: () => Promise<void>;
}> {
  const standin = await startStandin({ apiKeys: [upstreamKey] });
  const server = await startTestServer({
    engine: new ElevenLabsEngine({ apiKey: upstreamKey, baseUrl: standin.url, maxRetries: 0 }),
    env: { ELEVENLABS_API_KEY: upstreamKey, ELEVENLABS_BASE_URL: standin.url, ...options.env },
    mcpTurnClock: options.mcpTurnClock,
  });
  return {
    standin,
    server,
    close: async () => {
      await server.close();
      await standin.close();
    },
  };
}
