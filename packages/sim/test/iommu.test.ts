// The Iommu on its own: DMA through the walker, what the IOTLB and walk caches hold and when they are
// used, dirty-state caching, invalidation, top changes, and the statistics those events produce.
import { mock32, mock32Walker, mock64, mock64Walker, Prot } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { Iommu } from "../src/index.js";
import { finish, rig } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;
const M2 = 0x20_0000n;
const D_BIT = 16n; // the mock formats' dirty bit

describe("DMA", () => {
  it("translates page by page and merges physically contiguous pages into one segment", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x3000n, RW);
    expect(r.iommu.dma(0x1800n, 0x2000n, "read")).toEqual({
      ok: true,
      segments: [{ iova: 0x1800n, pa: 0x9000_0800n, size: 0x2000n }],
    });
    const s = r.iommu.stats();
    expect([s.walks, s.iotlbMisses, s.iotlbHits, s.dmaBytes.read]).toEqual([3, 3, 0, 0x2000]);
    r.iommu.dma(0x1000n, 0x3000n, "read");
    expect(r.iommu.stats().walks).toBe(3);
    expect(r.iommu.stats().iotlbHits).toBe(3);
    finish(r);
  });

  it("splits segments where the physical pages are not contiguous", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.pt.map(0x2000n, 0x7000_0000n, 0x1000n, RW);
    const res = r.iommu.dma(0x1000n, 0x2000n, "write");
    expect(res).toEqual({
      ok: true,
      segments: [
        { iova: 0x1000n, pa: 0x9000_0000n, size: 0x1000n },
        { iova: 0x2000n, pa: 0x7000_0000n, size: 0x1000n },
      ],
    });
    expect(r.iommu.takeWrites()).toEqual([{ iova: 0x1000n, size: 0x2000n }]);
    expect(r.iommu.takeWrites()).toEqual([]);
    finish(r);
  });

  it("caches a large leaf once and serves every page inside it from that entry", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(M2, 0x8000_0000n, M2, RW);
    expect(r.iommu.dma(M2, M2, "read")).toEqual({
      ok: true,
      segments: [{ iova: M2, pa: 0x8000_0000n, size: M2 }],
    });
    const s = r.iommu.stats();
    expect([s.walks, s.iotlbMisses, s.iotlbHits]).toEqual([1, 1, 511]);
    expect(r.iommu.iotlbEntries().map((e) => [e.iova, e.lg2, e.level])).toEqual([[M2, 21, 1]]);
    finish(r);
  });

  it("stops at the first fault and reports its kind, level and IOVA", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, Prot.READ);
    const hole = r.iommu.dma(0x1000n, 0x2000n, "read");
    expect(hole.ok).toBe(false);
    if (!hole.ok)
      expect([hole.fault.kind, hole.fault.level, hole.fault.iova]).toEqual(["translation", 0, 0x2000n]);
    expect(r.iommu.stats().dmaBytes.read).toBe(0x1000);
    const ro = r.iommu.dma(0x1000n, 0x10n, "write");
    expect(ro.ok).toBe(false);
    if (!ro.ok) expect([ro.fault.kind, ro.fault.level, ro.fault.iova]).toEqual(["permission", 0, 0x1000n]);
    finish(r);
  });

  it("rejects bad arguments with EINVAL", () => {
    const r = rig(mock64(), mock64Walker());
    expect(() => r.iommu.dma(-1n, 1n, "read")).toThrow(/EINVAL|not a range/);
    expect(() => r.iommu.dma(0n, 1n, "fetch" as "read")).toThrow(/not "read"/);
    expect(() => r.iommu.invalidateRange(0n, 0n)).toThrow(/positive/);
    expect(() => r.iommu.probe(1n << 64n)).toThrow(/2\^64/);
    finish(r);
  });
});

describe("dirty state in the IOTLB", () => {
  it("a write hitting a clean cached translation walks again and sets D", () => {
    const r = rig(mock64(), mock64Walker(), { dirtyTracking: true });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    const pte = r.iommu.iotlbEntries()[0]!.pteAddr;
    expect(r.mem.readU64(pte) & D_BIT).toBe(0n);
    r.iommu.dma(0x1000n, 8n, "write");
    expect(r.iommu.stats().walks).toBe(2);
    expect(r.mem.readU64(pte) & D_BIT).toBe(D_BIT);
    expect(r.iommu.iotlbEntries()[0]!.dirty).toBe(true);
    finish(r);
  });

  it("a write hitting a cached dirty translation does not touch memory", () => {
    const r = rig(mock64(), mock64Walker(), { dirtyTracking: true });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "write");
    const pte = r.iommu.iotlbEntries()[0]!.pteAddr;
    // Clean D behind the IOTLB's back: nothing invalidates the cached dirty state.
    r.mem.writeU64(pte, r.mem.readU64(pte) & ~D_BIT);
    r.iommu.dma(0x1000n, 8n, "write");
    expect(r.iommu.stats().walks).toBe(1);
    expect(r.mem.readU64(pte) & D_BIT).toBe(0n);
    finish(r);
  });

  it("without dirty tracking a write never walks again for D", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "write");
    r.iommu.dma(0x1000n, 8n, "write");
    expect(r.iommu.stats().walks).toBe(1);
    expect(r.mem.readU64(r.iommu.iotlbEntries()[0]!.pteAddr) & D_BIT).toBe(0n);
    finish(r);
  });

  it("probe and probeWalk change nothing: no A/D write, no fill, no counted event", () => {
    const r = rig(mock64(), mock64Walker(), { dirtyTracking: true });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    const before = r.mem.hash();
    const hit = r.iommu.probe(0x1234n, "write");
    expect(hit.ok && hit.pa).toBe(0x9000_0234n);
    expect(r.iommu.probeWalk(0x1234n, "write").ok).toBe(true);
    expect(r.mem.hash()).toBe(before);
    expect(r.iommu.iotlbEntries()).toEqual([]);
    expect(r.iommu.walkCacheEntries()).toEqual([]);
    expect(r.iommu.stats().walks).toBe(0);
    finish(r);
  });
});

describe("walk caches", () => {
  it("a walk under already-walked tables takes the upper levels from the cache", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x2000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    expect(r.iommu.walkCacheEntries().map((e) => [e.level, e.span])).toEqual([
      [2, { start: 0n, end: 1n << 30n }],
      [1, { start: 0n, end: M2 }],
    ]);
    r.iommu.dma(0x2000n, 8n, "read");
    expect(r.iommu.stats().walkCacheHits).toBe(1);
    finish(r);
  });

  it("a cached table pointer outlives the entry in memory until the walk caches are invalidated", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x2000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    // Clear the root's entry behind the device's back; the cached copy still leads to the old tables.
    const saved = r.mem.readU64(r.iommu.root);
    r.mem.writeU64(r.iommu.root, 0n);
    expect(r.iommu.translate(0x2000n, "read").ok).toBe(true);
    r.iommu.invalidateRange(0n, 1n << 30n, { leafOnly: true });
    expect(r.iommu.translate(0x2000n, "read").ok).toBe(true);
    r.iommu.invalidateRange(0x2000n, 0x1000n);
    const after = r.iommu.translate(0x2000n, "read");
    expect(after.ok || [after.kind, after.level]).toEqual(["translation", 2]);
    expect(r.iommu.stats().invalidations).toEqual({ leaf: 1, walk: 1, all: 0 });
    r.mem.writeU64(r.iommu.root, saved);
    finish(r);
  });

  it("without the geometry, entries have no span and every walk-cache invalidation drops them", () => {
    const r = rig(mock64(), mock64Walker());
    const bare = new Iommu({
      mem: r.mem,
      walker: mock64Walker(),
      root: r.iommu.root,
      topLevel: r.iommu.topLevel,
    });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    bare.dma(0x1000n, 8n, "read");
    expect(bare.walkCacheEntries().map((e) => e.span)).toEqual([undefined, undefined]);
    bare.invalidateRange(1n << 40n, 0x1000n, { leafOnly: true });
    expect(bare.walkCacheEntries().length).toBe(2);
    bare.invalidateRange(1n << 40n, 0x1000n);
    expect(bare.walkCacheEntries()).toEqual([]);
    finish(r);
  });
});

describe("invalidation", () => {
  it("keep-outside: invalidating part of a large translation leaves the rest cached as pieces", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(M2, 0x8000_0000n, M2, RW);
    r.iommu.dma(M2, 8n, "read");
    r.iommu.invalidateRange(M2 + 0x1000n, 0x1000n, { leafOnly: true });
    const pieces = r.iommu.iotlbEntries();
    expect(pieces.map((e) => [e.iova, e.lg2])).toEqual([
      [M2, 12],
      [M2 + 0x2000n, 13],
      [M2 + 0x4000n, 14],
      [M2 + 0x8000n, 15],
      [M2 + 0x1_0000n, 16],
      [M2 + 0x2_0000n, 17],
      [M2 + 0x4_0000n, 18],
      [M2 + 0x8_0000n, 19],
      [M2 + 0x10_0000n, 20],
    ]);
    expect(pieces.every((e) => e.pa === 0x8000_0000n + (e.iova - M2) && e.leafLg2 === 21)).toBe(true);
    finish(r);
  });

  it("drop-entry: the same invalidation drops the whole large translation", () => {
    const r = rig(mock64(), mock64Walker(), { iommu: { partialInvalidation: "drop-entry" } });
    r.pt.map(M2, 0x8000_0000n, M2, RW);
    r.iommu.dma(M2, 8n, "read");
    r.iommu.invalidateRange(M2 + 0x1000n, 0x1000n, { leafOnly: true });
    expect(r.iommu.iotlbEntries()).toEqual([]);
    finish(r);
  });

  it("pow2 widens a range to the aligned power of two covering it, and past the limit invalidates all", () => {
    const r = rig(mock64(), mock64Walker(), { iommu: { invalidation: { kind: "pow2", allFromLg2: 22 } } });
    r.pt.map(0n, 0x8000_0000n, 0x40_0000n, RW);
    for (let p = 0n; p < 0x40_0000n; p += M2) r.iommu.dma(p, 8n, "read");
    // [0x1f_f000, 0x20_1000) straddles 2M: its aligned cover is [0, 4M), which reaches the limit.
    r.iommu.invalidateRange(0x1f_f000n, 0x2000n, { leafOnly: true });
    expect(r.iommu.iotlbEntries()).toEqual([]);
    r.iommu.dma(0n, 8n, "read");
    r.iommu.dma(M2, 8n, "read");
    // [0x1000, 0x3000) is covered by the aligned [0, 16K): the 2M entry at 0 is cut, the one at 2M stays.
    r.iommu.invalidateRange(0x1000n, 0x2000n, { leafOnly: true });
    expect(r.iommu.iotlbEntries().map((e) => [e.iova, e.lg2])).toEqual([
      [0x4000n, 14],
      [0x8000n, 15],
      [0x1_0000n, 16],
      [0x2_0000n, 17],
      [0x4_0000n, 18],
      [0x8_0000n, 19],
      [0x10_0000n, 20],
      [M2, 21],
    ]);
    finish(r);
  });

  it("the driver's flush invalidates each gathered range, with the walk caches only when tables were freed", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0n, 0x8000_0000n, 0x1000n, RW);
    r.pt.map(0x1000n, 0x8000_1000n, 0x1000n, RW);
    r.pt.unmap(0x1000n, 0x1000n);
    expect(r.iommu.stats().invalidations).toEqual({ leaf: 1, walk: 0, all: 0 });
    r.pt.unmap(0n, M2);
    expect(r.iommu.stats().invalidations).toEqual({ leaf: 1, walk: 1, all: 0 });
    finish(r);
  });
});

describe("incoherent device view", () => {
  it("reads never-written-back memory as STALE_WORD and sees CPU writes only after a writeback", async () => {
    const { STALE_WORD } = await import("../src/index.js");
    const r = rig(mock64(), mock64Walker(), { coherent: false });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    expect(r.iommu.dma(0x1000n, 8n, "read").ok).toBe(true);
    const pte = r.iommu.iotlbEntries()[0]!.pteAddr;
    const leaf = r.mem.readU64(pte);
    // A CPU write to the leaf the device cannot see yet: the device keeps the old value.
    r.mem.writeU64(pte, 0n);
    r.iommu.invalidateAll();
    expect(r.iommu.translate(0x1000n, "read").ok).toBe(true);
    r.iommu.driver.cacheFlush!(pte, 8);
    r.iommu.invalidateAll();
    expect(r.iommu.translate(0x1000n, "read").ok).toBe(false);
    // Memory the core never wrote back: the walk through a wild pointer made of STALE_WORD is a bus error.
    const fresh = r.mem.base + 0x80_0000n;
    r.mem.writeU64(r.iommu.root + 8n * 5n, fresh | 1n);
    r.iommu.driver.cacheFlush!(r.iommu.root + 40n, 8);
    const wild = r.iommu.translate(5n << 30n, "read");
    expect(wild.ok).toBe(false);
    if (!wild.ok) expect(wild.detail).toMatch(/bus error/);
    expect(STALE_WORD).toBe(0xa5a5a5a5);
    r.mem.writeU64(r.iommu.root + 40n, 0n);
    r.mem.writeU64(pte, leaf);
    finish(r);
  });

  it("counts the bytes the core writes back", () => {
    const r = rig(mock32(), mock32Walker(), { coherent: false });
    r.iommu.resetStats();
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    // Two 1 KiB tables (levels 1 and 0), each before its parent entry, then the leaf.
    expect(r.iommu.stats().bytesFlushed).toBe(1024 + 4 + 1024 + 4 + 4);
    finish(r);
  });

  it("an incoherent device's A/D writes reach both its copy and the CPU's memory", () => {
    const r = rig(mock64(), mock64Walker(), { coherent: false, dirtyTracking: true });
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "write");
    expect(r.pt.readAndClearDirty(0n, M2)).toEqual([{ iova: 0x1000n, size: 0x1000n }]);
    finish(r);
  });
});

describe("top changes", () => {
  it("changeTop retargets the device and invalidates everything; old translations still work", () => {
    const r = rig(mock64(), mock64Walker());
    r.pt.map(0x1000n, 0x9000_0000n, 0x1000n, RW);
    r.iommu.dma(0x1000n, 8n, "read");
    const root = r.iommu.root;
    r.pt.map(1n << 40n, 0xa000_0000n, 0x1000n, RW);
    expect(r.iommu.root).not.toBe(root);
    expect(r.iommu.topLevel).toBe(r.pt.info().topLevel);
    expect(r.iommu.stats().invalidations.all).toBe(1);
    expect(r.iommu.iotlbEntries()).toEqual([]);
    expect(r.iommu.dma(1n << 40n, 8n, "read")).toEqual({
      ok: true,
      segments: [{ iova: 1n << 40n, pa: 0xa000_0000n, size: 8n }],
    });
    expect(r.iommu.dma(0x1000n, 8n, "read").ok).toBe(true);
    finish(r);
  });
});
