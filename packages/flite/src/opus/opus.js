// libopus (BSD) compiled to WebAssembly, as the `opusscript` package (MIT) ships it. Its emscripten module is
// used directly, without opusscript's wrapper (which holds heap views that go stale when wasm memory grows and
// returns decoded samples truncated to bytes). The module's ABI passes PCM one byte per 16-bit heap slot (the
// little-endian bytes of each sample), in and out. Plain JavaScript so the Flite worker threads load it from
// src/ (tests) and dist/ (production) alike, as they load worker.js.
import { createRequire } from 'node:module';

/**
 * @typedef {{
 *   _encode(input: number, bytes: number, output: number, frameSize: number): number,
 *   _decode(input: number, bytes: number, output: number): number,
 *   _encoder_ctl(ctl: number, arg: number): number,
 * }} NativeHandler
 * @typedef {{
 *   OpusScriptHandler: { new (rate: number, channels: number, application: number): NativeHandler,
 *     destroy_handler(handler: NativeHandler): void },
 *   _malloc(bytes: number): number,
 *   _free(pointer: number): void,
 *   HEAPU16: Uint16Array,
 *   HEAPU8: Uint8Array,
 * }} NativeModule
 * @typedef {8000 | 12000 | 16000 | 24000 | 48000} OpusRate
 */

/** @type {NativeModule | undefined} */
let native;
/** Compiled once per thread (synchronously: the module fetches nothing), on first use. */
function load() {
  if (native) return native;
  /** @type {() => NativeModule} */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- require() is untyped; the shape is NativeModule
  const factory = createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js');
  native = factory();
  return native;
}

/** @type {readonly number[]} */
export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];
/** 120 ms at 48 kHz: the longest frame a packet can decode to. */
const MAX_FRAME_SAMPLES = 5760;
const MAX_PACKET_BYTES = 1276 * 3;
/** VOIP: libopus favours SILK/hybrid for speech, clearer than CELT at these bit rates. */
const APPLICATION_VOIP = 2048;
const SET_BITRATE = 4002;
const SET_COMPLEXITY = 4010;
/**
 * Measured on this 2-core machine for 16 kHz speech at 24 kbit/s: complexity 10 (libopus's default) costs ~17 ms
 * of CPU per second of audio, 5 about 7 ms, 3 about 5.7 ms, at the same size; Flite's voice and short speech
 * clips lose nothing audible at 3. Flite makes a minute of speech in about a second, so this is what keeps
 * encoding from stretching an offline sentence by more than ~40%.
 */
const COMPLEXITY = 3;

/** One libopus encoder or decoder with its wasm buffers; `close()` frees them (the wasm heap is not GC'd). */
class OpusHandle {
  /**
   * @param {OpusRate} sampleRate
   * @param {number} channels
   */
  constructor(sampleRate, channels) {
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.native = load();
    this.handler = new this.native.OpusScriptHandler(sampleRate, channels, APPLICATION_VOIP);
    // PCM bytes travel one per 16-bit slot: 4 heap bytes per sample.
    this.input = this.native._malloc(MAX_FRAME_SAMPLES * channels * 4);
    this.output = this.native._malloc(MAX_FRAME_SAMPLES * channels * 4);
    this.closed = false;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.native.OpusScriptHandler.destroy_handler(this.handler);
    this.native._free(this.input);
    this.native._free(this.output);
  }
}

export class OpusEncoder extends OpusHandle {
  /**
   * @param {OpusRate} sampleRate
   * @param {number} channels
   * @param {number} bitrate
   */
  constructor(sampleRate, channels, bitrate) {
    super(sampleRate, channels);
    this.handler._encoder_ctl(SET_BITRATE, bitrate);
    this.handler._encoder_ctl(SET_COMPLEXITY, COMPLEXITY);
  }

  /**
   * Encodes exactly one frame (2.5–60 ms of samples) into one packet.
   * @param {Int16Array} frame
   * @returns {Uint8Array}
   */
  encode(frame) {
    const pcm = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    this.native.HEAPU16.set(pcm, this.input >> 1);
    const bytes = this.handler._encode(this.input, pcm.length, this.output, frame.length / this.channels);
    if (bytes < 0) throw new Error(`Opus encoder failed (${bytes})`);
    return this.native.HEAPU8.slice(this.output, this.output + bytes);
  }
}

export class OpusDecoder extends OpusHandle {
  /**
   * Decodes one packet into interleaved 16-bit samples at this decoder's rate.
   * @param {Uint8Array} packet
   * @returns {Int16Array}
   */
  decode(packet) {
    if (packet.length > MAX_PACKET_BYTES) throw new Error('Opus packet too large');
    this.native.HEAPU8.set(packet, this.input);
    const samples = this.handler._decode(this.input, packet.length, this.output);
    if (samples < 0) throw new Error(`Opus decoder failed (${samples})`);
    const start = this.output >> 1;
    const pcm = Uint8Array.from(this.native.HEAPU16.subarray(start, start + samples * this.channels * 2));
    return new Int16Array(pcm.buffer);
  }
}

/** Samples (48 kHz) libopus's encoder runs ahead: 2.5 ms of look-ahead plus 4 ms of delay compensation. */
export const ENCODER_PRE_SKIP = 312;
const FRAME_MS = 20;

/**
 * One clip of mono PCM as Opus packets from a fresh encoder: 20 ms frames, with the encoder's look-ahead
 * flushed by silence and the last frame padded. Decoded after a pre-skip of ENCODER_PRE_SKIP, the packets
 * give the clip back from its first sample (plus under 27 ms of near-silence at the end).
 * @param {Int16Array} pcm
 * @param {OpusRate} sampleRate
 * @param {number} bitrate
 * @returns {Uint8Array[]}
 */
export function encodeClip(pcm, sampleRate, bitrate) {
  const encoder = new OpusEncoder(sampleRate, 1, bitrate);
  try {
    const frameSamples = (sampleRate * FRAME_MS) / 1000;
    const lookahead = Math.ceil((ENCODER_PRE_SKIP * sampleRate) / 48_000);
    const total = Math.ceil((pcm.length + lookahead) / frameSamples) * frameSamples;
    const padded = new Int16Array(total);
    padded.set(pcm);
    /** @type {Uint8Array[]} */
    const packets = [];
    for (let offset = 0; offset < total; offset += frameSamples) {
      packets.push(encoder.encode(padded.subarray(offset, offset + frameSamples)));
    }
    return packets;
  } finally {
    encoder.close();
  }
}
