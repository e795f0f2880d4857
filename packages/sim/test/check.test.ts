// The checker on hand-made discrepancies: each opinion (model, iovaToPhys, device) disagreeing in turn,
// permissions, the order of reports, and the flush-window option.
import { mock64, mock64Walker, Prot } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { check, checkDirty, IntervalModel } from "../src/index.js";
import { finish, rig } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;

describe("check", () => {
  it("passes when the three opinions agree, and says how many IOVAs it looked at", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x3000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x3000n, RW);
    const res = check(r.pt, r.model, r.iommu);
    expect(res.ok).toBe(true);
    // Three pages, the last byte and both neighbours, plus 8 random IOVAs (they may coincide).
    if (res.ok) expect(res.checked).toBeGreaterThanOrEqual(6);
    finish(r);
  });

  it("reports a model that disagrees with the page table at the first such IOVA", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x5000n, 0x9000_5000n, 0x2000n, RW);
    const res = check(r.pt, r.model, r.iommu);
    expect(res).toMatchObject({
      ok: false,
      iova: 0x5000n,
      level: 0,
      cpu: "model pa 0x90005000 RW; iovaToPhys unmapped",
      message: "iova 0x5000: pt.iovaToPhys disagrees with the model",
    });
    finish(r);
  });

  it("reports permissions the device grants differently", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, Prot.READ);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    const res = check(r.pt, r.model, r.iommu);
    expect(res).toMatchObject({
      ok: false,
      iova: 0x1000n,
      message: "iova 0x1000: the device grants other permissions",
    });
    expect(check(r.pt, r.model, r.iommu, { permissions: false }).ok).toBe(true);
    finish(r);
  });

  it("reports a device that translates elsewhere than the CPU believes (memory changed behind the IOTLB)", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    // Repoint the leaf without any flush: the CPU sees the new PA, the device's IOTLB the old one.
    const pte = r.iommu.iotlbEntries()[0]!.pteAddr;
    const leaf = r.mem.readU64(pte);
    r.mem.writeU64(pte, (leaf & 0xfffn) | 0xa000_0000n);
    r.model.unmap(0x1000n, 0x1000n);
    r.model.map(0x1000n, 0xa000_0000n, 0x1000n, RW);
    expect(check(r.pt, r.model, r.iommu)).toMatchObject({
      ok: false,
      iova: 0x1000n,
      cpu: "model pa 0xa0000000 RW; iovaToPhys 0xa0000000",
      device: "pa 0x90000000 RW, 4K leaf at level 0 (IOTLB entry at 0x1000)",
      message: "iova 0x1000: the device translates to another pa",
    });
    r.mem.writeU64(pte, leaf);
    finish(r);
  });

  it("in a flush window accepts the previous model's translations, but nothing else", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    const before = new IntervalModel();
    before.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    // Unmap behind the device's back: the IOTLB still translates, as inside a flush window.
    const pte = r.iommu.iotlbEntries()[0]!.pteAddr;
    const leaf = r.mem.readU64(pte);
    r.mem.writeU64(pte, 0n);
    expect(check(r.pt, r.model, r.iommu).ok).toBe(false);
    expect(check(r.pt, r.model, r.iommu, { previous: before }).ok).toBe(true);
    const other = new IntervalModel();
    other.map(0x1000n, 0x7000_0000n, 0x1000n, RW);
    expect(check(r.pt, r.model, r.iommu, { previous: other })).toMatchObject({ ok: false, iova: 0x1000n });
    r.mem.writeU64(pte, leaf);
    finish(r);
  });

  it("samples a huge range instead of walking every page", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0n, 0x8000_0000n, 1n << 30n, RW);
    r.model.map(0n, 0x8000_0000n, 1n << 30n, RW);
    const res = check(r.pt, r.model, r.iommu, { maxPagesPerRange: 16, randomSamples: 0 });
    expect(res.ok).toBe(true);
    // 14 samples, first page, last byte, the neighbour above (the one below is negative).
    if (res.ok) expect(res.checked).toBeLessThanOrEqual(17);
    finish(r);
  });

  it("checks the extra IOVAs it is given, where nothing else would look", () => {
    const r = rig(mock64(), mock64Walker(), { coherent: false });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    // Give the device's copy a leaf at 0x9000 that the CPU's memory no longer has.
    const hit = r.iommu.probeWalk(0x1000n);
    if (!hit.ok) throw new Error(hit.detail);
    const slot9 = hit.pteAddr + 8n * 8n; // the leaf of 0x1000 is slot 1
    r.mem.writeU64(slot9, r.mem.readU64(slot9 - 64n));
    r.iommu.driver.cacheFlush!(slot9, 8);
    r.mem.writeU64(slot9, 0n);
    expect(check(r.pt, r.model, r.iommu, { randomSamples: 0 }).ok).toBe(true);
    expect(check(r.pt, r.model, r.iommu, { randomSamples: 0, extraIovas: [0x9000n] })).toMatchObject({
      ok: false,
      iova: 0x9000n,
      device: "pa 0x90000000 RW, 4K leaf at level 0 (walk)",
    });
    finish(r);
  });
});

describe("checkDirty", () => {
  it("accepts a harvest covering every write and reports the first byte it misses", () => {
    const harvest = [
      { iova: 0x0n, size: 0x2000n },
      { iova: 0x4000n, size: 0x1000n },
    ];
    expect(checkDirty(harvest, [{ iova: 0x1000n, size: 0x1000n }])).toEqual({ ok: true, checked: 1 });
    expect(checkDirty(harvest, [{ iova: 0x1000n, size: 0x4000n }])).toMatchObject({
      ok: false,
      iova: 0x2000n,
      cpu: "harvest [0x0, 0x2000) [0x4000, 0x5000)",
      device: "DMA wrote [0x1000, 0x5000)",
    });
  });
});
