import type { Logger } from 'pino';
import type { KeyRing } from '../auth/keys.js';
import type { OAuthServer } from '../auth/oauth/index.js';
import type { Config } from '../config/env.js';
import type { VoiceCatalog, VoiceEngine } from '../engines/index.js';
import type { Hub } from '../hub/index.js';
import type { SettingsService } from '../services/settings.js';
import type { SpeechService } from '../services/speech.js';
import type { Store } from '../storage/index.js';

/** Shared state of the process's life: set once shutdown begins. */
export interface Lifecycle {
  draining: boolean;
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly keyRing: KeyRing;
  readonly engine: VoiceEngine;
  readonly catalog: VoiceCatalog;
  readonly store: Store;
  readonly hub: Hub;
  readonly speech: SpeechService;
  readonly settings: SettingsService;
  readonly lifecycle: Lifecycle;
  /** Earshot's OAuth 2.1 authorization server (its access tokens act as the approving user). */
  readonly oauth: OAuthServer;
  /** See StartOptions.mcpTurnClock. */
  readonly mcpTurnClock?: () => number;
}
