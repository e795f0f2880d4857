// Proof that the checker can fail: each of the core's test-only switches breaks one rule, and a short
// script shows the checker catching it at the exact IOVA. The same script passes on the unbroken core,
// so what is caught is the broken rule and nothing else.
import { mock64, mock64Walker, Prot, type TestBreaks } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { check, checkDirty, type IntervalModel, type CheckResult as SimCheckResult } from "../src/index.js";
import { finish, type Rig, rig } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;
const M2 = 0x20_0000n;

describe("shortGather: the gather leaves out the widened part of an unmap (CVE-2026-31735)", () => {
  const script = (testBreaks: TestBreaks): SimCheckResult => {
    const r = rig(mock64(), mock64Walker(), { create: { testBreaks } });
    r.pt.map(M2, 0x8000_0000n, M2, RW);
    r.model.map(M2, 0x8000_0000n, M2, RW);
    expect(check(r.pt, r.model, r.iommu).ok).toBe(true);
    expect(r.iommu.dma(M2, 8n, "read").ok).toBe(true); // the IOTLB now holds the 2M translation
    const removed = r.pt.unmap(M2, 0x1000n); // widened to the whole 2M leaf
    expect(removed).toBe(M2);
    r.model.unmap(M2, removed);
    const res = check(r.pt, r.model, r.iommu);
    finish(r);
    return res;
  };

  it("unbroken: the whole 2M is invalidated and the checker passes", () => {
    expect(script({}).ok).toBe(true);
  });

  it("broken: the IOTLB keeps translating the widened tail, reported at its first page", () => {
    const res = script({ shortGather: true });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.iova).toBe(M2 + 0x1000n);
    expect(res.level).toBe(1);
    expect(res.cpu).toBe("model unmapped; iovaToPhys unmapped");
    expect(res.device).toContain(
      "pa 0x80001000 RW, 4K leaf at level 1 (IOTLB entry at 0x201000, a 4K piece of a 2M leaf)",
    );
    expect(res.message).toMatch(/still translates an unmapped iova/);
  });
});

describe("skipNewTableFlush: an incoherent walker is shown a table that was never written back", () => {
  const script = (testBreaks: TestBreaks): SimCheckResult => {
    const r = rig(mock64(), mock64Walker(), { coherent: false, create: { testBreaks } });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    const res = check(r.pt, r.model, r.iommu);
    finish(r);
    return res;
  };

  it("unbroken: the device walks the new tables and the checker passes", () => {
    expect(script({}).ok).toBe(true);
  });

  it("broken: the device reads the unwritten slots of the new tables as garbage translations", () => {
    const res = script({ skipNewTableFlush: true });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    // The entries the core wrote were flushed one by one, so 0x1000 itself translates; but slot 0 of
    // the new level-0 table was never written back and reads as STALE_WORD, a present 32M leaf.
    expect(res.iova).toBe(0xfffn);
    expect(res.level).toBe(0);
    expect(res.cpu).toBe("model unmapped; iovaToPhys unmapped");
    expect(res.device).toBe("pa 0x5a5a5a5a5afff R-, 32M leaf at level 0 (walk)");
    expect(res.message).toMatch(/still translates an unmapped iova/);
  });
});

describe("skipDirtyGather: dirty bits are cleared without flushing the IOTLB", () => {
  const script = (testBreaks: TestBreaks) => {
    const r = rig(mock64(), mock64Walker(), { dirtyTracking: true, create: { testBreaks } });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    expect(r.iommu.dma(0x1000n, 0x1000n, "write").ok).toBe(true);
    const first = checkDirty(r.pt.readAndClearDirty(0n, M2), r.iommu.takeWrites());
    const afterClear = check(r.pt, r.model, r.iommu);
    expect(r.iommu.dma(0x1000n, 0x1000n, "write").ok).toBe(true);
    const second = checkDirty(r.pt.readAndClearDirty(0n, M2), r.iommu.takeWrites());
    finish(r);
    return { first, afterClear, second };
  };

  it("unbroken: both writes are harvested and the checker passes", () => {
    const { first, afterClear, second } = script({});
    expect([first.ok, afterClear.ok, second.ok]).toEqual([true, true, true]);
  });

  it("broken: the checker sees a dirty IOTLB entry over a clean PTE, and the second write is lost", () => {
    const { first, afterClear, second } = script({ skipDirtyGather: true });
    expect(first.ok).toBe(true);
    expect(afterClear.ok).toBe(false);
    if (!afterClear.ok) {
      expect(afterClear.iova).toBe(0x1000n);
      expect(afterClear.level).toBe(0);
      expect(afterClear.message).toMatch(/caches a dirty translation whose PTE is clean/);
      expect(afterClear.device).toMatch(/dirty.*IOTLB.*its PTE now reads pa 0x90000000 RW, 4K leaf/);
    }
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.iova).toBe(0x1000n);
      expect(second.cpu).toBe("harvest empty");
      expect(second.device).toBe("DMA wrote [0x1000, 0x2000)");
    }
  });
});

describe("freeBeforeFlush: a table is freed before the walk caches stop pointing at it", () => {
  // The unmap frees the level-0 table under [0, 2M). In the window before its flush lands (onFlush), a
  // concurrent map on another CPU maps a 2M page at 1G, which needs a new level-1 table, and the device
  // walks 0x0 through its cached pointer. Freed too early, the old table's memory already is that new
  // level-1 table (the allocator hands the last freed block out first), so the device reads the 2M leaf
  // as its level-0 entry: 0x0 now translates into the other mapping's memory.
  const script = (testBreaks: TestBreaks) => {
    const windows: SimCheckResult[] = [];
    // What the CPU side believes before the unmap, and while its flush is pending.
    let before: IntervalModel | undefined;
    let during: IntervalModel | undefined;
    let r: Rig | undefined;
    r = rig(mock64(), mock64Walker(), {
      create: { testBreaks },
      iommu: {
        onFlush: (req) => {
          if (!req.tablesFreed || r === undefined || before === undefined || during === undefined) return;
          const g = r.pt.newGather();
          r.pt.map(1n << 30n, 0xa000_0000n, M2, RW, { gather: g });
          during.map(1n << 30n, 0xa000_0000n, M2, RW);
          windows.push(check(r.pt, during, r.iommu, { previous: before }));
          g.sync();
        },
      },
    });
    r.pt.map(0n, 0x9000_0000n, 0x1000n, RW);
    r.model.map(0n, 0x9000_0000n, 0x1000n, RW);
    // A DMA to the unmapped 0x1000 faults at level 0 but leaves both table pointers in the walk caches.
    expect(r.iommu.dma(0x1000n, 8n, "read").ok).toBe(false);
    expect(r.iommu.walkCacheEntries().length).toBe(2);
    before = r.model.clone();
    during = r.model.clone();
    during.unmap(0n, M2);
    expect(r.pt.unmap(0n, M2)).toBe(0x1000n);
    const after = check(r.pt, during, r.iommu);
    finish(r);
    return { windows, after };
  };

  it("unbroken: in the window the device still sees the old table, and afterwards all is clean", () => {
    const { windows, after } = script({});
    expect(windows.map((w) => w.ok)).toEqual([true]);
    expect(after.ok).toBe(true);
  });

  it("broken: in the window the device walks the reused table and translates 0x0 into another mapping", () => {
    const { windows } = script({ freeBeforeFlush: true });
    expect(windows.length).toBe(1);
    const w = windows[0]!;
    expect(w.ok).toBe(false);
    if (w.ok) return;
    expect(w.iova).toBe(0n);
    expect(w.level).toBe(0);
    expect(w.cpu).toBe("model unmapped; iovaToPhys unmapped");
    expect(w.device).toBe("pa 0xa0000000 RW, 4K leaf at level 0 (walk)");
    expect(w.message).toMatch(/still translates an unmapped iova/);
  });
});

describe("a driver that invalidates only leaves when tables were freed (VT-d IH = 1 on a table free)", () => {
  // Not one of the core's switches but the same class of bug one layer down: the driver drops the
  // walk-cache part of the flush. The freed level-0 table is then reused for a new level-1 table, and
  // the device, still holding the old pointer, reads its 2M leaf as a level-0 entry.
  const script = (dropWalk: boolean): SimCheckResult => {
    const r = rig(mock64(), mock64Walker());
    if (dropWalk) {
      const flush = r.iommu.driver.flush!;
      r.iommu.driver.flush = (req) => flush({ ...req, tablesFreed: false });
    }
    r.pt.map(0n, 0x9000_0000n, 0x1000n, RW);
    expect(r.iommu.dma(0x1000n, 8n, "read").ok).toBe(false); // fills the walk caches only
    r.pt.unmap(0n, M2);
    r.pt.map(1n << 30n, 0xa000_0000n, M2, RW);
    r.model.map(1n << 30n, 0xa000_0000n, M2, RW);
    const res = check(r.pt, r.model, r.iommu);
    finish(r);
    return res;
  };

  it("correct driver: the walk caches are invalidated with the freed table and the checker passes", () => {
    expect(script(false).ok).toBe(true);
  });

  it("leaf-only driver: the stale walk-cache pointer leads into the reused table", () => {
    const res = script(true);
    expect(res).toMatchObject({
      ok: false,
      iova: 0n,
      level: 0,
      cpu: "model unmapped; iovaToPhys unmapped",
      device: "pa 0xa0000000 RW, 4K leaf at level 0 (walk)",
    });
  });
});
