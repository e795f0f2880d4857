// The shapes the public PageTable API takes and returns: creation options and features, info(), and the
// options of map/unmap, the dirty scan, merge and the dirty-log session.
import type { LevelAllocator, PhysMem } from "@genpt/alloc";
import type { PtDriver, TestBreaks } from "./driver.js";
import type { Gather } from "./gather.js";

/** Optional behaviours, after generic_pt's PT_FEAT_* flags. */
export interface PtFeatures {
  /** Grow the top on demand (default: on when the format's top can grow). */
  readonly dynamicTop?: boolean;
  /** The walker does not snoop CPU caches: every table write is written back through driver.cacheFlush. */
  readonly incoherent?: boolean;
  /** Assert the VA spans all 64 bits; set automatically when it does. */
  readonly fullVa?: boolean;
  /** Both canonical halves of a sign-extended VA are valid (format must allow it). */
  readonly signExtend?: boolean;
  /** Flush only changed IOVA: sync early rather than merge disjoint ranges. */
  readonly flushNoGaps?: boolean;
  /** Free gathered tables through RCU, after every reader that could see them has left. */
  readonly rcuFree?: boolean;
}

export interface CreateOptions {
  readonly mem: PhysMem;
  /** Defaults to the one shared allocator of `mem`. */
  readonly allocator?: LevelAllocator;
  readonly features?: PtFeatures;
  readonly driver?: PtDriver;
  /** Narrow the page sizes, like a domain's pgsize_bitmap (each a power-of-two byte size the format offers). */
  readonly pgsizes?: readonly bigint[];
  /** Test-only rule breakers; see TestBreaks. */
  readonly testBreaks?: TestBreaks;
}

export interface PtInfo {
  readonly format: string;
  readonly config: string;
  /** Byte address of the top table. */
  readonly root: bigint;
  /** Inclusive generic_pt level of the top (level 0 holds the smallest pages). */
  readonly topLevel: number;
  readonly maxTopLevel: number;
  /** Every leaf size map may use, ascending. */
  readonly pgsizes: bigint[];
  readonly vaBits: number;
  readonly oaBits: number;
  readonly granule: bigint;
  readonly entryBytes: 4 | 8;
  readonly dirtyTracking: boolean;
  readonly features: Required<PtFeatures>;
  /** What a driver programs into hardware (format-specific: DTE fields, TTBR, TCR...). */
  readonly hw: Record<string, unknown>;
  readonly [field: string]: unknown;
}

export interface MapOptions {
  /** Batch the IOTLB work here instead of syncing before returning. */
  readonly gather?: Gather;
}

export interface DirtyOptions {
  /** Report without cleaning (IOMMU_DIRTY_NO_CLEAR). */
  readonly noClear?: boolean;
  readonly gather?: Gather;
  /** Also set one bit per dirty page of `pageSize` bytes, page i being iova + i * pageSize (iommufd style). */
  readonly bitmap?: { readonly iova: bigint; readonly pageSize: bigint; readonly bits: Uint8Array };
}

export interface MergeOptions {
  readonly gather?: Gather;
  /**
   * "refuse" (default): a dirty leaf is never merged, so no write is lost to the coarser entry.
   * "carry": merge anyway; the merged leaf is dirty when any piece was.
   */
  readonly dirty?: "refuse" | "carry";
}

export interface DirtyLogStartOptions {
  /** Split every larger leaf of the range into smallest pages first, so the log is page-exact. */
  readonly split?: boolean;
  readonly gather?: Gather;
}

export interface DirtyLogStopOptions {
  /** Merge the range back into the largest leaves it can hold (dirty leaves are left alone). */
  readonly merge?: boolean;
  readonly gather?: Gather;
}
