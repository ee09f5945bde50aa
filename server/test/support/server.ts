import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateApiKey, sha256Hex } from '../../src/auth/keys.js';
import { loadConfig } from '../../src/config/env.js';
import type { VoiceEngine } from '../../src/engines/index.js';
import { createLogger } from '../../src/logger.js';
import { startEarshot, type RunningEarshot } from '../../src/runtime.js';

export interface TestServer {
  readonly running: RunningEarshot;
  readonly url: string;
  /** Raw key of each user. */
  readonly keys: Record<string, string>;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A real Earshot on a loopback port with fresh keys for the given users and a temporary data dir. */
export async function startTestServer(
  options: {
    users?: string[];
    env?: Record<string, string>;
    engine?: VoiceEngine;
    maxPlayerBufferBytes?: number;
    /** A logger whose lines the test reads (see log-capture.ts); default: EARSHOT_TEST_LOG or silent. */
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-test-'));
  const users = options.users ?? ['alice', 'bob'];
  const keys = Object.fromEntries(users.map((user) => [user, generateApiKey()]));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEYS: users.map((user) => `${user}:${sha256Hex(keys[user]!)}`).join(','),
    EARSHOT_DRAIN_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const logger = options.logger ?? createLogger(process.env.EARSHOT_TEST_LOG ?? 'silent');
  const running = await startEarshot(config, {
    logger,
    engine: options.engine,
    maxPlayerBufferBytes: options.maxPlayerBufferBytes,
  });
  return {
    running,
    url: running.url,
    keys,
    dataDir,
    async close() {
      await running.shutdown();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
