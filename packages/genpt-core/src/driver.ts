// What the core asks of the driver (after pt_iommu_driver_ops and the IOTLB gather): IOTLB flushes,
// cache writeback for incoherent walkers, and the switch-over when a dynamic top grows.

/** One invalidation range, half-open: [iova, iova + size). */
export interface IovaRange {
  readonly iova: bigint;
  readonly size: bigint;
}

export interface FlushRequest {
  /** Disjoint, ascending, half-open ranges whose translations changed. Never empty. */
  readonly ranges: readonly IovaRange[];
  /** A table was unlinked, so walk caches must go too (VT-d IH = 0); otherwise leaf-only. */
  readonly tablesFreed: boolean;
}

export interface PtDriver {
  /** Invalidate the IOTLB (and, when tablesFreed, the walk caches) for the ranges. Called by Gather.sync(). */
  flush?(req: FlushRequest): void;
  /** Incoherent walker: write back CPU caches for table memory [pa, pa + len) so the device sees it. */
  cacheFlush?(pa: bigint, len: number): void;
  /** Dynamic top: point the hardware at the new top. Called before the core publishes the new top. */
  changeTop?(root: bigint, topLevel: number): void;
  /** Dynamic top: take the lock that serialises top changes; returns its release. */
  topLock?(): () => void;
}

/**
 * Test-only switches that each break one rule of the core, so that tests can prove the sim's checker
 * catches the resulting bug. Never set these outside tests.
 */
export interface TestBreaks {
  /** Gather only the requested unmap range, not the widened entry (CVE-2026-31735). */
  shortGather?: boolean;
  /** Incoherent mode: link new tables without writing them back first. */
  skipNewTableFlush?: boolean;
  /** readAndClearDirty: clean dirty bits without adding the ranges to the gather. */
  skipDirtyGather?: boolean;
  /** Gather.sync(): free tables before the IOTLB flush. */
  freeBeforeFlush?: boolean;
}
