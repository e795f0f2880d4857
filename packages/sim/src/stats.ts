// The Iommu's counters: what a format and a flush policy cost the device. The CLI compares formats with
// them, so they count events the way hardware would see them (one IOTLB lookup per DMA page).

export interface IommuStats {
  /** Table walks for DMA and translate (probes are side-effect free and not counted). */
  walks: number;
  iotlbHits: number;
  iotlbMisses: number;
  /** Walks that took at least one level from the walk caches. */
  walkCacheHits: number;
  /** Range invalidations leaf-only, range invalidations with the walk caches, and invalidate-all. */
  invalidations: { leaf: number; walk: number; all: number };
  /** Bytes the core wrote back through driver.cacheFlush (incoherent walkers). */
  bytesFlushed: number;
  dmaBytes: { read: number; write: number };
}

export function newStats(): IommuStats {
  return {
    walks: 0,
    iotlbHits: 0,
    iotlbMisses: 0,
    walkCacheHits: 0,
    invalidations: { leaf: 0, walk: 0, all: 0 },
    bytesFlushed: 0,
    dmaBytes: { read: 0, write: 0 },
  };
}

export function copyStats(s: IommuStats): IommuStats {
  return { ...s, invalidations: { ...s.invalidations }, dmaBytes: { ...s.dmaBytes } };
}
