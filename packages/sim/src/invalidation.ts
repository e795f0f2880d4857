// Invalidation granule rules: how a driver's range request becomes what the IOMMU actually drops
// (formats.md §1.6, §2.6, §3.7, §4.6). The strictest rule is the default, so that the checker catches a
// gather that is short by even one granule; the vendor rules only ever widen a range.

/**
 * - "exact": the range rounded out to the DMA granule (ARM range TLBI, v7s per-page invalidation).
 * - "pow2": the smallest naturally aligned power of two covering the range, as AMD's
 *   INVALIDATE_IOMMU_PAGES size encoding and VT-d's address mask (AM) express it; a range of
 *   2^allFromLg2 bytes or more becomes an invalidate-all (AMD: an encoding reaching bit 51 means the
 *   whole space; VT-d: AM above CAP.MAMV falls back to domain-selective).
 */
export type InvalidationModel =
  | { readonly kind: "exact" }
  | { readonly kind: "pow2"; readonly allFromLg2?: number };

/** Presets per format family. */
export const INVALIDATION = {
  exact: { kind: "exact" },
  amdv1: { kind: "pow2", allFromLg2: 52 },
  /** VT-d with CAP.MAMV = 9 (up to 512 pages, 2 MiB, per page-selective invalidation). */
  vtd: { kind: "pow2", allFromLg2: 22 },
} as const satisfies Record<string, InvalidationModel>;

/** What one range request invalidates: a range, or everything. */
export type Invalidation =
  | { readonly all: true }
  | { readonly all: false; readonly start: bigint; readonly end: bigint };

export function applyModel(
  model: InvalidationModel,
  iova: bigint,
  size: bigint,
  granuleLg2: number,
): Invalidation {
  const g = (1n << BigInt(granuleLg2)) - 1n;
  let start = iova & ~g;
  let end = (iova + size + g) & ~g;
  if (model.kind === "exact") return { all: false, start, end };
  let lg2 = granuleLg2;
  while (lg2 < 64 && start >> BigInt(lg2) !== (end - 1n) >> BigInt(lg2)) lg2++;
  if (model.allFromLg2 !== undefined && lg2 >= model.allFromLg2) return { all: true };
  const mask = (1n << BigInt(lg2)) - 1n;
  start &= ~mask;
  end = start + mask + 1n;
  return { all: false, start, end };
}
