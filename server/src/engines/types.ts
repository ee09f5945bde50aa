import type { AudioFormat, Model, Voice, VoiceSettings } from '@earshot/protocol';
import type { OutputFormat } from '../audio/output-formats.js';
import type { Studio } from './studio.js';

export interface Subscription {
  readonly tier: string;
  readonly creditsUsed: number;
  readonly creditLimit: number;
  /** ISO time the credit count resets, when known. */
  readonly resetsAt: string | null;
}

export interface SynthesisRequest {
  readonly text: string;
  readonly voiceId: string;
  readonly modelId?: string;
  readonly settings?: VoiceSettings;
  /** ISO 639-1 language to speak in (ElevenLabs `language_code`; checked by services/language.ts first). */
  readonly languageCode?: string;
  /** Earlier requests this one continues (ElevenLabs request stitching, at most 3). */
  readonly previousRequestIds?: readonly string[];
  /** Who is asking (the user), so engines that share local workers can take requesters in turn. */
  readonly requester?: string;
}

/** Character timings, in ms from the start of the speech. */
export interface AlignmentEvent {
  readonly type: 'alignment';
  readonly chars: readonly string[];
  readonly startMs: readonly number[];
  readonly durationMs: readonly number[];
}

/**
 * `data` is handed over: nothing changes its bytes afterwards, so the players' frames, the in-chat tape and the
 * audio store keep it as it is (a copy per chunk for each of them was measurable CPU with many speeches at once).
 */
export type SynthesisEvent = { readonly type: 'audio'; readonly data: Uint8Array } | AlignmentEvent;

export interface SynthesisStream {
  readonly format: AudioFormat;
  /** Upstream request id, for stitching and support. */
  readonly requestId?: string;
  /** Credits billed (ElevenLabs' `character-cost`), 0 offline; a multi-request stream adds up as it goes. */
  readonly credits: number;
  /**
   * Audio bytes in order, yielded as they arrive, with character timings when the engine has them.
   * Throws an EarshotError if the stream breaks.
   */
  readonly events: AsyncIterable<SynthesisEvent>;
}

/**
 * A voice engine turns text into a stream of audio. `synthesize` resolves once the engine has accepted
 * the request (for ElevenLabs: response headers arrived), so errors such as a bad key or an unknown voice
 * surface before any `speech.start` is sent to players.
 */
export interface VoiceEngine {
  readonly name: 'elevenlabs' | 'offline';
  readonly defaultModelId: string;
  listVoices(): Promise<Voice[]>;
  listModels(): Promise<Model[]>;
  synthesize(request: SynthesisRequest, signal: AbortSignal): Promise<SynthesisStream>;
  /**
   * The format `synthesize` streams in, when it is known before the engine answers (so what the first audio
   * needs can be made ready while it does).
   */
  readonly streamFormat?: AudioFormat;
  /**
   * One whole clip in an ElevenLabs `output_format`, at most `maxBytes` (text_to_speech's output_format).
   * Engines without it are rendered from their Ogg Opus stream (audio/output-formats.ts).
   */
  render?(
    request: SynthesisRequest,
    format: OutputFormat,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<{ audio: Buffer; credits: number }>;
  /** Sound effects, transcription and the voice library; only ElevenLabs has them. */
  readonly studio?: Studio;
  /** The provider account's credits, when the engine has an account (ElevenLabs); undefined offline. */
  getSubscription?(): Promise<Subscription>;
  /** Throws when the engine cannot serve (used by /readyz). */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
