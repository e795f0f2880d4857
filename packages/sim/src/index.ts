// @genpt/sim: the device side of a page table. DMA through a format's hardware walker, an IOTLB and walk
// caches that keep stale state until invalidated, an incoherent device view of memory, and a checker
// that compares the device with a model of what the CPU side mapped.

export { type CheckOptions, type CheckResult, check } from "./check.js";
export { checkDirty } from "./check-dirty.js";
export { BusError, STALE_WORD } from "./device-view.js";
export { IntervalModel, type ModelRange } from "./interval-model.js";
export { INVALIDATION, type InvalidationModel } from "./invalidation.js";
export { type DmaResult, Iommu, type IommuOptions, type ProbeDetail } from "./iommu.js";
export type { IotlbEntry } from "./iotlb.js";
export type { IommuStats } from "./stats.js";
export type { CachedWord, WalkCacheEntry } from "./walk-cache.js";
