// check's breakWindow option: inside the break-before-make window of splitBlocks and mergePages (caught
// with Iommu's onFlush) the briefly absent entry is accepted, the strict check is not; breakWindow still
// reports wrong translations, permissions and stale translations of unmapped IOVAs; and a "replace"
// format has no such window, so the strict check passes in its flush window.
import { type FlushRequest, mock64, mock64Walker, Prot, type PtFormat } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { type CheckOptions, type CheckResult, check, IntervalModel } from "../src/index.js";
import { finish, type Rig, rig } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;
const K4 = 0x1000n;
const M2 = 0x20_0000n;
/** The 2M block that is split: a level-1 leaf of mock64. */
const BLOCK = M2;
const BLOCK_PA = 0x9000_0000n;

/** What one flush window looked like: the request, where the block stood, and the checks made in it. */
interface Window {
  req: FlushRequest;
  cpu: bigint | undefined;
  deviceOk: boolean;
  strict: CheckResult;
  windowed: CheckResult;
}

/**
 * A rig whose onFlush runs, in every flush window, a strict check and one with `extra` (by default
 * `{ previous: model, breakWindow: true }`) against the model `against()` returns (the rig's by default).
 */
function windowRig<A>(
  format: PtFormat<A>,
  extra: (r: Rig<A>) => CheckOptions = (r) => ({ previous: r.model, breakWindow: true }),
  against: (r: Rig<A>) => IntervalModel = (r) => r.model,
): { r: Rig<A>; windows: Window[] } {
  const windows: Window[] = [];
  let r: Rig<A> | undefined;
  r = rig(format, mock64Walker(), {
    iommu: {
      onFlush: (req) => {
        if (r === undefined) return;
        const model = against(r);
        windows.push({
          req,
          cpu: r.pt.iovaToPhys(BLOCK),
          deviceOk: r.iommu.probe(BLOCK).ok,
          strict: check(r.pt, model, r.iommu),
          windowed: check(r.pt, model, r.iommu, extra(r)),
        });
      },
    },
  });
  return { r, windows };
}

function mapBlock(r: Rig, prot = RW): void {
  r.pt.map(BLOCK, BLOCK_PA, M2, prot);
  r.model.map(BLOCK, BLOCK_PA, M2, prot);
  expect(r.iommu.probeWalk(BLOCK)).toMatchObject({ ok: true, level: 1, pageLg2: 21 });
}

describe("breakWindow under a break-before-make format", () => {
  it("mock64 is break-before-make, with 2M leaves above its 4K pages", () => {
    const f = mock64();
    expect(f.resize).toBe("break-before-make");
    expect(f.geometry.levels[0]!.leafLg2[0]).toBe(12);
    expect(f.geometry.levels[1]!.leafLg2).toContain(21);
  });

  it("splitBlocks: in the break window the block is absent; breakWindow passes, the strict check fails", () => {
    const { r, windows } = windowRig(mock64());
    expect(r.pt.format.resize).toBe("break-before-make");
    mapBlock(r);
    expect(r.pt.splitBlocks(BLOCK, M2)).toMatchObject({ entries: 1, tables: 1 });
    // The break's flush, then the operation's own: both cover the block.
    expect(windows.length).toBe(2);
    const [brk, done] = windows as [Window, Window];
    expect(brk.req.ranges).toEqual([{ iova: BLOCK, size: M2 }]);
    // The window is real: the CPU and the device both find nothing at a mapped IOVA.
    expect(brk.cpu).toBeUndefined();
    expect(brk.deviceOk).toBe(false);
    expect(brk.windowed).toMatchObject({ ok: true });
    expect(brk.strict.ok).toBe(false);
    if (!brk.strict.ok) {
      expect(brk.strict.iova).toBe(BLOCK);
      expect(brk.strict.message).toMatch(/pt\.iovaToPhys disagrees with the model|faults on a mapped iova/);
    }
    // Once the pieces are written the block translates again, strictly.
    expect(done.cpu).toBe(BLOCK_PA);
    expect(done.strict).toMatchObject({ ok: true });
    expect(done.windowed).toMatchObject({ ok: true });
    expect(r.iommu.probeWalk(BLOCK + K4)).toMatchObject({ ok: true, level: 0, pageLg2: 12 });
    expect(check(r.pt, r.model, r.iommu)).toMatchObject({ ok: true });
    finish(r);
  });

  it("splitBlocks with the block in the IOTLB: the device keeps translating it correctly in the window", () => {
    const { r, windows } = windowRig(mock64());
    mapBlock(r);
    expect(r.iommu.dma(BLOCK, 8n, "read").ok).toBe(true);
    r.pt.splitBlocks(BLOCK, M2);
    const brk = windows[0]!;
    expect(brk.cpu).toBeUndefined();
    expect(brk.deviceOk).toBe(true);
    expect(brk.windowed).toMatchObject({ ok: true });
    // iovaToPhys still finds nothing, so the strict check fails there.
    expect(brk.strict).toMatchObject({
      ok: false,
      iova: BLOCK,
      message: `iova 0x200000: pt.iovaToPhys disagrees with the model`,
    });
    finish(r);
  });

  it("mergePages: the table pointer is broken before the 2M leaf is written; breakWindow passes it", () => {
    const { r, windows } = windowRig(mock64());
    mapBlock(r);
    r.pt.splitBlocks(BLOCK, M2);
    windows.length = 0;
    expect(r.pt.mergePages(BLOCK, M2)).toMatchObject({ entries: 1 });
    expect(r.iommu.probeWalk(BLOCK)).toMatchObject({ ok: true, level: 1, pageLg2: 21 });
    expect(windows.length).toBe(2);
    const brk = windows[0]!;
    expect(brk.req.tablesFreed).toBe(true);
    expect(brk.cpu).toBeUndefined();
    expect(brk.windowed).toMatchObject({ ok: true });
    expect(brk.strict.ok).toBe(false);
    expect(windows[1]!.strict).toMatchObject({ ok: true });
    finish(r);
  });
});

describe("breakWindow does not hide wrong translations", () => {
  it("in the window, a device translating elsewhere than the model (stale IOTLB) still fails", () => {
    // The CPU side believes the block maps to 0xa0000000 (as does `previous`); the IOTLB holds 0x90000000.
    const wrong = new IntervalModel();
    wrong.map(BLOCK, 0xa000_0000n, M2, RW);
    const { r, windows } = windowRig(
      mock64(),
      () => ({ previous: wrong, breakWindow: true }),
      () => wrong,
    );
    r.pt.map(BLOCK, BLOCK_PA, M2, RW);
    expect(r.iommu.dma(BLOCK, 8n, "read").ok).toBe(true);
    r.pt.splitBlocks(BLOCK, M2);
    const brk = windows[0]!;
    expect(brk.cpu).toBeUndefined();
    expect(brk.windowed).toMatchObject({
      ok: false,
      iova: BLOCK,
      message: "iova 0x200000: the device translates to another pa",
    });
    finish(r);
  });

  it("a leaf whose OA was corrupted in memory fails: an iovaToPhys answer must be the model's", () => {
    const r = rig(mock64(), mock64Walker());
    mapBlock(r);
    r.pt.splitBlocks(BLOCK, M2);
    const hit = r.iommu.probeWalk(BLOCK + K4);
    if (!hit.ok) throw new Error(hit.detail);
    const leaf = r.mem.readU64(hit.pteAddr);
    r.mem.writeU64(hit.pteAddr, (leaf & 0xfffn) | 0xa000_0000n);
    // The range is sampled (512 pages), so name the corrupted page.
    const opts = { previous: r.model, breakWindow: true, extraIovas: [BLOCK + K4] };
    expect(check(r.pt, r.model, r.iommu, opts)).toMatchObject({
      ok: false,
      iova: BLOCK + K4,
      cpu: "model pa 0x90001000 RW; iovaToPhys 0xa0000000",
      message: "iova 0x201000: pt.iovaToPhys disagrees with the model",
    });
    r.mem.writeU64(hit.pteAddr, leaf);
    expect(check(r.pt, r.model, r.iommu, opts)).toMatchObject({ ok: true });
    finish(r);
  });

  it("other permissions still fail", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(K4, 0x9000_0000n, K4, Prot.READ);
    r.model.map(K4, 0x9000_0000n, K4, RW);
    expect(check(r.pt, r.model, r.iommu, { breakWindow: true })).toMatchObject({
      ok: false,
      iova: K4,
      message: "iova 0x1000: the device grants other permissions",
    });
    finish(r);
  });

  it("an unmapped iova the device still translates fails", () => {
    // Incoherent: the device's copy of memory keeps a leaf at 0x9000 that the CPU's memory no longer has.
    const r = rig(mock64(), mock64Walker(), { coherent: false });
    r.pt.map(K4, 0x9000_0000n, K4, RW);
    r.model.map(K4, 0x9000_0000n, K4, RW);
    const hit = r.iommu.probeWalk(K4);
    if (!hit.ok) throw new Error(hit.detail);
    const slot9 = hit.pteAddr + 8n * 8n;
    r.mem.writeU64(slot9, r.mem.readU64(hit.pteAddr));
    r.iommu.driver.cacheFlush!(slot9, 8);
    r.mem.writeU64(slot9, 0n);
    expect(check(r.pt, r.model, r.iommu, { breakWindow: true, extraIovas: [0x9000n] })).toMatchObject({
      ok: false,
      iova: 0x9000n,
      message: "iova 0x9000: the device still translates an unmapped iova",
    });
    finish(r);
  });
});

describe("a replace format has no break window", () => {
  it("splitBlocks: the strict check passes in every flush window", () => {
    const format: PtFormat<unknown> = { ...mock64(), resize: "replace" };
    const { r, windows } = windowRig(format);
    expect(r.pt.format.resize).toBe("replace");
    mapBlock(r);
    expect(r.pt.splitBlocks(BLOCK, M2)).toMatchObject({ entries: 1, tables: 1 });
    expect(r.iommu.probeWalk(BLOCK + K4)).toMatchObject({ ok: true, level: 0, pageLg2: 12 });
    // Only the operation's own flush, after the new entry replaced the block in one write.
    expect(windows.length).toBe(1);
    const w = windows[0]!;
    expect(w.req.ranges).toEqual([{ iova: BLOCK, size: M2 }]);
    expect(w.cpu).toBe(BLOCK_PA);
    expect(w.deviceOk).toBe(true);
    expect(w.strict).toMatchObject({ ok: true });
    finish(r);
  });
});
