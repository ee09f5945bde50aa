/**
 * Linear-interpolation resampler for 16-bit mono PCM that keeps its phase across calls, so a text
 * synthesised sentence by sentence resamples without clicks or drift at the joins.
 */
export class LinearResampler {
  private readonly step: number;
  /** Position of the next output sample, in input samples, relative to the start of the next input. */
  private position = 0;
  /** The last input sample of the previous call (index -1 for the next call). */
  private previous: number | undefined;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    this.step = fromRate / toRate;
  }

  /** Resamples one piece; returns Int16 samples at `toRate`. */
  push(input: Int16Array): Int16Array {
    if (this.fromRate === this.toRate) return input;
    if (input.length === 0) return new Int16Array(0);
    const output: number[] = [];
    const at = (index: number): number => (index < 0 ? (this.previous ?? input[0]!) : input[index]!);
    // Interpolate between sample floor(p) and floor(p)+1; stop once the right neighbour is not yet known.
    while (this.position < input.length - 1) {
      const left = Math.floor(this.position);
      const fraction = this.position - left;
      const value = at(left) + (at(left + 1) - at(left)) * fraction;
      output.push(Math.round(value));
      this.position += this.step;
    }
    this.position -= input.length;
    this.previous = input[input.length - 1];
    return Int16Array.from(output);
  }
}

export function int16FromBuffer(pcm: Buffer): Int16Array {
  const copy = new Uint8Array(pcm.length - (pcm.length % 2));
  copy.set(pcm.subarray(0, copy.length));
  return new Int16Array(copy.buffer);
}

export function bufferFromInt16(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}
