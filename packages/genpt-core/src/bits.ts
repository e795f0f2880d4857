// Integer helpers for plain numbers up to 2^53, where JS bit operators (32-bit) do not reach.

const TWO32 = 4294967296;

/** POW2[n] = 2^n for n in 0..64: a table lookup, since `2 ** n` with a variable n is slow in V8. */
export const POW2: Float64Array = (() => {
  const t = new Float64Array(65);
  for (let n = 0; n <= 64; n++) t[n] = 2 ** n;
  return t;
})();

/** 2^n as a number, exact for n <= 64. */
export function pow2(n: number): number {
  return POW2[n]!;
}

/** Index of the lowest set bit of a positive integer x < 2^53; 64 for x = 0 (every bit is clear). */
export function ctz(x: number): number {
  if (x === 0) return 64;
  const lo = x % TWO32;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO32);
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** floor(log2(x)) for an integer 1 <= x < 2^53. */
export function floorLog2(x: number): number {
  if (x < TWO32) return 31 - Math.clz32(x);
  return 32 + 31 - Math.clz32(Math.floor(x / TWO32));
}

/** Low 32 bits of a bigint mask, as an unsigned number. */
export function lo32(v: bigint): number {
  return Number(v & 0xffff_ffffn);
}

/** Bits 63..32 of a bigint mask, as an unsigned number. */
export function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffff_ffffn);
}
