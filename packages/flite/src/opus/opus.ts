import { createRequire } from 'node:module';

/**
 * libopus (BSD) compiled to WebAssembly, as the `opusscript` package (MIT) ships it. Its emscripten module is
 * used directly, without opusscript's wrapper (which holds heap views that go stale when wasm memory grows).
 * The module's ABI passes PCM one byte per 16-bit heap slot (little-endian bytes of each sample), in and out. Synchronous and in-process: encoding 1 s of
 * 16 kHz speech costs about 2 ms of CPU, decoding about 1 ms (see docs/protocol.md, "Audio formats").
 */

interface NativeHandler {
  _encode(input: number, samples: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}
interface NativeModule {
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): NativeHandler;
    destroy_handler(handler: NativeHandler): void;
  };
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  readonly HEAPU16: Uint16Array;
  readonly HEAPU8: Uint8Array;
}

let native: NativeModule | undefined;
function load(): NativeModule {
  // Compiled once per process (synchronously: the module embeds no fetch), on first use.
  native ??= (
    createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js') as () => NativeModule
  )();
  return native;
}

export type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** 120 ms at 48 kHz: the longest frame a packet can decode to. */
const MAX_FRAME_SAMPLES = 5760;
const MAX_PACKET_BYTES = 1276 * 3;
const APPLICATION_VOIP = 2048;
const SET_BITRATE = 4002;

/** One libopus encoder or decoder with its wasm buffers; `close()` frees them (the heap is not GC'd). */
abstract class OpusHandle {
  protected readonly native = load();
  protected readonly handler: NativeHandler;
  protected readonly input: number;
  protected readonly output: number;
  private closed = false;

  constructor(
    readonly sampleRate: OpusRate,
    readonly channels: number,
  ) {
    this.handler = new this.native.OpusScriptHandler(sampleRate, channels, APPLICATION_VOIP);
    // PCM bytes travel one per 16-bit slot: 4 heap bytes per sample.
    this.input = this.native._malloc(MAX_FRAME_SAMPLES * channels * 4);
    this.output = this.native._malloc(MAX_FRAME_SAMPLES * channels * 4);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.OpusScriptHandler.destroy_handler(this.handler);
    this.native._free(this.input);
    this.native._free(this.output);
  }
}

export class OpusEncoder extends OpusHandle {
  constructor(sampleRate: OpusRate, channels: number, bitrate: number) {
    super(sampleRate, channels);
    // VOIP: libopus favours SILK/hybrid for speech, clearer than CELT at these rates.
    this.handler._encoder_ctl(SET_BITRATE, bitrate);
  }

  /** Encodes exactly one frame (2.5–60 ms of samples) into one packet. */
  encode(frame: Int16Array): Uint8Array {
    const pcm = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    this.native.HEAPU16.set(pcm, this.input >> 1);
    const bytes = this.handler._encode(this.input, pcm.length, this.output, frame.length / this.channels);
    if (bytes < 0) throw new Error(`Opus encoder failed (${bytes})`);
    return this.native.HEAPU8.slice(this.output, this.output + bytes);
  }
}

export class OpusDecoder extends OpusHandle {
  /** Decodes one packet into interleaved 16-bit samples at this decoder's rate. */
  decode(packet: Uint8Array): Int16Array {
    if (packet.length > MAX_PACKET_BYTES) throw new Error('Opus packet too large');
    this.native.HEAPU8.set(packet, this.input);
    const samples = this.handler._decode(this.input, packet.length, this.output);
    if (samples < 0) throw new Error(`Opus decoder failed (${samples})`);
    const start = this.output >> 1;
    const pcm = Uint8Array.from(this.native.HEAPU16.subarray(start, start + samples * this.channels * 2));
    return new Int16Array(pcm.buffer);
  }
}
