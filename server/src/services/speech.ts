import type { SpeakResult, SpeechSource, VoiceRef, VoiceSettings } from '@earshot/protocol';
import type { VoiceCatalog } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import type { Hub, SpeechHandle, SpeechOutcome } from '../hub/index.js';
import type { SettingsService } from './settings.js';

/** How long past the audio's own length to wait for a player's `played` report. */
const PLAYED_GRACE_MS = 15_000;

export interface SpeakInput {
  readonly text: string;
  readonly voice?: string;
  readonly model?: string;
  readonly settings?: VoiceSettings;
}

export interface SpeakHooks {
  readonly source: SpeechSource;
  readonly onProgress?: (progress: { bytes: number; durationMs: number }) => void;
  readonly onStart?: () => void;
}

export interface StartedSpeech {
  readonly handle: SpeechHandle;
  readonly voice: VoiceRef;
  readonly model: string;
  readonly characters: number;
}

/**
 * The one path from "say this" to the hub, shared by MCP tools and REST: validates the text, applies the
 * user's defaults, resolves voice and model (failing before anything is spent) and queues the speech.
 */
export class SpeechService {
  constructor(
    private readonly hub: Hub,
    private readonly catalog: VoiceCatalog,
    private readonly settings: SettingsService,
    private readonly limits: { readonly maxTextLength: number; readonly publicUrl: string },
  ) {}

  async start(user: string, input: SpeakInput, hooks: SpeakHooks): Promise<StartedSpeech> {
    const text = input.text.trim();
    if (text === '') throw new EarshotError('invalid_input', 'The text is empty; give the words to speak.');
    if (text.length > this.limits.maxTextLength) {
      throw new EarshotError(
        'text_too_long',
        `The text has ${text.length} characters; Earshot takes at most ${this.limits.maxTextLength} per call. Split it into several calls.`,
      );
    }
    const saved = await this.settings.get(user);
    const voice = await this.catalog.resolveVoice(input.voice ?? saved.defaultVoice);
    const model = await this.catalog.resolveModel(input.model ?? saved.defaultModel, text.length);
    const handle = this.hub.speak({
      user,
      text,
      voice: { id: voice.id, name: voice.name },
      modelId: model.id,
      settings: { ...saved.voiceSettings, ...input.settings },
      source: hooks.source,
      saveAudio: saved.saveAudio,
      onProgress: hooks.onProgress,
      onStart: hooks.onStart,
    });
    return { handle, voice: { id: voice.id, name: voice.name }, model: model.id, characters: text.length };
  }

  /**
   * Waits for a started speech to finish (and, with `wait: "played"`, for a player to report it played)
   * and returns the result REST and MCP give. A failed speech throws its EarshotError.
   */
  async finish(started: StartedSpeech, wait: 'generated' | 'played' = 'generated'): Promise<SpeakResult> {
    const outcome = await started.handle.done;
    if (outcome.status === 'failed') {
      throw outcome.error ?? new EarshotError('internal', 'The speech failed; the server log has details.');
    }
    const played =
      wait === 'played' && outcome.status === 'completed' && outcome.playersReached > 0
        ? await started.handle.waitPlayed(outcome.durationMs + PLAYED_GRACE_MS)
        : false;
    return this.describe(started, outcome, played);
  }

  private describe(started: StartedSpeech, outcome: SpeechOutcome, played: boolean): SpeakResult {
    return {
      id: outcome.id,
      status: outcome.status,
      characters: outcome.characters,
      credits: outcome.credits,
      durationMs: outcome.durationMs,
      playersReached: outcome.playersReached,
      played,
      audioUrl: outcome.audioStored ? `${this.limits.publicUrl}/api/v1/history/${outcome.id}/audio` : null,
      voice: started.voice,
    };
  }

  playerPageUrl(): string {
    return `${this.limits.publicUrl}/`;
  }
}
