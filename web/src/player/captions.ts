/** Estimated speaking rate when the engine gives no timings (typical for ElevenLabs and Flite voices). */
const CHARS_PER_SECOND = 15;

export interface Word {
  readonly start: number;
  readonly end: number;
}

/** Word spans of a text (whitespace separates them; the spans index into the original string). */
export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(/\S+/g))
    words.push({ start: match.index, end: match.index + match[0].length });
  return words;
}

/**
 * When each character of a speech starts, in ms from the start of its audio: from `speech.alignment`
 * messages when the engine sends them, otherwise estimated from the text length and the audio duration.
 */
export class CaptionTiming {
  private readonly charStartMs: number[] = [];
  private aligned = false;

  constructor(private readonly text: string) {}

  get hasAlignment(): boolean {
    return this.aligned;
  }

  /** Alignment chunks arrive in order; their character timings continue one another. */
  addAlignment(chars: readonly string[], startMs: readonly number[]): void {
    this.aligned = true;
    for (let i = 0; i < chars.length; i++) this.charStartMs.push(startMs[i] ?? 0);
  }

  /**
   * Index of the character being spoken at `positionMs`. `knownDurationMs` is the audio heard or scheduled so
   * far (or the final duration once the speech has ended); the estimate uses whichever is longer of it and
   * the text read at a typical rate, so highlighting never runs ahead of the voice by much.
   */
  charAt(positionMs: number, knownDurationMs: number, ended: boolean): number {
    if (this.aligned && this.charStartMs.length > 0) {
      let index = 0;
      for (let i = 0; i < this.charStartMs.length; i++) {
        if ((this.charStartMs[i] ?? Infinity) <= positionMs) index = i;
        else break;
      }
      return index;
    }
    const estimatedMs = (this.text.length / CHARS_PER_SECOND) * 1000;
    const totalMs = ended ? knownDurationMs : Math.max(knownDurationMs, estimatedMs);
    if (totalMs <= 0) return 0;
    return Math.min(this.text.length - 1, Math.floor((positionMs / totalMs) * this.text.length));
  }
}

/** Index of the word containing (or last before) a character. */
export function wordAt(words: readonly Word[], charIndex: number): number {
  let found = -1;
  for (let i = 0; i < words.length; i++) {
    if ((words[i]?.start ?? Infinity) <= charIndex) found = i;
    else break;
  }
  return found;
}
