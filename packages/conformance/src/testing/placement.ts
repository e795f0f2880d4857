// Where the random sequences put their maps and hole unmaps: the part of an op mix that is a format's
// own data. pagesInRegions is the x86 shape (a few pages of one size at low slots of fixed regions);
// alignedInWindow is the ARM shape (listed lengths at listed alignments anywhere in one window).
import { Prot, type PtInfo } from "@genpt/core";
import type { ModelRange } from "@genpt/sim";
import type { Rng } from "../support/rng.js";
import { alignDown, lg2 } from "../support/shape.js";
import type { MapCall } from "../support/workload.js";

/** Where one hole unmap goes: a range the driver unmaps when nothing in it is mapped. */
export interface HoleCall {
  readonly iova: bigint;
  readonly size: bigint;
}

export interface Placement {
  /** The next map call (it may collide with a mapping or leave the aperture: the driver expects the error). */
  map(rng: Rng, info: PtInfo): MapCall;
  /** The next hole unmap, given the mappings so far; undefined for none this time. */
  hole(rng: Rng, info: PtInfo, mapped: readonly ModelRange[]): HoleCall | undefined;
}

/** Read-only, write-only and read-write: for formats whose entries hold R and W only. */
export const RW_PROTS: readonly number[] = [Prot.READ, Prot.WRITE, Prot.READ | Prot.WRITE];

/** A mix for formats that also encode NOEXEC, CACHE and MMIO. */
export const MIXED_PROTS: readonly number[] = [
  Prot.READ,
  Prot.READ | Prot.WRITE,
  Prot.WRITE,
  Prot.READ | Prot.NOEXEC,
  Prot.READ | Prot.WRITE | Prot.CACHE,
  Prot.READ | Prot.WRITE | Prot.MMIO | Prot.NOEXEC,
];

export interface PagesInRegions {
  /** Where the slots start: low addresses, interesting neighbourhoods, reaches that grow the top. */
  readonly regions: readonly bigint[];
  /** log2 of the page sizes a map is made of. */
  readonly lg2s: readonly number[];
  /** Half the PAs get this bit set (a high PA that must survive the encoding). */
  readonly paHighBit: number;
  readonly prots: readonly number[];
}

/**
 * 1-3 pages of a size from `lg2s` plus 0-2 granules, at one of the first 8 page slots of a region, so
 * maps collide often. The PA is 1-64 units of 2^(lg2 - 4), 2^lg2 or 2^(lg2 + 1) (at least a granule):
 * misaligned by at most 2^4, which keeps a big map to a few hundred entries. A hole is the granule just
 * past a mapping (or the second granule when nothing is mapped).
 */
export function pagesInRegions(o: PagesInRegions): Placement {
  return {
    map(rng, info) {
      const pageLg2 = rng.pick(o.lg2s);
      const page = 1n << BigInt(pageLg2);
      const iova = rng.pick(o.regions) + BigInt(rng.int(8)) * page;
      const size = BigInt(1 + rng.int(3)) * page + BigInt(rng.int(3)) * info.granule;
      const align = [Math.max(lg2(info.granule), pageLg2 - 4), pageLg2, pageLg2 + 1][rng.int(3)]!;
      const high = rng.chance(0.5) ? 1n << BigInt(o.paHighBit) : 0n;
      const pa = high + (BigInt(1 + rng.int(64)) << BigInt(align));
      return { iova, pa, size, prot: rng.pick(o.prots) };
    },
    hole(rng, info, mapped) {
      const m = mapped.length === 0 ? undefined : rng.pick(mapped);
      return { iova: m ? m.iova + m.size : info.granule, size: info.granule };
    },
  };
}

export interface AlignedInWindow {
  /** The window: [base, base + window). */
  readonly base: bigint;
  readonly window: bigint;
  /** Map (and hole) lengths to draw from. */
  readonly lengths: readonly bigint[];
  /** IOVA and PA alignments to draw from, ascending. */
  readonly aligns: readonly bigint[];
  /** Output address bits: PAs stay below 2^oaBits. */
  readonly oaBits: number;
  readonly prots: readonly number[];
  /** At most this many leaves a map: a long length takes the first alignment at or above the drawn one that keeps it so. */
  readonly maxLeaves?: bigint;
}

/**
 * A length from `lengths` at an alignment from `aligns`, anywhere in the window, to an equally aligned
 * PA below 2^oaBits. A hole is a length from `lengths` at any granule in the window.
 */
export function alignedInWindow(o: AlignedInWindow): Placement {
  const last = o.aligns[o.aligns.length - 1]!;
  return {
    map(rng) {
      const len = rng.pick(o.lengths);
      const k = rng.int(o.aligns.length);
      const cap = o.maxLeaves;
      const align =
        cap === undefined ? o.aligns[k]! : (o.aligns.find((a, i) => i >= k && len / a <= cap) ?? last);
      const iova = o.base + alignDown(rng.below(o.window - len + 1n), align);
      const pa = alignDown(rng.below((1n << BigInt(o.oaBits)) - len + 1n), align);
      return { iova, pa, size: len, prot: rng.pick(o.prots) };
    },
    hole(rng, info) {
      const len = rng.pick(o.lengths);
      return { iova: o.base + alignDown(rng.below(o.window - len + 1n), info.granule), size: len };
    },
  };
}
