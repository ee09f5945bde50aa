import type { AudioFormat, SpeechSource, VoiceRef } from './player.js';
import type { ServerLimits } from './settings.js';

/** Every REST error body: `{ "error": { "code", "message" } }`. */
export interface ApiError {
  readonly error: { readonly code: string; readonly message: string };
}

export interface Voice {
  readonly id: string;
  readonly name: string;
  readonly category?: string;
  readonly description?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly previewUrl?: string;
}

export interface Model {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly maxCharacters?: number;
  /** Credits per character (ElevenLabs: 0.5 for Flash/Turbo, 1 otherwise; 0 offline). */
  readonly creditsPerCharacter: number;
  /** ISO 639-1 codes of the languages the model speaks, where the engine states them. */
  readonly languages?: readonly string[];
  /** Set on the engine's default: the model a speech uses when neither the call nor the user's settings name one. */
  readonly isDefault?: true;
}

export interface HistoryItem {
  readonly id: string;
  readonly createdAt: string;
  readonly text: string;
  readonly voice: VoiceRef;
  readonly model: string | null;
  readonly source: SpeechSource;
  readonly engine: string;
  readonly characters: number;
  readonly credits: number;
  readonly durationMs: number;
  readonly audio: (AudioFormat & { readonly bytes: number }) | null;
  readonly status: 'completed' | 'stopped' | 'failed';
  /** Same text, voice, model and settings give the same key: a repeat replays this audio for free. */
  readonly cacheKey?: string;
}

export interface SpeakResult {
  readonly id: string;
  readonly status: 'completed' | 'stopped' | 'failed';
  readonly characters: number;
  readonly credits: number;
  readonly durationMs: number;
  /** Players connected when the speech started (its audio went to each). */
  readonly playersReached: number;
  /** Of those, the ones that said someone can hear them (`state.audio: "on"`); 0 means nobody heard it. */
  readonly playersListening: number;
  /** True when a listening player reported it finished playing (only asked for with `wait: "played"`). */
  readonly played: boolean;
  readonly audioUrl: string | null;
  readonly voice: VoiceRef;
  /** True when stored audio of an identical earlier request was replayed (nothing spent). */
  readonly cached: boolean;
  /**
   * Set when the speech was generated (and spent) but Earshot could not keep all of it: `history` false when
   * not even the history record was written, `audio` false when its audio was not kept; `reason` says why (a
   * full disk, the audio quota, the store unreachable) and `code` which error a caller that needed the
   * audio reports. `audioUrl` is then null.
   */
  readonly notKept?: {
    readonly history: boolean;
    readonly audio: boolean;
    readonly reason: string;
    readonly code: 'quota_exceeded' | 'store_unavailable';
  };
}

/** `GET /api/v1/history`: newest first; pass `nextCursor` back as `cursor` for the next page. */
export interface HistoryPage {
  readonly items: readonly HistoryItem[];
  /** null when there is nothing older. */
  readonly nextCursor: string | null;
}

export interface Usage {
  readonly user: string;
  /** Daily character budget in force (null: unlimited), what is left of it today, and when it resets. */
  readonly limit: number | null;
  readonly remaining: number | null;
  readonly resetsAt: string;
  /** The ElevenLabs account's credits (null offline or when it could not be read). */
  readonly account?: {
    tier: string;
    creditsUsed: number;
    creditLimit: number;
    resetsAt: string | null;
  } | null;
  readonly today: { readonly date: string; readonly characters: number; readonly credits: number };
  readonly days: readonly { readonly date: string; readonly characters: number; readonly credits: number }[];
  /** Stored audio: bytes this user keeps now, and the cap and retention in force (null: none). */
  readonly audio?: {
    readonly bytes: number;
    readonly quotaBytes: number | null;
    readonly retentionDays: number | null;
  };
  /** The server's maxima, which the user's own settings may lower but not raise. */
  readonly serverLimits?: ServerLimits;
}

/** A voice of the ElevenLabs shared library, as `GET /api/v1/library` returns it. */
export interface LibraryVoice {
  readonly id: string;
  readonly name: string;
  readonly gender: string;
  readonly age: string;
  readonly accent: string;
  readonly language?: string;
  readonly useCase: string;
  readonly category: string;
  readonly description?: string;
  readonly previewUrl?: string;
  readonly clonedByCount: number;
}
