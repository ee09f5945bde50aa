import type {
  HistoryItem,
  SpeakResult,
  SpeechSource,
  UserSettings,
  VoiceRef,
  VoiceSettings,
} from '@earshot/protocol';
import type { SynthesisStream, VoiceCatalog, VoiceEngine } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import type { Logger } from 'pino';
import type { Hub, SpeechHandle, SpeechOutcome } from '../hub/index.js';
import type { Store } from '../storage/index.js';
import { speechCacheKey } from './cache-key.js';
import { dialogueStream } from './dialogue.js';
import { checkLanguage } from './language.js';
import { renderSpeech, type RenderedSpeech } from './render.js';
import type { OutputFormatId } from '../audio/output-formats.js';
import type { SettingsService } from './settings.js';
import { SpendingGate } from './spending.js';
import { bufferAudioStream, storedAudioStream } from './stored-audio.js';

/** How long past the audio's own length to wait for a player's `played` report. */
const PLAYED_GRACE_MS = 15_000;

export interface SpeakInput {
  readonly text: string;
  readonly voice?: string;
  readonly model?: string;
  readonly settings?: VoiceSettings;
  /** Generate anew even when identical audio is stored. */
  readonly fresh?: boolean;
  /** ISO 639-1 code (validated at the edge); refused before spending where the engine/model cannot apply it. */
  readonly language?: string;
}

export interface SpeakHooks {
  /** Generate without playing (text_to_speech); the audio is always kept so it can be returned. */
  readonly silent?: boolean;
  readonly source: SpeechSource;
  readonly onProgress?: (progress: { bytes: number; durationMs: number }) => void;
  readonly onStart?: () => void;
  /** Keep the speech for an in-chat (MCP Apps) player: the tool result then carries a token for it. */
  readonly inChat?: boolean;
}

export interface StartedSpeech {
  readonly handle: SpeechHandle;
  readonly voice: VoiceRef;
  readonly model: string;
  readonly characters: number;
  /** The history item whose audio is being replayed, for cache hits and replays. */
  readonly replayOf?: HistoryItem;
}

/**
 * The one path from "say this" to the hub, shared by MCP tools and REST: validates the text, applies the
 * user's defaults, resolves voice and model (failing before anything is spent) and queues the speech.
 */
export class SpeechService {
  private readonly spending: SpendingGate;

  constructor(
    private readonly hub: Hub,
    private readonly catalog: VoiceCatalog,
    private readonly settings: SettingsService,
    private readonly store: Store,
    private readonly engine: VoiceEngine,
    private readonly limits: {
      readonly maxTextLength: number;
      readonly publicUrl: string;
      /** @default PLAYED_GRACE_MS */
      readonly playedGraceMs?: number;
    },
    log: Logger,
    storeRetryDelaysMs?: readonly number[],
  ) {
    this.spending = new SpendingGate(hub, store, settings, log, storeRetryDelaysMs);
  }

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
    checkLanguage(this.engine.name, model, input.language);
    const settings = { ...saved.voiceSettings, ...input.settings };
    const voiceRef = { id: voice.id, name: voice.name };
    const cacheKey = speechCacheKey(text, voice.id, model.id, settings, input.language);
    const base = {
      user,
      text,
      voice: voiceRef,
      modelId: model.id,
      settings,
      ...(input.language ? { languageCode: input.language } : {}),
      source: hooks.source,
    };
    const hookFields = {
      onProgress: hooks.onProgress,
      onStart: hooks.onStart,
      silent: hooks.silent,
      inChat: hooks.inChat,
    };

    const cached = input.fresh ? null : await this.store.findCached(user, cacheKey);
    if (cached) {
      const handle = this.hub.speak({
        ...base,
        ...hookFields,
        saveAudio: false,
        alreadyStored: true,
        audio: () => storedAudioStream(this.store, user, cached),
      });
      return { handle, voice: voiceRef, model: model.id, characters: text.length, replayOf: cached };
    }

    const saveAudio = saved.saveAudio || hooks.silent === true;
    const handle = await this.spending.queue(user, saved, text.length, {
      ...base,
      ...hookFields,
      saveAudio,
      cacheKey,
    });
    return { handle, voice: voiceRef, model: model.id, characters: text.length };
  }

  /**
   * A multi-voice script spoken as one speech: every line validated and every voice resolved before
   * anything is spent; the whole script counts against the daily budget.
   */
  async startDialogue(
    user: string,
    input: {
      lines: readonly { voice: string; text: string }[];
      model?: string;
      settings?: VoiceSettings;
      language?: string;
    },
    hooks: SpeakHooks,
  ): Promise<StartedSpeech> {
    if (input.lines.length === 0) throw new EarshotError('invalid_input', 'The script has no lines.');
    const saved = await this.settings.get(user);
    const lines: { voiceId: string; name: string; text: string }[] = [];
    for (const [index, line] of input.lines.entries()) {
      const text = line.text.trim();
      if (text === '') throw new EarshotError('invalid_input', `Line ${index + 1} is empty.`);
      const voice = await this.catalog.resolveVoice(line.voice);
      lines.push({ voiceId: voice.id, name: voice.name, text });
    }
    const characters = lines.reduce((sum, line) => sum + line.text.length, 0);
    if (characters > this.limits.maxTextLength) {
      throw new EarshotError(
        'text_too_long',
        `The script has ${characters} characters; Earshot takes at most ${this.limits.maxTextLength} per call.`,
      );
    }
    const longest = Math.max(...lines.map((line) => line.text.length));
    const model = await this.catalog.resolveModel(input.model ?? saved.defaultModel, longest);
    checkLanguage(this.engine.name, model, input.language);
    const settings = { ...saved.voiceSettings, ...input.settings };
    const names = [...new Set(lines.map((line) => line.name))];
    const voice = { id: lines[0]!.voiceId, name: names.join(' & ') };
    const handle = await this.spending.queue(user, saved, characters, {
      user,
      text: lines.map((line) => `${line.name}: ${line.text}`).join('\n'),
      characters,
      voice,
      modelId: model.id,
      settings,
      source: hooks.source,
      saveAudio: saved.saveAudio,
      onProgress: hooks.onProgress,
      onStart: hooks.onStart,
      inChat: hooks.inChat,
      audio: (signal) =>
        dialogueStream(
          this.engine,
          lines,
          { modelId: model.id, settings, languageCode: input.language, requester: user },
          signal,
        ),
    });
    return { handle, voice, model: model.id, characters };
  }

  /** A sound effect from ElevenLabs, played to the players (or only stored when `silent`) and kept in history. */
  async startSoundEffect(
    user: string,
    request: { text: string; durationSeconds?: number; promptInfluence?: number; loop?: boolean },
    hooks: SpeakHooks,
  ): Promise<StartedSpeech> {
    const studio = this.engine.studio;
    if (!studio) {
      throw new EarshotError(
        'invalid_input',
        'Sound effects need ElevenLabs: the offline voice cannot make them. Set ELEVENLABS_API_KEY and restart.',
      );
    }
    const text = request.text.trim();
    if (text === '') throw new EarshotError('invalid_input', 'Describe the sound to make.');
    const voice = { id: 'sound-effect', name: 'Sound effect' };
    const saved = await this.settings.get(user);
    const handle = await this.spending.queue(user, saved, text.length, {
      user,
      text,
      voice,
      modelId: undefined,
      settings: {},
      source: hooks.source,
      saveAudio: true,
      silent: hooks.silent,
      onProgress: hooks.onProgress,
      audio: (signal) => studio.soundEffect({ ...request, text }, signal),
    });
    return { handle, voice, model: 'sound-effects', characters: text.length };
  }

  /**
   * Audio from a paid ElevenLabs request that is not text to speech (speech to speech, music): `credits`, the
   * estimate booked against the daily budget before anything is spent, counts as that many characters.
   */
  async startPaidAudio(
    user: string,
    job: {
      text: string;
      voice: VoiceRef;
      model: string;
      credits: number;
      audio: (signal: AbortSignal) => Promise<SynthesisStream>;
    },
    hooks: SpeakHooks,
  ): Promise<StartedSpeech> {
    const saved = await this.settings.get(user);
    const handle = await this.spending.queue(user, saved, job.credits, {
      user,
      text: job.text,
      voice: job.voice,
      modelId: job.model,
      settings: {},
      source: hooks.source,
      saveAudio: true,
      characters: job.credits,
      silent: hooks.silent,
      onProgress: hooks.onProgress,
      inChat: hooks.inChat,
      audio: job.audio,
    });
    return { handle, voice: job.voice, model: job.model, characters: job.credits };
  }

  /**
   * Voice previews from a description, each played to the user's players (unless silent) and kept in
   * history so it can be replayed; the design's cost is counted once.
   */
  async designVoice(
    user: string,
    request: { description: string; text?: string },
    hooks: SpeakHooks,
    signal: AbortSignal,
  ): Promise<{
    text: string;
    credits: number;
    previews: { generatedVoiceId: string; started: StartedSpeech }[];
  }> {
    const studio = this.engine.studio;
    if (!studio) {
      throw new EarshotError(
        'invalid_input',
        'Voice design needs ElevenLabs; set ELEVENLABS_API_KEY and restart.',
      );
    }
    // The design is what spends; its previews play and are kept in history for free.
    const saved = await this.settings.get(user);
    const keep = await this.spending.keepPolicy(user, saved, true, false);
    const design = await this.spending.once(
      user,
      saved,
      () => studio.designVoice(request, signal),
      (result) => ({ characters: result.text.length, credits: result.credits }),
    );
    const previews = design.previews.map((preview, index) => {
      const voice = { id: preview.generatedVoiceId, name: `Preview ${index + 1}` };
      const credits = index === 0 ? design.credits : 0;
      const handle = this.hub.speak({
        user,
        text: design.text,
        voice,
        modelId: undefined,
        settings: {},
        source: hooks.source,
        saveAudio: true,
        keep,
        silent: hooks.silent,
        characters: index === 0 ? design.text.length : 0,
        audio: async () => bufferAudioStream(preview.pcm, 24_000, credits),
      });
      return {
        generatedVoiceId: preview.generatedVoiceId,
        started: { handle, voice, model: 'voice-design', characters: 0 },
      };
    });
    return { text: design.text, credits: design.credits, previews };
  }

  /** One clip in an asked output format, returned whole: not played, not kept (see render.ts). */
  render(
    user: string,
    input: SpeakInput,
    format: OutputFormatId,
    signal: AbortSignal,
  ): Promise<RenderedSpeech> {
    const deps = {
      engine: this.engine,
      catalog: this.catalog,
      settings: this.settings,
      spending: this.spending,
      maxTextLength: this.limits.maxTextLength,
    };
    return renderSpeech(deps, user, input, format, signal);
  }

  /** Plays a history item's stored audio again to the user's players; spends nothing. */
  async replay(user: string, id: string, hooks: SpeakHooks): Promise<StartedSpeech> {
    const item = await this.store.getHistory(user, id);
    if (!item) throw new EarshotError('not_found', `No history item "${id}"; call list_history for ids.`);
    if (!item.audio) {
      throw new EarshotError('not_found', `History item "${id}" has no stored audio (saving was off).`);
    }
    const handle = this.hub.speak({
      user,
      text: item.text,
      voice: item.voice,
      modelId: item.model ?? undefined,
      settings: {},
      source: hooks.source,
      saveAudio: false,
      onProgress: hooks.onProgress,
      inChat: hooks.inChat,
      alreadyStored: true,
      audio: () => storedAudioStream(this.store, user, item),
    });
    return {
      handle,
      voice: item.voice,
      model: item.model ?? '',
      characters: item.characters,
      replayOf: item,
    };
  }

  /** Today's budget: limit in force, characters left, reset time. */
  budgetStatus(user: string, saved?: UserSettings) {
    return this.spending.budget.status(user, saved);
  }

  /**
   * Waits for a started speech to finish (and, with `wait: "played"`, for a listening player to report it
   * played; never for players that cannot play: it returns as soon as none listens)
   * and returns the result REST and MCP give. A failed speech throws its EarshotError.
   */
  async finish(started: StartedSpeech, wait: 'generated' | 'played' = 'generated'): Promise<SpeakResult> {
    const outcome = await started.handle.done;
    if (outcome.status === 'failed') {
      throw outcome.error ?? new EarshotError('internal', 'The speech failed; the server log has details.');
    }
    const played =
      wait === 'played' && outcome.status === 'completed' && outcome.playersListening > 0
        ? await started.handle.waitPlayed(outcome.durationMs + (this.limits.playedGraceMs ?? PLAYED_GRACE_MS))
        : false;
    return this.describe(started, outcome, played);
  }

  private describe(started: StartedSpeech, outcome: SpeechOutcome, played: boolean): SpeakResult {
    // A replay's audio lives under the original item; new audio has a link only once it is surely kept.
    const audioId = started.replayOf?.id ?? (outcome.audioStored ? outcome.id : null);
    return {
      id: started.replayOf?.id ?? outcome.id,
      status: outcome.status,
      characters: outcome.characters,
      credits: outcome.credits,
      durationMs: outcome.durationMs,
      playersReached: outcome.playersReached,
      playersListening: outcome.playersListening,
      played,
      audioUrl: audioId ? this.audioUrl(audioId) : null,
      voice: started.voice,
      cached: started.replayOf !== undefined,
      ...(outcome.notKept ? { notKept: { ...outcome.notKept } } : {}),
    };
  }

  audioUrl(id: string): string {
    return `${this.limits.publicUrl}/api/v1/history/${id}/audio`;
  }

  playerPageUrl(): string {
    return `${this.limits.publicUrl}/`;
  }
}
