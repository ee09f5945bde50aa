import type { IncomingMessage } from 'node:http';
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { OGG_OPUS, type AudioFormat, type Model, type Voice } from '@earshot/protocol';
import { EarshotError } from '../errors.js';
import { fromElevenLabsError } from './elevenlabs-errors.js';
import { chunksOf, ElevenLabsHttp, NdjsonLines } from './elevenlabs-http.js';
import { renderClip } from './elevenlabs-render.js';
import { ElevenLabsStudio } from './elevenlabs-studio.js';
import type { OutputFormat } from '../audio/output-formats.js';
import type {
  Subscription,
  SynthesisEvent,
  SynthesisRequest,
  SynthesisStream,
  VoiceEngine,
} from './types.js';
import { creditsCharged } from './elevenlabs-credits.js';

/**
 * Ogg Opus at 32 kbit/s: a twelfth of 24 kHz PCM (384 kbit/s) for speech that sounds as good; players decode it
 * as it arrives (WebCodecs) and the server decodes it once per speech for players that take only PCM.
 */
const FORMATS = {
  opus_48000_32: { mimeType: OGG_OPUS, sampleRate: 48_000, channels: 1 },
  /** What Earshot asked for before Opus; kept for comparisons (bench/src/codec.ts). */
  pcm_24000: { mimeType: 'audio/pcm', sampleRate: 24_000, channels: 1 },
} as const satisfies Record<string, AudioFormat>;
export type ElevenLabsOutputFormat = keyof typeof FORMATS;
/**
 * The model a speech uses when neither the call nor the user's settings name one. Flash v2.5 is ElevenLabs' model
 * for real-time speech: under ~75 ms of model time to first audio by ElevenLabs' figures (Turbo v2.5 ~300 ms;
 * Multilingual v2, the API's own default, is made for quality, not speed), half the credits a character, four
 * times the text per request, and it takes `language`; ElevenLabs says its voice has slightly less emotional depth.
 * An agent's short spoken updates want speed; Multilingual v2 stays one setting away for narration.
 */
const DEFAULT_MODEL = 'eleven_flash_v2_5';
const VOICE_PAGES_MAX = 10;

export interface ElevenLabsEngineOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  /** Retries on 408/429/5xx before audio starts. Tests use 0 to see faults as they are. */
  readonly maxRetries?: number;
  /**
   * A speech stream that sends nothing for this long is given up as `upstream_interrupted`, so a stalled
   * connection cannot hold the user's queue. ElevenLabs sends a chunk every few hundred ms while it generates.
   * @default 20_000
   */
  readonly streamIdleTimeoutMs?: number;
  /** @default 'opus_48000_32' */
  readonly outputFormat?: ElevenLabsOutputFormat;
}

/**
 * ElevenLabs: speech, voices and models over fetch (elevenlabs-http.ts: the hot path, without the SDK's cost),
 * everything else through the official SDK, loaded the first time it is needed; the only module that uses it.
 */
export class ElevenLabsEngine implements VoiceEngine {
  readonly name = 'elevenlabs' as const;
  readonly defaultModelId = DEFAULT_MODEL;
  private readonly http: ElevenLabsHttp;
  private sdk: Promise<ElevenLabsClient> | undefined;
  private readonly streamIdleTimeoutMs: number;
  private readonly outputFormat: ElevenLabsOutputFormat;
  readonly streamFormat: AudioFormat;
  readonly studio: ElevenLabsStudio;

  constructor(private readonly options: ElevenLabsEngineOptions) {
    this.streamIdleTimeoutMs = options.streamIdleTimeoutMs ?? 20_000;
    this.outputFormat = options.outputFormat ?? 'opus_48000_32';
    this.streamFormat = FORMATS[this.outputFormat];
    this.http = new ElevenLabsHttp({
      apiKey: options.apiKey,
      baseUrl: options.baseUrl,
      maxRetries: options.maxRetries ?? 1,
      timeoutMs: 30_000,
    });
    this.studio = new ElevenLabsStudio(() => this.client());
  }

  /** The SDK's client, loaded once on first use (a second of loading nobody should wait for at start). */
  private client(): Promise<ElevenLabsClient> {
    this.sdk ??= import('@elevenlabs/elevenlabs-js').then(
      ({ ElevenLabsClient }) =>
        new ElevenLabsClient({
          apiKey: this.options.apiKey,
          ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
          maxRetries: this.options.maxRetries ?? 1,
          timeoutInSeconds: 30,
        }),
    );
    return this.sdk;
  }

  async listVoices(): Promise<Voice[]> {
    const voices: Voice[] = [];
    let nextPageToken: string | undefined;
    try {
      for (let page = 0; page < VOICE_PAGES_MAX; page++) {
        const result = await this.http.json<VoicePage>('v2/voices', {
          query: { page_size: 100, next_page_token: nextPageToken },
        });
        for (const voice of result.voices) {
          voices.push({
            id: voice.voice_id,
            name: voice.name ?? voice.voice_id,
            category: voice.category,
            description: voice.description ?? undefined,
            labels: voice.labels ?? {},
            previewUrl: voice.preview_url ?? undefined,
          });
        }
        if (!result.has_more || !result.next_page_token) break;
        nextPageToken = result.next_page_token;
      }
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
    return voices;
  }

  async listModels(): Promise<Model[]> {
    try {
      const models = await this.http.json<ModelJson[]>('v1/models');
      return models
        .filter((model) => model.can_do_text_to_speech !== false)
        .map((model) => ({
          id: model.model_id,
          name: model.name ?? model.model_id,
          description: model.description ?? undefined,
          maxCharacters: model.maximum_text_length_per_request ?? undefined,
          creditsPerCharacter: model.model_rates?.character_cost_multiplier ?? 1,
          ...(model.languages ? { languages: model.languages.map((language) => language.language_id) } : {}),
        }));
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
  }

  async synthesize(request: SynthesisRequest, signal: AbortSignal): Promise<SynthesisStream> {
    const s = request.settings;
    // The request ends when the caller stops it or when the stream goes quiet for too long.
    const idle = new IdleTimer(this.streamIdleTimeoutMs, signal);
    let response;
    try {
      // The timestamped stream carries the same audio plus character timings for live captions.
      response = await this.http.request(
        `v1/text-to-speech/${encodeURIComponent(request.voiceId)}/stream/with-timestamps`,
        {
          method: 'POST',
          query: { output_format: this.outputFormat },
          json: {
            text: request.text,
            model_id: request.modelId ?? DEFAULT_MODEL,
            ...(request.languageCode ? { language_code: request.languageCode } : {}),
            ...(request.previousRequestIds?.length
              ? { previous_request_ids: request.previousRequestIds.slice(-3) }
              : {}),
            // Settings as the agent gave them (snake_case, like the API); absent ones stay absent.
            ...(s && Object.keys(s).length > 0 ? { voice_settings: s } : {}),
          },
          signal: idle.signal,
        },
      );
    } catch (error) {
      idle.stop();
      if (idle.fired) throw idle.error();
      const mapped = fromElevenLabsError(error, { voiceId: request.voiceId });
      throw mapped.code === 'quota_exceeded' ? await this.withResetTime(mapped) : mapped;
    }
    const headers = response.headers;
    return {
      format: this.streamFormat,
      requestId: headers.get('request-id') ?? undefined,
      credits: creditsCharged(headers.get('character-cost'), request.text.length),
      events: readTimestampedStream(response.body, signal, idle),
    };
  }

  render(request: SynthesisRequest, format: OutputFormat, maxBytes: number, signal: AbortSignal) {
    return renderClip(
      this.http,
      { ...request, modelId: request.modelId ?? DEFAULT_MODEL },
      format,
      maxBytes,
      signal,
    );
  }

  /** Adds when the account's credits reset to a quota error, so the agent can tell the user. */
  private async withResetTime(error: EarshotError): Promise<EarshotError> {
    try {
      const { resetsAt, creditsUsed, creditLimit } = await this.getSubscription();
      if (!resetsAt) return error;
      return new EarshotError(
        'quota_exceeded',
        `${error.message} ${creditsUsed} of ${creditLimit} credits are used; they reset at ${resetsAt}.`,
        { cause: error.cause },
      );
    } catch {
      return error;
    }
  }

  async getSubscription(): Promise<Subscription> {
    try {
      const subscription = await (await this.client()).user.subscription.get();
      const reset = subscription.nextCharacterCountResetUnix;
      return {
        tier: subscription.tier,
        creditsUsed: subscription.characterCount,
        creditLimit: subscription.characterLimit,
        resetsAt: reset ? new Date(reset * 1000).toISOString() : null,
      };
    } catch (error) {
      throw fromElevenLabsError(error, {});
    }
  }

  async checkReady(): Promise<void> {
    // Configured is enough: probing the API on every readiness check would spend quota and add latency.
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

/** What the API answers (snake_case JSON), as far as Earshot reads it. */
interface VoicePage {
  readonly voices: readonly {
    readonly voice_id: string;
    readonly name?: string | null;
    readonly category?: string;
    readonly description?: string | null;
    readonly labels?: Record<string, string> | null;
    readonly preview_url?: string | null;
  }[];
  readonly has_more?: boolean;
  readonly next_page_token?: string | null;
}

interface ModelJson {
  readonly model_id: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly can_do_text_to_speech?: boolean | null;
  readonly maximum_text_length_per_request?: number | null;
  readonly languages?: readonly { readonly language_id: string }[] | null;
  readonly model_rates?: { readonly character_cost_multiplier?: number | null } | null;
}

/** One line of the timestamped stream. */
interface TimestampedChunk {
  readonly audio_base64?: string | null;
  readonly alignment?: {
    readonly characters: string[];
    readonly character_start_times_seconds: number[];
    readonly character_end_times_seconds: number[];
  } | null;
}

/**
 * Turns the NDJSON stream into audio and alignment events; a broken stream becomes a clear error. One async
 * generator over the body, lines parsed in place (NdjsonLines): every layer of async iteration between the
 * socket and the players is a promise and a turn of the microtask queue per line, on the first audio's path.
 */
async function* readTimestampedStream(
  body: IncomingMessage,
  signal: AbortSignal,
  idle: IdleTimer,
): AsyncIterable<SynthesisEvent> {
  const lines = new NdjsonLines();
  try {
    for await (const chunk of chunksOf(body)) {
      idle.restart();
      for (const line of lines.push(chunk))
        for (const event of eventsOf(line as TimestampedChunk)) yield event;
    }
    for (const line of lines.end()) for (const event of eventsOf(line as TimestampedChunk)) yield event;
  } catch (error) {
    if (signal.aborted) throw new EarshotError('cancelled', 'The speech was stopped.', { cause: error });
    if (idle.fired) throw idle.error();
    throw new EarshotError(
      'upstream_interrupted',
      'The ElevenLabs audio stream broke off before the end; the speech is incomplete — try again.',
      { cause: error },
    );
  } finally {
    idle.stop();
  }
}

/** A line's timings (when it has any), then its audio. */
function eventsOf(chunk: TimestampedChunk): SynthesisEvent[] {
  const events: SynthesisEvent[] = [];
  const alignment = chunk.alignment;
  if (alignment && alignment.characters.length > 0) {
    const starts = alignment.character_start_times_seconds;
    events.push({
      type: 'alignment',
      chars: alignment.characters,
      startMs: starts.map((t) => Math.round(t * 1000)),
      durationMs: alignment.character_end_times_seconds.map((end, i) =>
        Math.max(0, Math.round((end - (starts[i] ?? end)) * 1000)),
      ),
    });
  }
  if (chunk.audio_base64) {
    const data = Buffer.from(chunk.audio_base64, 'base64');
    if (data.byteLength > 0) events.push({ type: 'audio', data });
  }
  return events;
}

/** Aborts its signal when `restart` has not been called for `ms`, or when the caller's signal aborts. */
class IdleTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(
    private readonly ms: number,
    /** The caller's signal, followed by this one until stop() (AbortSignal.any costs ~30 µs, cold, per speech). */
    private readonly caller: AbortSignal,
  ) {
    if (caller.aborted) this.controller.abort(caller.reason);
    else caller.addEventListener('abort', this.follow, { once: true });
    this.restart();
  }

  /** Aborted when the caller aborts or the stream goes quiet for too long. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Passes the caller's abort on (a field, so stop() can remove the very listener added). */
  private readonly follow = (): void => this.controller.abort(this.caller.reason);

  /** Starts the wait again: the same timer, re-armed (not a new one per chunk of every stream). */
  restart(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
    this.timer.unref();
  }

  /** The stream is over: no more waiting, and no more following the caller. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.caller.removeEventListener('abort', this.follow);
  }

  error(): EarshotError {
    return new EarshotError(
      'upstream_interrupted',
      `ElevenLabs sent nothing for ${Math.round(this.ms / 1000)} s, so the speech was given up — try again.`,
    );
  }
}
