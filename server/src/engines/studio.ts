import type { LibraryVoice } from '@earshot/protocol';
import type { VoiceSettings } from '@earshot/protocol';
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

/** An audio file sent to ElevenLabs (a clone sample, a source to re-voice or clean). */
export interface AudioUpload {
  readonly audio: Buffer;
  readonly fileName: string;
  readonly mimeType: string;
}

export interface VoiceCloneRequest {
  readonly name: string;
  readonly description?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly removeBackgroundNoise?: boolean;
  readonly samples: readonly AudioUpload[];
}

export interface SpeechToSpeechRequest {
  readonly source: AudioUpload;
  readonly voiceId: string;
  readonly modelId: string;
  readonly settings?: VoiceSettings;
  readonly removeBackgroundNoise?: boolean;
}

export interface MusicRequest {
  readonly prompt: string;
  readonly lengthMs?: number;
  readonly forceInstrumental?: boolean;
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
  /** Instant voice cloning: a new voice in the account from audio samples. */
  cloneVoice(request: VoiceCloneRequest): Promise<{ id: string; name: string }>;
  /** The source's speech re-voiced, as Ogg Opus streamed as it arrives. */
  speechToSpeech(request: SpeechToSpeechRequest, signal: AbortSignal): Promise<SynthesisStream>;
  /** The source with its background noise removed, as 24 kHz PCM streamed as it arrives. */
  isolateAudio(source: AudioUpload, signal: AbortSignal): Promise<SynthesisStream>;
  /** A piece of music from a prompt, as Ogg Opus streamed as it is composed. */
  composeMusic(request: MusicRequest, signal: AbortSignal): Promise<SynthesisStream>;
}
