// G.711 encoders (ITU-T G.711, the classic Sun/CCITT reference algorithm).

const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];

function segmentOf(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]!) return i;
  return ends.length;
}

/** 16-bit linear sample → 8-bit A-law. */
export function linearToAlaw(sample: number): number {
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segmentOf(pcm, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0xf : (pcm >> seg) & 0xf;
  return aval ^ mask;
}

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

/** 16-bit linear sample → 8-bit µ-law. */
export function linearToUlaw(sample: number): number {
  let pcm = sample >> 2;
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else mask = 0xff;
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS >> 2;
  const seg = segmentOf(pcm, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  const uval = (seg << 4) | ((pcm >> (seg + 1)) & 0xf);
  return uval ^ mask;
}

export function encodeG711(samples: Int16Array, law: 'ulaw' | 'alaw'): Buffer {
  const out = Buffer.alloc(samples.length);
  const encode = law === 'ulaw' ? linearToUlaw : linearToAlaw;
  for (let i = 0; i < samples.length; i++) out[i] = encode(samples[i]!);
  return out;
}
