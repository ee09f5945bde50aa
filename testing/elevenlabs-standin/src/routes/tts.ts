import type { FliteSynthesizer } from '@earshot/flite';
import { emptyAlignment, appendAlignment, takeAlignment, type Alignment } from '../alignment.js';
import { contentTypeOf, secondsPerByte } from '../audio/formats.js';
import { BodyWriter } from '../delivery.js';
import { defaultErrorBody, newElevenLabsId } from '../errors.js';
import { sendJson, type Exchange } from '../exchange.js';
import type { ByteFault } from '../faults.js';
import { ChunkSchedule, type Pacing } from '../pacing.js';
import { synthesizeSpeech, synthesizeWhole, type SpeechRequest } from '../speech.js';
import { validateTtsRequest, type TtsJob } from './tts-request.js';
import type { VoiceFixture } from '../fixtures/voices.js';
import { isRecord } from '../exchange.js';
import type { RenderCache, RenderedClip, RenderedStream, StreamChunk } from '../prerendered.js';

export type TtsMode = 'convert' | 'stream' | 'with-timestamps' | 'stream-with-timestamps';

export interface TtsDeps {
  readonly synthesizer: FliteSynthesizer;
  readonly pacing: Pacing;
  readonly maxConcurrentRequests: number;
  /** Requests currently generating (this one not included). */
  concurrentRequests(): number;
  /** Marks a request as generating; the returned function ends it. */
  beginRequest(): () => void;
  bill(credits: number): void;
  takeByteFault(): ByteFault | undefined;
  findVoice(voiceId: string): VoiceFixture | undefined;
  /** Prerendered mode: renders kept and replayed instead of synthesising every request. */
  readonly renders?: TtsRenders;
  /** Called once a clip has been sent whole: for history and speech-to-text of the stand-in's own audio. */
  spoken(clip: SpokenClip): void;
}

export interface TtsRenders {
  readonly stream: RenderCache<RenderedStream>;
  readonly whole: RenderCache<RenderedClip>;
}

export interface SpokenClip {
  readonly historyItemId: string;
  readonly requestId: string;
  readonly job: TtsJob;
  /** Every encoded byte sent. */
  readonly audio: Buffer;
  readonly alignment: Alignment;
  readonly settings: unknown;
}

/** POST /v1/text-to-speech/{voice_id}[/stream][/with-timestamps] */
export async function textToSpeech(
  exchange: Exchange,
  deps: TtsDeps,
  voiceId: string,
  mode: TtsMode,
): Promise<void> {
  const checked = validateTtsRequest(
    voiceId,
    exchange.url.searchParams,
    exchange.body,
    exchange.requestId,
    (id) => deps.findVoice(id),
  );
  if (!checked.ok) return sendJson(exchange.res, checked.status, checked.body);
  if (deps.concurrentRequests() >= deps.maxConcurrentRequests) {
    return sendJson(exchange.res, 429, defaultErrorBody(429, exchange.requestId));
  }
  const end = deps.beginRequest();
  try {
    const job = checked.job;
    deps.bill(job.characterCost);
    const historyItemId = newElevenLabsId();
    const headers = {
      'character-cost': String(job.characterCost),
      'history-item-id': historyItemId,
      'current-concurrent-requests': String(deps.concurrentRequests()),
      'maximum-concurrent-requests': String(deps.maxConcurrentRequests),
    };
    const run = new TtsRun(exchange, deps, job, headers, historyItemId);
    if (mode === 'stream' || mode === 'stream-with-timestamps')
      await run.stream(mode === 'stream-with-timestamps');
    else await run.whole(mode === 'with-timestamps');
  } catch (error) {
    if (exchange.signal.aborted) return;
    if (!exchange.res.headersSent) sendJson(exchange.res, 500, defaultErrorBody(500, exchange.requestId));
    else exchange.res.destroy(error instanceof Error ? error : undefined);
  } finally {
    end();
  }
}

class TtsRun {
  private readonly schedule: ChunkSchedule;
  private readonly writer: BodyWriter;
  private readonly request: SpeechRequest;
  private readonly secondsPerByte: number;
  private readonly chunkBytes: number;

  constructor(
    private readonly exchange: Exchange,
    private readonly deps: TtsDeps,
    private readonly job: TtsJob,
    private readonly headers: Record<string, string>,
    private readonly historyItemId: string,
  ) {
    this.schedule = new ChunkSchedule(deps.pacing, exchange.startedAt);
    this.writer = new BodyWriter(exchange.res, deps.takeByteFault(), exchange.signal);
    this.request = { text: job.text, fliteVoice: job.voice.fliteVoice, speed: job.speed, format: job.format };
    this.secondsPerByte = secondsPerByte(job.format);
    // Keep PCM chunks on whole samples.
    const unit = job.format.codec === 'pcm' ? 2 : 1;
    this.chunkBytes = Math.max(unit, deps.pacing.chunkBytes - (deps.pacing.chunkBytes % unit));
  }

  /** Audio (or NDJSON lines) written chunk by chunk as each one's time comes. */
  async stream(withTimestamps: boolean): Promise<void> {
    const contentType = withTimestamps ? 'application/json' : contentTypeOf(this.job.format);
    const renders = this.deps.renders;
    const rendered = renders
      ? await renders.stream.get(this.renderKey(withTimestamps ? 'ndjson' : 'stream'), (signal) =>
          this.renderStream(withTimestamps, signal),
        )
      : undefined;
    const full = emptyAlignment();
    const chunks = rendered?.chunks ?? this.liveChunks(withTimestamps, full, this.exchange.signal);
    const sent: Buffer[] = [];
    let index = 0;
    for await (const chunk of chunks) {
      await this.schedule.waitUntil(this.schedule.dueMs(index, chunk.startSeconds), this.exchange.signal);
      this.sendHeaders(contentType);
      index++;
      if (!rendered) sent.push(chunk.audio);
      if (!(await this.writer.write(chunk.wire))) return;
    }
    this.sendHeaders(contentType);
    await this.writer.end();
    if (this.writer.alive) this.record(rendered?.audio ?? Buffer.concat(sent), rendered?.alignment ?? full);
  }

  /** Every chunk of the body at once, unpaced (prerendered mode keeps it for replays). */
  private async renderStream(withTimestamps: boolean, signal: AbortSignal): Promise<RenderedStream> {
    const alignment = emptyAlignment();
    const chunks: StreamChunk[] = [];
    for await (const chunk of this.liveChunks(withTimestamps, alignment, signal)) chunks.push(chunk);
    return { chunks, audio: Buffer.concat(chunks.map((chunk) => chunk.audio)), alignment };
  }

  /**
   * The body's chunks as synthesis produces them, each carrying the character timings that start in it;
   * `full` collects every timing (for the history).
   */
  private async *liveChunks(
    withTimestamps: boolean,
    full: Alignment,
    signal: AbortSignal,
  ): AsyncGenerator<StreamChunk> {
    const alignment = emptyAlignment();
    const normalized = emptyAlignment();
    let carry = Buffer.alloc(0);
    let seconds = 0;
    const chunk = (audio: Buffer, last: boolean): StreamChunk => {
      const startSeconds = seconds;
      seconds += audio.length * this.secondsPerByte;
      if (!withTimestamps) return { wire: audio, audio, startSeconds };
      const line = {
        audio_base64: audio.toString('base64'),
        alignment: orNull(takeAlignment(alignment, last ? undefined : seconds)),
        normalized_alignment: orNull(takeAlignment(normalized, last ? undefined : seconds)),
      };
      return { wire: Buffer.from(`${JSON.stringify(line)}\n`), audio, startSeconds };
    };
    for await (const piece of synthesizeSpeech(this.deps.synthesizer, this.request, signal)) {
      appendAlignment(alignment, piece.alignment);
      appendAlignment(full, piece.alignment);
      appendAlignment(normalized, piece.normalizedAlignment);
      carry = Buffer.concat([carry, piece.audio]);
      // Keep the tail back so the last chunk always carries the remaining character timings.
      while (carry.length > this.chunkBytes) {
        yield chunk(Buffer.from(carry.subarray(0, this.chunkBytes)), false);
        carry = carry.subarray(this.chunkBytes);
      }
    }
    if (carry.length > 0) yield chunk(carry, true);
  }

  /** What makes two requests' audio identical: everything else in the body does not change the bytes. */
  private renderKey(kind: 'stream' | 'ndjson' | 'whole'): string {
    const { voice, format, speed, text } = this.job;
    return JSON.stringify([kind, voice.fliteVoice, format.id, speed, this.chunkBytes, text]);
  }

  private record(audio: Buffer, alignment: Alignment): void {
    const body = this.exchange.body;
    this.deps.spoken({
      historyItemId: this.historyItemId,
      requestId: this.exchange.requestId,
      job: this.job,
      audio,
      alignment,
      settings: isRecord(body) ? body.voice_settings : undefined,
    });
  }

  /** The whole clip (or one JSON object), sent once all of it has been "generated". */
  async whole(withTimestamps: boolean): Promise<void> {
    const renders = this.deps.renders;
    const clip = renders
      ? await renders.whole.get(this.renderKey('whole'), (signal) =>
          synthesizeWhole(this.deps.synthesizer, this.request, signal),
        )
      : await synthesizeWhole(this.deps.synthesizer, this.request, this.exchange.signal);
    const generationSeconds = clip.audio.length * this.secondsPerByte;
    await this.schedule.waitUntil(this.schedule.dueMs(0, generationSeconds), this.exchange.signal);
    const body = withTimestamps
      ? Buffer.from(
          JSON.stringify({
            audio_base64: clip.audio.toString('base64'),
            alignment: clip.alignment,
            normalized_alignment: clip.normalizedAlignment,
          }),
        )
      : clip.audio;
    this.sendHeaders(withTimestamps ? 'application/json' : contentTypeOf(this.job.format), body.length);
    for (let offset = 0; offset < body.length; offset += this.chunkBytes) {
      if (!(await this.writer.write(body.subarray(offset, offset + this.chunkBytes)))) return;
    }
    await this.writer.end();
    if (this.writer.alive) this.record(clip.audio, clip.alignment);
  }

  private sendHeaders(contentType: string, contentLength?: number): void {
    const res = this.exchange.res;
    if (res.headersSent || res.destroyed) return;
    const latency = Math.round(performance.now() - this.exchange.startedAt);
    res.writeHead(200, {
      ...this.headers,
      'content-type': contentType,
      'tts-latency-ms': String(latency),
      ...(contentLength === undefined ? {} : { 'content-length': String(contentLength) }),
    });
    res.flushHeaders();
  }
}

function orNull(alignment: Alignment): Alignment | null {
  return alignment.characters.length > 0 ? alignment : null;
}
