export { startEarshot, type RunningEarshot, type StartOptions } from './runtime.js';
export { loadConfig, type Config, ConfigError } from './config/env.js';
export { createLogger } from './logger.js';
export { sha256Hex, generateApiKey } from './auth/keys.js';
export { ElevenLabsEngine } from './engines/elevenlabs.js';
export { OfflineEngine } from './engines/offline.js';
export type { VoiceEngine } from './engines/index.js';
export { SqliteStore } from './storage/sqlite/store.js';
