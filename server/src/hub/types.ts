import type { AudioFormat, ServerMessage, SpeechSource, VoiceRef, VoiceSettings } from '@earshot/protocol';
import type { SynthesisStream } from '../engines/index.js';
import type { EarshotError } from '../errors.js';

/** One open player (a browser tab): the hub's view of a WebSocket, so the hub never imports `ws`. */
export interface PlayerConnection {
  readonly id: string;
  sendJson(message: ServerMessage): void;
  /** A message already serialised (UTF-8 JSON), sent as a text frame: broadcasts encode once for all players. */
  sendText(utf8: Uint8Array): void;
  sendAudio(chunk: Uint8Array): void;
  /**
   * Writes now what was sent to this player in the current turn of the event loop; otherwise those frames leave
   * together once the turn's work is done (one write per turn).
   */
  flush(): void;
  /** Bytes queued for this player and not yet sent. */
  readonly bufferedBytes: number;
  close(code: number, reason: string): void;
}

export interface SpeechJob {
  readonly user: string;
  readonly text: string;
  readonly voice: VoiceRef;
  readonly modelId: string | undefined;
  readonly settings: VoiceSettings;
  /** ISO 639-1 language the engine is asked to speak in, when the caller named one. */
  readonly languageCode?: string;
  readonly source: SpeechSource;
  readonly saveAudio: boolean;
  /** Called after each audio chunk with the totals so far (for MCP progress). */
  readonly onProgress?: (progress: { bytes: number; durationMs: number }) => void;
  /** Called when the speech leaves the queue and starts generating. */
  readonly onStart?: () => void;
  /** Where the audio comes from instead of one engine request (stored audio, a multi-voice dialogue). */
  readonly audio?: (signal: AbortSignal) => Promise<SynthesisStream>;
  /** Audio already in history (a replay or cache hit): nothing is spent, stored or recorded again. */
  readonly alreadyStored?: boolean;
  /** Kept in the history record so an identical request can replay this audio. */
  readonly cacheKey?: string;
  /** Characters billed, when not the text's length (a dialogue's text also names its speakers). */
  readonly characters?: number;
  /** Keep the speech for an in-chat (MCP Apps) player, which arrives after the tool result (see InChatSpeeches). */
  readonly inChat?: boolean;
  /** Generate (and store) without sending anything to players. */
  readonly silent?: boolean;
  /** How long the history record lasts and how much audio may be kept (default: for good, the store's cap). */
  readonly keep?: KeepPolicy;
  /**
   * Records what the speech spent (settles its budget reservation), called exactly once with the outcome —
   * also when it never started. Resolves when the first write attempt is over; retries go on behind.
   */
  readonly recordUsage?: (outcome: SpeechOutcome) => Promise<void>;
}

export interface KeepPolicy {
  /** Days the history record and its audio are kept; null: until deleted. */
  readonly retentionDays: number | null;
  /** Bytes of audio the user may still keep (their quota); null: no quota, the store's per-clip cap applies. */
  readonly audioRoomBytes: number | null;
}

/** What could not be kept of a speech that played; `reason` is for people. */
export interface NotKept {
  readonly history: boolean;
  readonly audio: boolean;
  readonly reason: string;
  /** The error a caller that needed the audio reports: the quota, or the store. */
  readonly code: 'quota_exceeded' | 'store_unavailable';
}

export type SpeechStatus = 'completed' | 'stopped' | 'failed';

export interface SpeechOutcome {
  readonly id: string;
  readonly status: SpeechStatus;
  readonly error?: EarshotError;
  readonly characters: number;
  readonly credits: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly format: AudioFormat | null;
  /** Players that were connected when the speech started. */
  readonly playersReached: number;
  /** Of those, the ones that had said someone can hear them (`state.audio: "on"`). */
  readonly playersListening: number;
  /** True once the engine was asked (credits may have been spent), so usage must be recorded. */
  readonly spent: boolean;
  /** True when the history record and the audio were both written (so the audio has a link). */
  readonly audioStored: boolean;
  /** Set when something that should have been kept was not (the speech played all the same). */
  readonly notKept?: NotKept;
}

export interface SpeechHandle {
  readonly id: string;
  /** How many speeches of this user were ahead of this one when it was queued. */
  readonly queuedBehind: number;
  readonly done: Promise<SpeechOutcome>;
  /** Resolves true when a player reports it finished playing this speech, false on timeout. */
  waitPlayed(timeoutMs: number): Promise<boolean>;
  /** Stops generation (or removes it from the queue) and tells players `speech.stopped`. */
  cancel(): void;
}

export function pcmDurationMs(bytes: number, format: AudioFormat | null): number {
  if (!format || format.mimeType !== 'audio/pcm' || !format.sampleRate) return 0;
  return Math.round((bytes / 2 / (format.channels ?? 1) / format.sampleRate) * 1000);
}
