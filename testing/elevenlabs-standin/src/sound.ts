import { createHash } from 'node:crypto';
import { FLITE_SAMPLE_RATE } from '@earshot/flite';

/** The duration chosen when a sound-generation request gives none: 1–5 s, fixed per prompt. */
export function defaultSoundSeconds(text: string): number {
  return 1 + (seedOf(text) % 41) / 10;
}

/**
 * A synthetic but non-silent sound effect for `text`, the same for the same prompt: a few gliding
 * partials and filtered noise under a rhythmic envelope. `promptInfluence` sharpens the envelope;
 * `loop` makes the envelope periodic over the clip so its end meets its start.
 * Yields 16 kHz PCM in 0.25 s pieces.
 */
export function* synthesizeSound(
  text: string,
  seconds: number,
  promptInfluence: number,
  loop: boolean,
): Generator<Int16Array> {
  const rate = FLITE_SAMPLE_RATE;
  const total = Math.round(seconds * rate);
  const random = mulberry32(seedOf(text));
  const base = 90 + random() * 600;
  const partials = [1, 1.5 + random(), 2.5 + random() * 2].map((ratio) => ({
    frequency: base * ratio,
    glide: (random() - 0.5) * 0.4,
    level: 0.2 + random() * 0.3,
    phase: 0,
  }));
  const noiseLevel = 0.05 + random() * 0.25;
  // Whole number of pulses over the clip, so a loop's envelope wraps.
  const pulses = Math.max(1, Math.round(seconds * (0.5 + random() * 2.5)));
  const sharpness = 1 + promptInfluence * 4;
  let lowpass = 0;
  const piece = Math.round(rate / 4);
  for (let start = 0; start < total; start += piece) {
    const out = new Int16Array(Math.min(piece, total - start));
    for (let k = 0; k < out.length; k++) {
      const n = start + k;
      const t = n / total;
      const envelope = Math.pow(0.5 - 0.5 * Math.cos(2 * Math.PI * pulses * t), sharpness) * 0.8 + 0.2;
      let value = 0;
      for (const partial of partials) {
        const frequency = partial.frequency * (1 + partial.glide * Math.sin(2 * Math.PI * t));
        partial.phase += (2 * Math.PI * frequency) / rate;
        value += partial.level * Math.sin(partial.phase);
      }
      lowpass += 0.2 * (random() * 2 - 1 - lowpass);
      value += noiseLevel * lowpass * 4;
      const fade = loop ? 1 : Math.min(1, (total - n) / (0.02 * rate), n / (0.005 * rate) + 0.001);
      out[k] = Math.max(-32768, Math.min(32767, Math.round(value * envelope * fade * 9000)));
    }
    yield out;
  }
}

export function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
