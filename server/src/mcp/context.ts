import type { VoiceCatalog } from '../engines/index.js';
import type { Hub } from '../hub/index.js';
import type { SettingsService } from '../services/settings.js';
import type { SpeechService } from '../services/speech.js';

/** What every tool may use; one per process. */
export interface ToolDeps {
  readonly hub: Hub;
  readonly catalog: VoiceCatalog;
  readonly speech: SpeechService;
  readonly settings: SettingsService;
  readonly engineName: string;
}

/** Who is calling: set per request from the authenticated key. */
export interface CallerContext {
  readonly user: string;
}
