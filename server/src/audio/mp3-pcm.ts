import type { MPEGDecoder } from 'mpg123-decoder';

/**
 * MP3 in, 16-bit mono PCM at `outputRate` out, as the bytes arrive: for the ElevenLabs endpoints that only
 * answer MP3 (audio isolation). The rest of Earshot takes PCM at an Opus rate (stored, sent to PCM players,
 * encoded once to Ogg Opus for the others), so the MP3 never reaches a player or the store.
 * Channels are mixed down; the rate is converted by linear interpolation after a one-pole low-pass, which is
 * plenty for speech (the isolated voice) and costs next to nothing.
 */
export class Mp3ToPcm {
  private sourceRate = 0;
  /** Position of the next output sample, in input samples from `previous`. */
  private position = 0;
  private previous = 0;
  private lowpass = 0;
  private closed = false;

  private constructor(
    private readonly decoder: MPEGDecoder,
    private readonly outputRate: number,
  ) {}

  /** Loads the decoder (its WebAssembly) on first use: a server that never isolates audio never loads it. */
  static async create(outputRate: number): Promise<Mp3ToPcm> {
    const { MPEGDecoder } = await import('mpg123-decoder');
    const decoder = new MPEGDecoder();
    await decoder.ready;
    return new Mp3ToPcm(decoder, outputRate);
  }

  /** PCM for the MP3 bytes so far (empty while a frame is incomplete). Throws on audio that is not MP3. */
  push(mp3: Uint8Array): Buffer {
    if (this.closed) throw new Error('the MP3 decoder is closed');
    const decoded = this.decoder.decode(mp3);
    if (decoded.samplesDecoded === 0) {
      if (decoded.errors.length > 0) throw new Error(`not MP3 audio: ${decoded.errors[0]!.message}`);
      return Buffer.alloc(0);
    }
    this.sourceRate ||= decoded.sampleRate;
    return this.convert(mixDown(decoded.channelData, decoded.samplesDecoded));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.free();
  }

  private convert(input: Float32Array): Buffer {
    const step = this.sourceRate / this.outputRate;
    // A cut-off near the output's Nyquist frequency keeps the worst aliasing out when rates go down.
    const alpha = step > 1 ? Math.min(1, 1 / step) : 1;
    const out: number[] = [];
    for (const sample of input) {
      this.lowpass += alpha * (sample - this.lowpass);
      const current = this.lowpass;
      while (this.position < 1) {
        out.push(this.previous + (current - this.previous) * this.position);
        this.position += step;
      }
      this.position -= 1;
      this.previous = current;
    }
    const pcm = Buffer.alloc(out.length * 2);
    for (let i = 0; i < out.length; i++) {
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(out[i]! * 32767))), i * 2);
    }
    return pcm;
  }
}

function mixDown(channels: Float32Array[], samples: number): Float32Array {
  if (channels.length === 1) return channels[0]!.subarray(0, samples);
  const mixed = new Float32Array(samples);
  for (const channel of channels)
    for (let i = 0; i < samples; i++) mixed[i]! += channel[i]! / channels.length;
  return mixed;
}
