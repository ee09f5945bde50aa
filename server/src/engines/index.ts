import type { EngineConfig } from '../config/env.js';
import { ElevenLabsEngine } from './elevenlabs.js';
import { OfflineEngine } from './offline.js';
import type { VoiceEngine } from './types.js';

export type {
  Subscription,
  SynthesisEvent,
  SynthesisRequest,
  SynthesisStream,
  VoiceEngine,
} from './types.js';
export { VoiceCatalog } from './catalog.js';
export type * from './studio.js';

export function createEngine(config: EngineConfig, options: { maxRetries?: number } = {}): VoiceEngine {
  return config.kind === 'elevenlabs'
    ? new ElevenLabsEngine({ apiKey: config.apiKey, baseUrl: config.baseUrl, maxRetries: options.maxRetries })
    : new OfflineEngine({ maxAudioSeconds: config.maxAudioSeconds });
}
