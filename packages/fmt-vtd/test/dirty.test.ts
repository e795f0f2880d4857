// The dirty lifecycle (reference/formats.md §4.4): with SSADE the hardware sets D (bit 9) on the leaf it
// writes through; software reports the whole leaf, clears D only, and never touches A.
import { finish, GiB, KiB, MiB, newTable, slotAddr, walkCtx } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

const A = 1n << 8n;
const D = 1n << 9n;
const hw = vtdssWalker();

describe("dirty lifecycle", () => {
  for (const c of [
    { name: "4K SS-PTE", iova: 0x5000n, pa: 0x9000n, size: 4n * KiB, level: 0 },
    { name: "2M SS-PDE", iova: 0x20_0000n, pa: 0x40_0000n, size: 2n * MiB, level: 1 },
    { name: "1G SS-PDPE", iova: GiB, pa: 4n * GiB, size: GiB, level: 2 },
  ]) {
    test(c.name, () => {
      const pt = newTable(vtdss({ vaBits: 48 }));
      pt.map(c.iova, c.pa, c.size, Prot.READ | Prot.WRITE);
      // A clean neighbour, which must never be reported.
      pt.map(c.iova + c.size, c.pa + c.size, c.size, Prot.READ | Prot.WRITE);
      const leaf = slotAddr(pt, c.iova, c.level);
      const clean = pt.mem.readU64(leaf);
      const span = 4n * c.size;
      const from = c.iova - (c.iova % span);

      // (1) A DMA write through the walker with SSADE sets A and D on the leaf.
      const w = hw.translate(pt.mem, walkCtx(pt, true), c.iova + c.size - 8n, "write");
      expect(w).toMatchObject({ ok: true, dirty: true, pteAddr: leaf });
      expect(pt.mem.readU64(leaf)).toBe(clean | A | D);

      // (4) noClear reports the whole leaf and writes nothing.
      const hash = pt.mem.hash();
      expect(pt.readAndClearDirty(from, span, { noClear: true })).toEqual([{ iova: c.iova, size: c.size }]);
      expect(pt.mem.hash()).toBe(hash);

      // (1, 2) The read reports the whole leaf and clears D; A stays.
      expect(pt.readAndClearDirty(from, span)).toEqual([{ iova: c.iova, size: c.size }]);
      expect(pt.mem.readU64(leaf)).toBe(clean | A);

      // (3) A second read reports nothing.
      expect(pt.readAndClearDirty(from, span)).toEqual([]);
      finish(pt);
    });
  }

  test("adjacent dirty leaves merge into one range; setDirty tracks W", () => {
    const pt = newTable(vtdss({ vaBits: 39 }));
    pt.map(0x1000n, 0x1000n, 3n * 4n * KiB, Prot.READ | Prot.WRITE);
    pt.map(0x10_0000n, 0x10_0000n, 4n * KiB, Prot.READ);
    expect(pt.setDirty(0x10_0000n)).toBe(false);
    expect(pt.setDirty(0x1000n)).toBe(true);
    expect(pt.setDirty(0x2000n)).toBe(true);
    // §4.4: D is bit 9 of the leaf.
    expect(pt.mem.readU64(slotAddr(pt, 0x1000n, 0)) & D).toBe(D);
    expect(pt.readAndClearDirty(0n, 1n << 30n)).toEqual([{ iova: 0x1000n, size: 8n * KiB }]);
    expect(pt.readAndClearDirty(0n, 1n << 30n)).toEqual([]);
    finish(pt);
  });
});
