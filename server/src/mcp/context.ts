import type { VoiceCatalog, VoiceEngine } from '../engines/index.js';
import type { Store } from '../storage/index.js';
import type { Hub } from '../hub/index.js';
import type { SettingsService } from '../services/settings.js';
import type { SpeechService } from '../services/speech.js';
import type { InFlightCalls } from './in-flight.js';
import type { ClientLogLevels } from './logging.js';

/** What every tool may use; one per process. */
export interface ToolDeps {
  readonly hub: Hub;
  readonly catalog: VoiceCatalog;
  readonly speech: SpeechService;
  readonly settings: SettingsService;
  readonly engineName: string;
  readonly engine: VoiceEngine;
  readonly store: Store;
  /** Where output "file" may write; undefined turns that mode off. */
  readonly outputDir: string | undefined;
  /** EARSHOT_INPUT_DIRS: folders input audio may be read from (services/input-files.ts); empty = off. */
  readonly inputDirs: readonly string[];
  /** Lets a cancellation that arrives on another HTTP request reach the call it names. */
  readonly inFlight: InFlightCalls;
  /** Log levels clients set with logging/setLevel, per user. */
  readonly logLevels: ClientLogLevels;
  /** EARSHOT_MAX_TEXT_LENGTH: the cap on every `text` argument's schema. */
  readonly maxTextLength: number;
}
