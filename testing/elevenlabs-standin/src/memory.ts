import { createHash } from 'node:crypto';
import type { Alignment } from './alignment.js';

/** One entry of a speech-to-text `words` list (the wire shape). */
export interface TranscriptWord {
  text: string;
  start: number;
  end: number;
  type: 'word' | 'spacing' | 'audio_event';
  speaker_id?: string;
  logprob: number;
}

/** What the stand-in knows a clip it produced says. */
export interface KnownTranscript {
  readonly text: string;
  readonly words: readonly TranscriptWord[];
  readonly seconds: number;
  readonly kind: 'speech' | 'sound';
}

/** A piece of speech with its character timings (seconds from the start of the clip) and speaker. */
export interface SpokenSpan {
  readonly alignment: Alignment;
  readonly speaker: string;
}

const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** Groups character timings into words and the spacing between them, as Scribe reports them. */
export function wordsFromSpans(spans: readonly SpokenSpan[]): { text: string; words: TranscriptWord[] } {
  const words: TranscriptWord[] = [];
  for (const span of spans) {
    const {
      characters,
      character_start_times_seconds: starts,
      character_end_times_seconds: ends,
    } = span.alignment;
    let i = 0;
    while (i < characters.length) {
      if (/\s/.test(characters[i]!)) {
        i++;
        continue;
      }
      let j = i;
      while (j < characters.length && !/\s/.test(characters[j]!)) j++;
      const previous = words.at(-1);
      const word: TranscriptWord = {
        text: characters.slice(i, j).join(''),
        start: round3(starts[i]!),
        end: round3(ends[j - 1]!),
        type: 'word',
        speaker_id: span.speaker,
        logprob: 0,
      };
      if (previous) {
        words.push({
          text: ' ',
          start: previous.end,
          end: word.start,
          type: 'spacing',
          speaker_id: span.speaker,
          logprob: 0,
        });
      }
      words.push(word);
      i = j;
    }
  }
  return { text: words.map((word) => word.text).join(''), words };
}

/**
 * Remembers what each clip the stand-in sent says, by the SHA-256 of its bytes, so that transcribing
 * that audio again (as sent, or PCM wrapped in a WAV file) returns the text with the synthesis timings.
 */
export class TranscriptMemory {
  private readonly clips = new Map<string, KnownTranscript>();

  constructor(private readonly capacity = 500) {}

  remember(audio: Buffer, transcript: KnownTranscript): void {
    if (audio.length === 0) return;
    const key = hash(audio);
    this.clips.delete(key);
    this.clips.set(key, transcript);
    while (this.clips.size > this.capacity) this.clips.delete(this.clips.keys().next().value!);
  }

  recall(file: Buffer): KnownTranscript | undefined {
    const direct = this.clips.get(hash(file));
    if (direct) return direct;
    const data = wavData(file);
    return data ? this.clips.get(hash(data)) : undefined;
  }
}

function hash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The `data` chunk of a RIFF/WAVE file, or undefined if `file` is not one. */
export function wavData(file: Buffer): Buffer | undefined {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE')
    return undefined;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    if (id === 'data') return file.subarray(offset + 8, Math.min(file.length, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** Duration of a WAV file from its header, if it is one. */
export function wavSeconds(file: Buffer): number | undefined {
  const data = wavData(file);
  if (!data) return undefined;
  const fmt = file.indexOf('fmt ', 12, 'ascii');
  if (fmt < 0 || fmt + 24 > file.length) return undefined;
  const byteRate = file.readUInt32LE(fmt + 16);
  return byteRate > 0 ? data.length / byteRate : undefined;
}
