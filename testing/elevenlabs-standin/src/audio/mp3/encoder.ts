import { BitWriter } from './bits.js';
import { HybridFilterbank } from './filterbank.js';
import {
  layoutFor,
  SCALEFAC_COMPRESS,
  SCALEFACTOR_BITS,
  SCALEFACTOR_BITS_TOTAL,
  type Mp3Layout,
} from './tables.js';

export interface Mp3EncoderOptions {
  readonly sampleRate: number;
  readonly bitrateKbps: number;
}

/** Spectral content above this is dropped (Flite speaks at 16 kHz, so there is none above 8 kHz). */
const BANDWIDTH_HZ = 7800;
/** Matches the filterbank's output level to what decoders expect for full-scale input. */
const SPECTRUM_GAIN = 0.209;

interface GranuleCode {
  readonly globalGain: number;
  readonly scalefactors: readonly number[];
  /** Quantised lines, each -1, 0 or 1; only the first `lines` are coded. */
  readonly quantised: Int8Array;
  readonly lines: number;
  readonly silent: boolean;
}

/**
 * A small constant-bit-rate MPEG Layer III encoder (mono), written for the stand-in because the
 * permissively licensed options on npm are all LAME ports (LGPL).
 *
 * It codes every spectral line as -1, 0 or +1 in the count1 region with quadruple table B (whose
 * codewords are the four bits inverted), and carries the loudness of each scale-factor band in
 * its scale factor: valid, standard frames that any decoder plays as intelligible, if lo-fi, speech.
 */
export class Mp3Encoder {
  private readonly layout: Mp3Layout;
  private readonly filterbank = new HybridFilterbank();
  private pending: number[] = [];
  private readonly frameBytesBase: number;
  private readonly frameRemainder: number;
  private paddingAccumulator = 0;
  private readonly bandwidthLines: number;

  constructor(readonly options: Mp3EncoderOptions) {
    this.layout = layoutFor(options.sampleRate, options.bitrateKbps);
    const slotNumerator = (this.layout.samplesPerFrame / 8) * options.bitrateKbps * 1000;
    this.frameBytesBase = Math.floor(slotNumerator / options.sampleRate);
    this.frameRemainder = slotNumerator % options.sampleRate;
    this.bandwidthLines = Math.min(576, Math.floor((BANDWIDTH_HZ / (options.sampleRate / 2)) * 576));
  }

  encode(samples: Int16Array): Buffer {
    for (const sample of samples) this.pending.push(sample / 32768);
    return this.drain();
  }

  /** Encodes what is left, padded with silence that also pushes out the filterbank's delay. */
  flush(): Buffer {
    if (this.pending.length === 0) return Buffer.alloc(0);
    const frame = this.layout.samplesPerFrame;
    const target = Math.ceil((this.pending.length + 1152) / frame) * frame;
    while (this.pending.length < target) this.pending.push(0);
    return this.drain();
  }

  private drain(): Buffer {
    const frames: Buffer[] = [];
    const size = this.layout.samplesPerFrame;
    let offset = 0;
    while (this.pending.length - offset >= size) {
      frames.push(this.frame(this.pending.slice(offset, offset + size)));
      offset += size;
    }
    this.pending = this.pending.slice(offset);
    return Buffer.concat(frames);
  }

  private frame(samples: number[]): Buffer {
    const layout = this.layout;
    this.paddingAccumulator += this.frameRemainder;
    const padding = this.paddingAccumulator >= this.options.sampleRate ? 1 : 0;
    if (padding) this.paddingAccumulator -= this.options.sampleRate;
    const frameBytes = this.frameBytesBase + padding;
    const mainBits = (this.frameBytesBase - 4 - layout.sideInfoBytes) * 8;
    const budget = Math.floor(mainBits / layout.granules);
    const granules: GranuleCode[] = [];
    for (let g = 0; g < layout.granules; g++) {
      const xr = this.filterbank.granule(Float64Array.from(samples.slice(g * 576, g * 576 + 576)));
      granules.push(this.quantise(xr, budget));
    }

    const out = new Uint8Array(frameBytes);
    const bits = new BitWriter(out);
    // Header: sync, version, layer III, no CRC, bitrate, rate, padding, private, mono, …, original.
    bits.write(0x7ff, 11);
    bits.write(layout.versionBits, 2);
    bits.write(0b01, 2);
    bits.write(1, 1);
    bits.write(layout.bitrateIndex, 4);
    bits.write(layout.sampleRateIndex, 2);
    bits.write(padding, 1);
    bits.write(0, 1);
    bits.write(0b11, 2);
    bits.write(0, 2);
    bits.write(0, 1);
    bits.write(1, 1);
    bits.write(0, 2);
    // Side information: main_data_begin 0 (no bit reservoir), then one block per granule.
    bits.write(0, layout.mpeg1 ? 9 : 8);
    bits.write(0, layout.mpeg1 ? 5 : 1);
    if (layout.mpeg1) bits.write(0, 4); // scfsi: every granule sends its own scale factors
    for (const granule of granules) {
      bits.write(part23Length(granule), 12);
      bits.write(0, 9); // big_values: everything is in the count1 region
      bits.write(granule.globalGain, 8);
      const compress = granule.silent ? 0 : layout.mpeg1 ? SCALEFAC_COMPRESS.mpeg1 : SCALEFAC_COMPRESS.mpeg2;
      bits.write(compress, layout.mpeg1 ? 4 : 9);
      bits.write(0, 1); // long blocks only
      bits.write(0, 15); // table_select ×3
      bits.write(0, 4); // region0_count
      bits.write(0, 3); // region1_count
      if (layout.mpeg1) bits.write(0, 1); // preflag
      bits.write(1, 1); // scalefac_scale: scale factors in steps of 2 (6 dB)
      bits.write(1, 1); // count1table_select: table B
    }
    // Main data.
    for (const granule of granules) {
      if (granule.silent) continue;
      granule.scalefactors.forEach((value, band) => bits.write(value, SCALEFACTOR_BITS[band]!));
      for (let line = 0; line < granule.lines; line += 4) {
        const quad = [0, 1, 2, 3].map((i) => granule.quantised[line + i] ?? 0);
        const index = quad.reduce((sum, value, i) => sum | (value !== 0 ? 8 >> i : 0), 0);
        bits.write(15 - index, 4);
        for (const value of quad) if (value !== 0) bits.write(value < 0 ? 1 : 0, 1);
      }
    }
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  private quantise(spectrum: Float64Array, budget: number): GranuleCode {
    const edges = this.layout.bandEdges;
    const xr = spectrum.map((value) => value * SPECTRUM_GAIN);
    // Per band, the step that best codes its lines as 0 or ±step.
    const steps: number[] = [];
    for (let band = 0; band < 21; band++) {
      const start = edges[band]!;
      const end = Math.min(edges[band + 1]!, this.bandwidthLines);
      steps.push(end > start ? bestStep(xr.subarray(start, end)) : 0);
    }
    const loudest = Math.max(...steps);
    const quantised = new Int8Array(576);
    if (!(loudest > 1e-7)) return { globalGain: 0, scalefactors: [], quantised, lines: 0, silent: true };
    const globalGain = Math.min(255, Math.max(0, 210 + Math.ceil(4 * Math.log2(loudest))));
    const base = (globalGain - 210) / 4;
    const scalefactors = steps.map((step, band) => {
      const max = (1 << SCALEFACTOR_BITS[band]!) - 1;
      return step > 0 ? Math.min(max, Math.max(0, Math.round(base - Math.log2(step)))) : max;
    });
    let lastNonZero = -1;
    for (let band = 0; band < 21; band++) {
      const step = 2 ** (base - scalefactors[band]!);
      const end = Math.min(edges[band + 1]!, this.bandwidthLines);
      for (let line = edges[band]!; line < end; line++) {
        const value = xr[line]!;
        if (Math.abs(value) > step / 2) {
          quantised[line] = value < 0 ? -1 : 1;
          lastNonZero = line;
        }
      }
    }
    // Rate control: drop the highest lines until the granule fits its share of the frame.
    let lines = (Math.floor(lastNonZero / 4) + 1) * 4;
    let nonZero = quantised.reduce((sum, value) => sum + (value !== 0 ? 1 : 0), 0);
    while (SCALEFACTOR_BITS_TOTAL + lines + nonZero > budget && lines > 0) {
      for (let line = lines - 4; line < lines; line++) {
        if (quantised[line] !== 0) nonZero--;
        quantised[line] = 0;
      }
      lines -= 4;
    }
    return { globalGain, scalefactors, quantised, lines, silent: false };
  }
}

function part23Length(granule: GranuleCode): number {
  if (granule.silent) return 0;
  let bits = SCALEFACTOR_BITS_TOTAL + granule.lines; // 4 bits per quad = 1 per line
  for (let line = 0; line < granule.lines; line++) if (granule.quantised[line] !== 0) bits++;
  return bits;
}

/** The step s minimising Σ(|x| - s·q)² with q ∈ {0, 1}, found by a few fixed-point rounds. */
function bestStep(values: Float64Array): number {
  let peak = 0;
  for (const value of values) peak = Math.max(peak, Math.abs(value));
  if (peak === 0) return 0;
  let step = peak;
  for (let round = 0; round < 4; round++) {
    let sum = 0;
    let count = 0;
    for (const value of values) {
      if (Math.abs(value) > step / 2) {
        sum += Math.abs(value);
        count++;
      }
    }
    step = sum / count;
  }
  return step;
}
