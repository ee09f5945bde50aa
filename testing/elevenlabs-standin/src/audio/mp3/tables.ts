/** Frame layout facts of MPEG-1 and MPEG-2 (LSF) Layer III, mono. */
export interface Mp3Layout {
  readonly mpeg1: boolean;
  readonly granules: 1 | 2;
  readonly samplesPerFrame: number;
  readonly sideInfoBytes: number;
  readonly versionBits: number;
  readonly sampleRateIndex: number;
  readonly bitrateIndex: number;
  /** Long-block scale-factor band edges in frequency lines (22 bands). */
  readonly bandEdges: readonly number[];
}

const MPEG1_RATES = [44100, 48000, 32000];
const MPEG2_RATES = [22050, 24000, 16000];
const MPEG1_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_BITRATES = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

const BAND_EDGES: Record<number, readonly number[]> = {
  44100: [0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 52, 62, 74, 90, 110, 134, 162, 196, 238, 288, 342, 418, 576],
  48000: [0, 4, 8, 12, 16, 20, 24, 30, 36, 42, 50, 60, 72, 88, 106, 128, 156, 190, 230, 276, 330, 384, 576],
  32000: [0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 54, 66, 82, 102, 126, 156, 194, 240, 296, 364, 448, 550, 576],
  22050: [
    0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576,
  ],
  24000: [
    0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 114, 136, 162, 194, 232, 278, 332, 394, 464, 540, 576,
  ],
  16000: [
    0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576,
  ],
};

export function layoutFor(sampleRate: number, bitrateKbps: number): Mp3Layout {
  const mpeg1 = MPEG1_RATES.includes(sampleRate);
  const rates = mpeg1 ? MPEG1_RATES : MPEG2_RATES;
  const sampleRateIndex = rates.indexOf(sampleRate);
  if (sampleRateIndex < 0) throw new RangeError(`MP3 cannot carry ${sampleRate} Hz`);
  const bitrateIndex = (mpeg1 ? MPEG1_BITRATES : MPEG2_BITRATES).indexOf(bitrateKbps);
  if (bitrateIndex <= 0) throw new RangeError(`MP3 at ${sampleRate} Hz has no ${bitrateKbps} kbps rate`);
  return {
    mpeg1,
    granules: mpeg1 ? 2 : 1,
    samplesPerFrame: mpeg1 ? 1152 : 576,
    sideInfoBytes: mpeg1 ? 17 : 9,
    versionBits: mpeg1 ? 0b11 : 0b10,
    sampleRateIndex,
    bitrateIndex,
    bandEdges: BAND_EDGES[sampleRate]!,
  };
}

/**
 * Scale-factor widths: 4 bits for bands 0–10, 3 bits for bands 11–20. MPEG-1 spells this
 * scalefac_compress 15; MPEG-2 LSF spells it 399 (slen 4,4,3,3 over bands 6,5,5,5).
 */
export const SCALEFACTOR_BITS = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3];
export const SCALEFACTOR_BITS_TOTAL = SCALEFACTOR_BITS.reduce((sum, bits) => sum + bits, 0);
export const SCALEFAC_COMPRESS = { mpeg1: 15, mpeg2: 399 } as const;
