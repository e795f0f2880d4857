// The dirty lifecycle through the device: DMA writes with hardware dirty tracking on, a harvest reports
// the whole entry, noClear keeps it, a clearing harvest cleans every item and invalidates the cached
// translation (so the next write dirties the entry again), and an empty harvest follows.
import { Prot } from "@genpt/core";
import { checkDirty } from "@genpt/sim";
import { defineCase, type Probe } from "../case.js";
import { check, eq, fail } from "../support/assert.js";
import { deviceTable } from "../support/device.js";
import { entryItems, locate } from "../support/raw.js";
import { alignDown } from "../support/shape.js";

const RW = Prot.READ | Prot.WRITE;

export const dirtyLifecycle = defineCase({
  name: "dirty_lifecycle",
  summary: "DMA write -> harvest reports the entry -> cleaned (IOTLB too) -> empty; noClear keeps it dirty",
  skipIf: (p: Probe) =>
    !p.subject.walker
      ? "no hardware walker given"
      : !p.subject.format.dirty
        ? "the format has no dirty tracking"
        : undefined,
  run(env) {
    const d = env.format.dirty!;
    const { t, iommu } = deviceTable(env, { dirtyTracking: true });
    if (!iommu) fail("this case needs a hardware walker");
    const region = t.regions[0]!;
    const dirtyItems = (iova: bigint) =>
      entryItems(t.pt, locate(t.pt, iova)!).filter(
        (it) => (((BigInt(it.hi) << 32n) | BigInt(it.lo)) & d.dirtyMask) === d.dirtyValue,
      ).length;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    for (const s of t.sizes.filter(
      (x) => 4n * x <= region.end - region.start && 4n * x <= oaEnd && x <= 1n << 30n,
    )) {
      const a = env.at(region.start + s);
      t.pt.map(a, s, 2n * s, RW);
      t.pt.readAndClearDirty(a, 2n * s);
      iommu.takeWrites();
      const entry = [{ iova: a, size: s }];
      for (let round = 0; round < 2; round++) {
        const at = a + alignDown(s / 2n, t.granule);
        const r = iommu.dma(at, t.granule, "write");
        if (!r.ok) fail(`DMA write faults: ${r.fault.detail}`, at);
        check(dirtyItems(a) > 0, "no item of the entry is dirty after a DMA write", at);
        eq(
          t.pt.readAndClearDirty(a, 2n * s, { noClear: true }),
          entry,
          `round ${round}: noClear harvest`,
          at,
        );
        eq(
          t.pt.readAndClearDirty(a, 2n * s, { noClear: true }),
          entry,
          `round ${round}: second noClear harvest`,
          at,
        );
        const h = t.pt.readAndClearDirty(a, 2n * s);
        eq(h, entry, `round ${round}: clearing harvest`, at);
        const ok = checkDirty(h, iommu.takeWrites());
        if (!ok.ok) fail(ok.message, ok.iova);
        eq(dirtyItems(a), 0, `round ${round}: dirty items after cleaning`, at);
        eq(t.pt.readAndClearDirty(a, 2n * s), [], `round ${round}: harvest after cleaning`, at);
      }
      eq(t.pt.unmap(a, 2n * s), 2n * s, "unmap", a);
    }
  },
});
