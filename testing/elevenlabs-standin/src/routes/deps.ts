import type { FliteSynthesizer } from '@earshot/flite';
import type { ByteFault } from '../faults.js';
import type { TranscriptMemory } from '../memory.js';
import type { Pacing } from '../pacing.js';
import type { HistoryStore, VoiceRegistry } from '../state.js';

/** What the endpoints beyond text to speech need from the server. */
export interface ToolDeps {
  readonly synthesizer: FliteSynthesizer;
  readonly pacing: Pacing;
  readonly baseUrl: string;
  readonly voices: VoiceRegistry;
  readonly history: HistoryStore;
  readonly memory: TranscriptMemory;
  /** Credits billed so far. */
  usage(): number;
  bill(credits: number): void;
  takeByteFault(): ByteFault | undefined;
}
