/**
 * A small seeded PRNG (sfc32, seeded through splitmix32). Every fuzz input gets its own generator derived
 * from (seed, index), so input #n is the same whatever ran before it: a failing input is replayed alone
 * with `--seed S --replay n`, and concurrency cannot change what is generated.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...words: number[]) {
    let state = 0x9e3779b9;
    const next = () => {
      // splitmix32 mixes the seed words so that nearby seeds give unrelated streams.
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      for (const word of words) z = Math.imul(z ^ word, 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The generator for fuzz input `index` of a run with `seed`; `stream` separates unrelated uses. */
  static for(seed: number, index: number, stream = 0): Rng {
    return new Rng(seed >>> 0, index >>> 0, stream >>> 0);
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4_294_967_296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.float() * total;
    for (const [weight, value] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A length skewed toward small values, sometimes up to `max` (most bugs need short inputs, some long). */
  length(max: number): number {
    return this.weighted<number>([
      [6, this.int(0, Math.min(max, 8))],
      [3, this.int(0, Math.min(max, 64))],
      [1, this.int(0, max)],
    ]);
  }
}
