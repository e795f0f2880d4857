// What the cases derive from a format and a page table's info(): the valid IOVA regions, the page sizes
// and the level holding each, and the greedy page-size plan (genpt-upstream §2.4) a map must follow.
import { computeBestPgsize, type PtFormat, type PtInfo } from "@genpt/core";

const TWO64 = 1n << 64n;

/** A half-open IOVA range the aperture accepts. */
export interface Region {
  readonly start: bigint;
  readonly end: bigint;
}

/** The aperture as regions: one, or the two canonical halves of a sign-extended VA. */
export function regionsOf(info: PtInfo, format: PtFormat<unknown>): Region[] {
  const span = 1n << BigInt(info.vaBits);
  if (info.features.signExtend) {
    const half = span >> 1n;
    return [
      { start: 0n, end: half },
      { start: TWO64 - half, end: TWO64 },
    ];
  }
  if (format.geometry.vaPrefix === "ones") return [{ start: TWO64 - span, end: TWO64 }];
  return [{ start: 0n, end: span }];
}

/** log2 of a power of two. */
export function lg2(v: bigint): number {
  return v.toString(2).length - 1;
}

/** The level whose leaves include 2^sizeLg2 bytes, or -1. */
export function levelOfSize(format: PtFormat<unknown>, sizeLg2: number): number {
  return format.geometry.levels.findIndex((l) => l.leafLg2.includes(sizeLg2));
}

export function bitmapOf(sizes: readonly bigint[]): bigint {
  return sizes.reduce((a, s) => a | s, 0n);
}

/** The leaves (log2 size -> count) a map of [iova, iova + size) -> pa must produce, picking greedily. */
export function greedyPlan(
  sizes: readonly bigint[],
  iova: bigint,
  pa: bigint,
  size: bigint,
): Map<number, number> {
  const bitmap = bitmapOf(sizes);
  const plan = new Map<number, number>();
  const last = iova + size - 1n;
  while (iova <= last) {
    const s = computeBestPgsize(bitmap, iova, last, pa);
    if (s === 0n) throw new Error(`greedyPlan: no size fits at ${iova.toString(16)}`);
    plan.set(lg2(s), (plan.get(lg2(s)) ?? 0) + 1);
    iova += s;
    pa += s;
  }
  return plan;
}

/** A census's leaves as a Map, for comparing with a plan. */
export function leafMap(leaves: Record<number, number>): Map<number, number> {
  const m = new Map<number, number>();
  for (const [k, v] of Object.entries(leaves)) if (v > 0) m.set(Number(k), v);
  return m;
}

/** "3x2M + 1x1G" for messages. */
export function planText(plan: Map<number, number>): string {
  const parts = [...plan.entries()].sort((a, b) => a[0] - b[0]).map(([l, n]) => `${n}x2^${l}`);
  return parts.length === 0 ? "nothing" : parts.join(" + ");
}

export function samePlan(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function alignDown(v: bigint, a: bigint): bigint {
  return v - (v % a);
}

export function alignUp(v: bigint, a: bigint): bigint {
  return alignDown(v + a - 1n, a);
}
