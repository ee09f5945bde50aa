import type { LibraryVoice } from '@earshot/protocol';
import type { SynthesisStream } from './types.js';

export type { LibraryVoice };

/** Requests for the ElevenLabs features beyond speech; the offline engine has none of them. */
export interface SoundEffectRequest {
  readonly text: string;
  readonly durationSeconds?: number;
  readonly promptInfluence?: number;
  readonly loop?: boolean;
}

export interface TranscriptionRequest {
  readonly audio: Buffer;
  readonly fileName: string;
  readonly mimeType: string;
  readonly language?: string;
  readonly diarize?: boolean;
  readonly numSpeakers?: number;
  readonly tagAudioEvents?: boolean;
}

export interface TranscriptWord {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly type: string;
  readonly speakerId?: string;
}

export interface Transcript {
  readonly languageCode: string;
  readonly languageProbability: number;
  readonly text: string;
  readonly words: readonly TranscriptWord[];
}

export interface LibraryQuery {
  readonly search?: string;
  readonly gender?: string;
  readonly age?: string;
  readonly accent?: string;
  readonly language?: string;
  readonly useCase?: string;
  readonly category?: string;
  readonly pageSize: number;
  readonly page: number;
}

export interface VoicePreview {
  readonly generatedVoiceId: string;
  /** 24 kHz 16-bit mono PCM. */
  readonly pcm: Buffer;
  readonly durationSecs: number;
}

export interface VoiceDesign {
  readonly text: string;
  readonly previews: readonly VoicePreview[];
  readonly credits: number;
}

export interface Studio {
  /** Voice previews from a description (each a generated voice id and its sample). */
  designVoice(request: { description: string; text?: string }, signal: AbortSignal): Promise<VoiceDesign>;
  /** Keeps a designed voice in the account; returns its voice id. */
  saveDesignedVoice(request: {
    name: string;
    description: string;
    generatedVoiceId: string;
  }): Promise<{ id: string; name: string }>;
  /** A sound effect as 24 kHz PCM, streamed as it arrives. */
  soundEffect(request: SoundEffectRequest, signal: AbortSignal): Promise<SynthesisStream>;
  transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<Transcript>;
  searchLibrary(query: LibraryQuery): Promise<{ voices: LibraryVoice[]; hasMore: boolean }>;
}
