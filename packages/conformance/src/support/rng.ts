// A small seeded PRNG (mulberry32) for the random cases. Seeded so every failure can be replayed from
// the seed in the report; our own so that @genpt/conformance depends on nothing but alloc, core and sim.

/** A deterministic random source. */
export class Rng {
  private s: number;

  /** `stream` separates the draws of different cases run from the same seed. */
  constructor(seed: number, stream = "") {
    let s = seed >>> 0;
    for (let i = 0; i < stream.length; i++) s = Math.imul(s ^ stream.charCodeAt(i), 0x9e3779b1) >>> 0;
    this.s = s;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n), for n up to 2^32. */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: nothing to pick from");
    return items[this.int(items.length)]!;
  }

  /** A uniform bigint in [0, n), n > 0. */
  below(n: bigint): bigint {
    const bits = n.toString(2).length;
    for (;;) {
      let v = 0n;
      for (let b = 0; b < bits; b += 32) v = (v << 32n) | BigInt(this.u32());
      v &= (1n << BigInt(bits)) - 1n;
      if (v < n) return v;
    }
  }

  /** A 64-bit value whose set bits are sparse or dense at random, for bit-pattern vectors. */
  bits64(): bigint {
    const hi = BigInt(this.u32());
    const lo = BigInt(this.u32());
    const v = (hi << 32n) | lo;
    switch (this.int(4)) {
      case 0:
        return v & ((BigInt(this.u32()) << 32n) | BigInt(this.u32()));
      case 1:
        return v | ((BigInt(this.u32()) << 32n) | BigInt(this.u32()));
      default:
        return v;
    }
  }
}
