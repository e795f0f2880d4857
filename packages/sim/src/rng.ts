// A small seeded generator (mulberry32) for the checker's samples, so a failing check repeats exactly.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A bigint in [0, n), n > 0 (slightly biased for huge n, which sampling does not mind). */
  below(n: bigint): bigint {
    const r = (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    const wide = n > 1n << 64n ? (r << 64n) | (BigInt(this.u32()) << 32n) | BigInt(this.u32()) : r;
    return wide % n;
  }
}
