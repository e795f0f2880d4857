// The dirty lifecycle under the IOTLB. The IOTLB caches a translation's dirty state, so after
// read-and-clear the hardware will not set D again until the cleared range is invalidated: a write in
// between is not recorded. That is the hardware's behaviour, asserted here as such, and it is why
// readAndClearDirty adds what it cleaned to the gather.
import {
  type HardwareWalker,
  mock32,
  mock32Walker,
  mock64,
  mock64Walker,
  Prot,
  type PtFormat,
} from "@genpt/core";
import { describe, expect, it } from "vitest";
import { check } from "../src/index.js";
import { finish, rig } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;

const cases: Array<[string, () => PtFormat<unknown>, () => HardwareWalker, bigint]> = [
  ["mock64, 4K leaf", mock64, mock64Walker, 0x1000n],
  ["mock64, 2M leaf", mock64, mock64Walker, 0x20_0000n],
  ["mock32, 64K contiguous leaf", mock32, mock32Walker, 0x1_0000n],
];

describe("dirty lifecycle under the IOTLB", () => {
  for (const [name, fmt, walker, size] of cases) {
    it(`${name}: a write between read-and-clear and the sync is lost; after the sync it is recorded`, () => {
      const r = rig(fmt(), walker(), { dirtyTracking: true });
      const iova = size * 4n;
      r.pt.map(iova, 0x8000_0000n, size, RW);
      r.model.map(iova, 0x8000_0000n, size, RW);
      const target = iova + size / 2n; // inside the leaf, so replicated copies matter too
      const whole = [{ iova, size }];

      // 1. A DMA write, then read-and-clear with an explicit gather that is not synced yet.
      expect(r.iommu.dma(target, 8n, "write").ok).toBe(true);
      const g = r.pt.newGather();
      expect(r.pt.readAndClearDirty(iova, size, { gather: g })).toEqual(whole);
      expect(g.isEmpty()).toBe(false);

      // 2. A second write hits the IOTLB's cached dirty translation and touches no memory: not recorded.
      const walks = r.iommu.stats().walks;
      expect(r.iommu.dma(target, 8n, "write").ok).toBe(true);
      expect(r.iommu.stats().walks).toBe(walks);
      expect(r.pt.readAndClearDirty(iova, size, { noClear: true })).toEqual([]);
      const stale = check(r.pt, r.model, r.iommu);
      expect(stale.ok).toBe(false);
      if (!stale.ok) expect(stale.message).toMatch(/dirty translation whose PTE is clean/);

      // 3. After the sync the cached translation is gone; the third write walks, sets D and is recorded.
      g.sync();
      expect(check(r.pt, r.model, r.iommu).ok).toBe(true);
      expect(r.iommu.dma(target, 8n, "write").ok).toBe(true);
      expect(r.iommu.stats().walks).toBe(walks + 1);
      expect(r.pt.readAndClearDirty(iova, size)).toEqual(whole);
      finish(r);
    });
  }
});
