// Layout: everything the algorithms derive once from a format's geometry, in granule units: per-level
// shifts and table sizes, the page-size bitmap, the best-page-size picker (genpt-upstream §2.4), and
// the level that holds each leaf size.
import { PtError } from "@genpt/alloc";
import { ctz, floorLog2, pow2 } from "./bits.js";
import type { Geometry, PtFormat } from "./format.js";

export interface Layout {
  readonly g: number; // granule lg2
  readonly wpe: 1 | 2; // 32-bit words per entry
  readonly maxTopLevel: number;
  readonly vaBits: number;
  readonly oaBits: number;
  /** Per level: log2 granules per item, granules per item, entries in a non-top table, its bytes lg2. */
  readonly itemShift: readonly number[];
  readonly itemUnits: readonly number[];
  readonly entries: readonly number[];
  readonly tableLg2: readonly number[];
  /** Allowed leaf sizes (log2 granules) ascending, after the OA width and any caller narrowing. */
  readonly sizes: readonly number[];
  /** bestAtMost[b] = the largest allowed size (lg2 granules) <= b, or -1; b in 0..64. */
  readonly bestAtMost: Int8Array;
  /** levelOfSize[s] = the level whose leaves have size s (lg2 granules), or -1. */
  readonly levelOfSize: Int8Array;
  /** nextLarger[s] = the next allowed size above s, or 64 when none. */
  readonly nextLarger: Int8Array;
  /** largestAt[level] = the largest allowed size (lg2 granules) held at that level, or -1. */
  readonly largestAt: Int8Array;
}

/** VA bits covered when the top table is at `level`. */
export function vaBitsAtTop(geo: Geometry, level: number): number {
  if (level === geo.maxTopLevel) return geo.vaBits;
  const lv = geo.levels[level]!;
  const bits = lv.itemLg2 + lv.tableLg2 - (geo.entryBytes === 8 ? 3 : 2);
  return Math.min(bits, geo.vaBits);
}

/** log2 bytes of the top table when the top is at `level`. */
export function topTableLg2(geo: Geometry, level: number): number {
  if (geo.topTableLg2 !== undefined && level === geo.topLevel) return geo.topTableLg2;
  if (geo.maxTopLevel > geo.topLevel) return geo.levels[level]!.tableLg2;
  const idxBits = vaBitsAtTop(geo, level) - geo.levels[level]!.itemLg2;
  return Math.max(6, idxBits + (geo.entryBytes === 8 ? 3 : 2));
}

/** Checks a geometry for internal consistency, so that a user format fails early and clearly. */
export function checkGeometry(name: string, geo: Geometry): void {
  const bad = (why: string) => {
    throw new PtError("EINVAL", `format ${name}: invalid geometry: ${why}`);
  };
  if (geo.entryBytes !== 4 && geo.entryBytes !== 8) bad(`entryBytes ${geo.entryBytes} is not 4 or 8`);
  if (geo.levels.length !== geo.maxTopLevel + 1)
    bad(`levels has ${geo.levels.length} entries, maxTopLevel is ${geo.maxTopLevel}`);
  if (geo.topLevel < 0 || geo.topLevel > geo.maxTopLevel)
    bad(`topLevel ${geo.topLevel} outside 0..${geo.maxTopLevel}`);
  if (geo.maxTopLevel > 5) bad(`maxTopLevel ${geo.maxTopLevel} > 5 (at most 6 levels)`);
  if (geo.vaBits < 12 || geo.vaBits > 64) bad(`vaBits ${geo.vaBits} outside 12..64`);
  if (geo.oaBits < 12 || geo.oaBits > 52) bad(`oaBits ${geo.oaBits} outside 12..52`);
  const g = geo.levels[0]!.itemLg2;
  if (g < 10 || 64 - g > 53) bad(`granule 2^${g} is out of range`);
  for (let l = 0; l <= geo.maxTopLevel; l++) {
    const lv = geo.levels[l]!;
    const idx = lv.tableLg2 - (geo.entryBytes === 8 ? 3 : 2);
    if (
      l > 0 &&
      lv.itemLg2 !== geo.levels[l - 1]!.itemLg2 + geo.levels[l - 1]!.tableLg2 - (geo.entryBytes === 8 ? 3 : 2)
    )
      bad(`level ${l} item size 2^${lv.itemLg2} does not follow level ${l - 1}`);
    if (idx < 1) bad(`level ${l} table of 2^${lv.tableLg2} bytes holds fewer than 2 entries`);
    for (const s of lv.leafLg2) {
      if (s < lv.itemLg2 || s >= lv.itemLg2 + idx) bad(`level ${l} leaf size 2^${s} outside [item, table)`);
    }
  }
  if (geo.levels[geo.topLevel]!.itemLg2 >= geo.vaBits)
    bad(`vaBits ${geo.vaBits} does not reach the top level`);
}

/** Derives the layout; `narrow` (lg2 bytes) restricts the page sizes, as a domain pgsize_bitmap does. */
export function makeLayout<A>(fmt: PtFormat<A>, narrow?: readonly number[]): Layout {
  const geo = fmt.geometry;
  checkGeometry(fmt.name, geo);
  const g = geo.levels[0]!.itemLg2;
  const itemShift: number[] = [];
  const itemUnits: number[] = [];
  const entries: number[] = [];
  const tableLg2: number[] = [];
  const levelOfSize = new Int8Array(65).fill(-1);
  const sizes: number[] = [];
  for (let l = 0; l <= geo.maxTopLevel; l++) {
    const lv = geo.levels[l]!;
    itemShift.push(lv.itemLg2 - g);
    itemUnits.push(pow2(lv.itemLg2 - g));
    entries.push(pow2(lv.tableLg2 - (geo.entryBytes === 8 ? 3 : 2)));
    tableLg2.push(lv.tableLg2);
    const topOnly = l === geo.maxTopLevel && geo.topHoldsLeaf === false;
    for (const s of lv.leafLg2) {
      if (s > geo.oaBits || topOnly) continue;
      if (narrow && !narrow.includes(s)) continue;
      if (levelOfSize[s - g] === -1) {
        levelOfSize[s - g] = l;
        sizes.push(s - g);
      }
    }
  }
  sizes.sort((a, b) => a - b);
  if (sizes.length === 0) throw new PtError("EINVAL", `format ${fmt.name}: no page size is left to map with`);
  const bestAtMost = new Int8Array(65).fill(-1);
  for (let b = 0, k = -1; b <= 64; b++) {
    while (k + 1 < sizes.length && sizes[k + 1]! <= b) k++;
    bestAtMost[b] = k >= 0 ? sizes[k]! : -1;
  }
  const nextLarger = new Int8Array(65).fill(64);
  for (let i = 0; i + 1 < sizes.length; i++) nextLarger[sizes[i]!] = sizes[i + 1]!;
  const largestAt = new Int8Array(geo.maxTopLevel + 1).fill(-1);
  for (const s of sizes) largestAt[levelOfSize[s]!] = s;
  return {
    g,
    wpe: geo.entryBytes === 8 ? 2 : 1,
    maxTopLevel: geo.maxTopLevel,
    vaBits: geo.vaBits,
    oaBits: geo.oaBits,
    itemShift,
    itemUnits,
    entries,
    tableLg2,
    sizes,
    bestAtMost,
    levelOfSize,
    nextLarger,
    largestAt,
  };
}

/**
 * The largest allowed size (lg2 granules) for a leaf at `vpn` -> `pfn` with `len` granules left, or -1.
 * The bound is the lowest set bit of (va | oa | the largest power of two <= len).
 */
export function bestSize(lay: Layout, vpn: number, pfn: number, len: number): number {
  let b = floorLog2(len);
  const a = ctz(vpn);
  if (a < b) b = a;
  const c = ctz(pfn);
  if (c < b) b = c;
  return lay.bestAtMost[b]!;
}

/**
 * pt_compute_best_pgsize in bigint form, for tests and callers: the largest size in `bitmap` usable for
 * a leaf at `va` -> `oa` that must end at or before the inclusive `lastVa`. 0n when none fits.
 */
export function computeBestPgsize(bitmap: bigint, va: bigint, lastVa: bigint, oa: bigint): bigint {
  if (lastVa < va) return 0n;
  const len = lastVa - va + 1n;
  let bound = 1n;
  while (bound * 2n <= len) bound *= 2n;
  const low = (v: bigint) => (v === 0n ? 1n << 64n : v & -v);
  const lv = low(va);
  const lo = low(oa);
  if (lv < bound) bound = lv;
  if (lo < bound) bound = lo;
  let best = 0n;
  for (let s = 1n; s <= bound; s <<= 1n) if ((bitmap & s) !== 0n) best = s;
  return best;
}
