// The analysis half of the MPEG-1/2 Layer III hybrid filterbank: a 32-band polyphase filterbank followed
// by an 18-line MDCT per band and the alias-reduction butterflies, arranged so a standard decoder's
// synthesis inverts it.
//
// The ISO analysis window is a table of 512 numbers we do not copy; instead the prototype low-pass is
// designed here with the same shape constraints (centred on tap 256, cut-off π/64, power-complementary
// transition), which reconstructs closely enough for speech through the decoder's own window.

const PROTOTYPE = designPrototype();
/** C[i] of the standard: the prototype with the sign of each 64-tap block alternating. */
const ANALYSIS_WINDOW = PROTOTYPE.map((h, i) => (Math.floor(i / 64) % 2 === 0 ? h : -h));
const MATRIX = Array.from({ length: 32 }, (_, k) =>
  Float64Array.from({ length: 64 }, (_, i) => Math.cos(((2 * k + 1) * (i - 16) * Math.PI) / 64)),
);
const MDCT_WINDOW = Float64Array.from({ length: 36 }, (_, i) => Math.sin((Math.PI / 36) * (i + 0.5)));
const MDCT_COS = Array.from({ length: 18 }, (_, m) =>
  Float64Array.from({ length: 36 }, (_, i) => Math.cos((Math.PI / 72) * (2 * i + 19) * (2 * m + 1))),
);
const ALIAS_C = [-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037];
const ALIAS_CS = ALIAS_C.map((c) => 1 / Math.sqrt(1 + c * c));
const ALIAS_CA = ALIAS_C.map((c) => c / Math.sqrt(1 + c * c));

function designPrototype(): Float64Array {
  // H(ω) = 1 below ω0(1-r), 0 above ω0(1+r), cos-shaped between so H²(ω0+t) + H²(ω0-t) = 1.
  const w0 = Math.PI / 64;
  const r = 0.6;
  const response = (w: number): number => {
    if (w <= w0 * (1 - r)) return 1;
    if (w >= w0 * (1 + r)) return 0;
    return Math.cos((Math.PI / 4) * (1 + (w - w0) / (r * w0)));
  };
  const steps = 4096;
  const top = w0 * (1 + r);
  const h = new Float64Array(512);
  for (let n = 1; n < 512; n++) {
    const m = n - 256;
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const w = ((s + 0.5) / steps) * top;
      sum += response(w) * Math.cos(w * m);
    }
    // (1/π)∫₀^top H(ω)cos(ωm)dω, tapered by a Hann window so the 511 taps end smoothly.
    const taper = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 512);
    h[n] = ((sum * (top / steps)) / Math.PI) * taper;
  }
  return h;
}

/** Turns 576 input samples per granule into 576 frequency lines, keeping the state between granules. */
export class HybridFilterbank {
  private readonly fifo = new Float64Array(512);
  private readonly previous = Array.from({ length: 32 }, () => new Float64Array(18));
  private readonly y = new Float64Array(64);

  /** `samples`: 576 floats in [-1, 1]. Returns xr[576], band-major (line = band·18 + k). */
  granule(samples: Float64Array): Float64Array {
    const subband = Array.from({ length: 32 }, () => new Float64Array(18));
    for (let slot = 0; slot < 18; slot++) {
      this.fifo.copyWithin(32, 0, 480);
      for (let i = 0; i < 32; i++) this.fifo[i] = samples[slot * 32 + 31 - i]!;
      for (let i = 0; i < 64; i++) {
        let sum = 0;
        for (let j = 0; j < 8; j++) sum += this.fifo[i + 64 * j]! * ANALYSIS_WINDOW[i + 64 * j]!;
        this.y[i] = sum;
      }
      for (let k = 0; k < 32; k++) {
        const row = MATRIX[k]!;
        let sum = 0;
        for (let i = 0; i < 64; i++) sum += row[i]! * this.y[i]!;
        // Frequency inversion of odd bands, undone by the decoder.
        subband[k]![slot] = k % 2 === 1 && slot % 2 === 1 ? -sum : sum;
      }
    }
    const xr = new Float64Array(576);
    for (let k = 0; k < 32; k++) {
      const previous = this.previous[k]!;
      const current = subband[k]!;
      for (let m = 0; m < 18; m++) {
        const basis = MDCT_COS[m]!;
        let sum = 0;
        for (let i = 0; i < 18; i++) sum += previous[i]! * MDCT_WINDOW[i]! * basis[i]!;
        for (let i = 0; i < 18; i++) sum += current[i]! * MDCT_WINDOW[i + 18]! * basis[i + 18]!;
        xr[k * 18 + m] = sum;
      }
      previous.set(current);
    }
    // Encoder side of the alias-reduction butterflies: the inverse rotation of the decoder's.
    for (let band = 1; band < 32; band++) {
      for (let i = 0; i < 8; i++) {
        const lowIndex = band * 18 - 1 - i;
        const highIndex = band * 18 + i;
        const low = xr[lowIndex]!;
        const high = xr[highIndex]!;
        xr[lowIndex] = low * ALIAS_CS[i]! + high * ALIAS_CA[i]!;
        xr[highIndex] = high * ALIAS_CS[i]! - low * ALIAS_CA[i]!;
      }
    }
    return xr;
  }
}
