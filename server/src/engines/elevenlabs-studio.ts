import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { EarshotError } from '../errors.js';
import { fromElevenLabsError } from './elevenlabs-errors.js';
import {
  audioEvents,
  cloneVoice,
  composeMusic,
  isolateAudio,
  speechToSpeech,
} from './elevenlabs-voice-lab.js';
import type {
  AudioUpload,
  LibraryQuery,
  MusicRequest,
  SpeechToSpeechRequest,
  VoiceCloneRequest,
  LibraryVoice,
  SoundEffectRequest,
  Studio,
  Transcript,
  TranscriptionRequest,
  VoiceDesign,
} from './studio.js';
import type { SynthesisStream } from './types.js';
import { creditsCharged } from './elevenlabs-credits.js';

const SAMPLE_RATE = 24_000;

/** Sound effects, transcription and the shared voice library through the official SDK. */
export class ElevenLabsStudio implements Studio {
  /** `client` loads the SDK on first use (see ElevenLabsEngine). */
  constructor(private readonly client: () => Promise<ElevenLabsClient>) {}

  async soundEffect(request: SoundEffectRequest, signal: AbortSignal): Promise<SynthesisStream> {
    let response;
    try {
      response = await (
        await this.client()
      ).textToSoundEffects
        .convert(
          {
            text: request.text,
            durationSeconds: request.durationSeconds,
            promptInfluence: request.promptInfluence,
            loop: request.loop,
            outputFormat: 'pcm_24000',
          },
          { abortSignal: signal },
        )
        .withRawResponse();
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
    return {
      format: { mimeType: 'audio/pcm', sampleRate: SAMPLE_RATE, channels: 1 },
      requestId: response.rawResponse.headers.get('request-id') ?? undefined,
      credits: creditsCharged(response.rawResponse.headers.get('character-cost'), 0),
      events: audioEvents(response.data, signal),
    };
  }

  async transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<Transcript> {
    try {
      const result = await (
        await this.client()
      ).speechToText.convert(
        {
          modelId: 'scribe_v1',
          file: { data: request.audio, filename: request.fileName, contentType: request.mimeType },
          languageCode: request.language,
          diarize: request.diarize,
          numSpeakers: request.numSpeakers,
          tagAudioEvents: request.tagAudioEvents,
          timestampsGranularity: 'word',
        },
        { abortSignal: signal },
      );
      if (!('words' in result) || !('text' in result)) {
        throw new EarshotError(
          'upstream_error',
          'ElevenLabs answered the transcription in an unexpected shape.',
        );
      }
      return {
        languageCode: result.languageCode,
        languageProbability: result.languageProbability,
        text: result.text,
        words: result.words.map((word) => ({
          text: word.text,
          start: word.start ?? 0,
          end: word.end ?? 0,
          type: word.type,
          ...(word.speakerId ? { speakerId: word.speakerId } : {}),
        })),
      };
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
  }

  async designVoice(
    request: { description: string; text?: string },
    signal: AbortSignal,
  ): Promise<VoiceDesign> {
    try {
      const response = await (
        await this.client()
      ).textToVoice
        .design(
          {
            voiceDescription: request.description,
            outputFormat: 'pcm_24000',
            ...(request.text ? { text: request.text } : { autoGenerateText: true }),
          },
          { abortSignal: signal },
        )
        .withRawResponse();
      return {
        text: response.data.text,
        credits: creditsCharged(response.rawResponse.headers.get('character-cost'), 0),
        previews: response.data.previews.map((preview) => ({
          generatedVoiceId: preview.generatedVoiceId,
          pcm: Buffer.from(preview.audioBase64, 'base64'),
          durationSecs: preview.durationSecs,
        })),
      };
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
  }

  async saveDesignedVoice(request: { name: string; description: string; generatedVoiceId: string }) {
    try {
      const voice = await (
        await this.client()
      ).textToVoice.create({
        voiceName: request.name,
        voiceDescription: request.description,
        generatedVoiceId: request.generatedVoiceId,
      });
      return { id: voice.voiceId, name: voice.name ?? request.name };
    } catch (error) {
      const mapped = fromElevenLabsError(error, {});
      if (mapped.code === 'unknown_voice') {
        throw new EarshotError(
          'not_found',
          `No preview "${request.generatedVoiceId}"; call design_voice first and use one of its ids.`,
        );
      }
      throw mapped;
    }
  }

  cloneVoice(request: VoiceCloneRequest) {
    return cloneVoice(this.client, request);
  }

  speechToSpeech(request: SpeechToSpeechRequest, signal: AbortSignal) {
    return speechToSpeech(this.client, request, signal);
  }

  isolateAudio(source: AudioUpload, signal: AbortSignal) {
    return isolateAudio(this.client, source, signal);
  }

  composeMusic(request: MusicRequest, signal: AbortSignal) {
    return composeMusic(this.client, request, signal);
  }

  async searchLibrary(query: LibraryQuery): Promise<{ voices: LibraryVoice[]; hasMore: boolean }> {
    try {
      const result = await (
        await this.client()
      ).voices.getShared({
        pageSize: query.pageSize,
        page: query.page,
        search: query.search,
        gender: query.gender,
        age: query.age,
        accent: query.accent,
        language: query.language,
        useCases: query.useCase ? [query.useCase] : undefined,
        category: query.category as never,
      });
      return {
        hasMore: result.hasMore,
        voices: result.voices.map((voice) => ({
          id: voice.voiceId,
          name: voice.name,
          gender: voice.gender,
          age: voice.age,
          accent: voice.accent,
          language: voice.language,
          useCase: voice.useCase,
          category: String(voice.category),
          description: voice.description,
          previewUrl: voice.previewUrl,
          clonedByCount: voice.clonedByCount,
        })),
      };
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
  }
}
