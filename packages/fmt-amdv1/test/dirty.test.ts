// The dirty lifecycle (reference/formats.md §3.5): the hardware may set D in one copy of a replicated
// PTE; software ORs D over every copy, reports the whole entry, clears D in every copy and never touches A.
import { finish, KiB, MiB, newTable, slotAddr, walkCtx } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

const A = 1n << 5n;
const D = 1n << 6n;
const hw = amdv1Walker();

describe("dirty lifecycle", () => {
  for (const c of [
    {
      name: "64K at level 0 (16 copies)",
      iova: 0x10_0000n,
      pa: 0x20_0000n,
      size: 64n * KiB,
      level: 0,
      copies: 16,
      hit: 11,
    },
    {
      name: "4M at level 1 (2 copies)",
      iova: 0x40_0000n,
      pa: 0x80_0000n,
      size: 4n * MiB,
      level: 1,
      copies: 2,
      hit: 1,
    },
    {
      name: "4K at level 0 (one copy)",
      iova: 0x5000n,
      pa: 0x9000n,
      size: 4n * KiB,
      level: 0,
      copies: 1,
      hit: 0,
    },
  ]) {
    test(c.name, () => {
      const pt = newTable(amdv1());
      pt.map(c.iova, c.pa, c.size, Prot.READ | Prot.WRITE);
      // A clean neighbour, which must never be reported.
      pt.map(c.iova + c.size, c.pa + c.size, c.size, Prot.READ | Prot.WRITE);
      const first = slotAddr(pt, c.iova, c.level);
      const copy = (i: number) => pt.mem.readU64(first + BigInt(i) * 8n);
      const item = BigInt(1) << BigInt(12 + 9 * c.level);

      // (1) A DMA write through the walker, in the copy its IOVA indexes.
      const w = hw.translate(pt.mem, walkCtx(pt, true), c.iova + BigInt(c.hit) * item + 8n, "write");
      expect(w).toMatchObject({ ok: true, dirty: true, pteAddr: first + BigInt(c.hit) * 8n });
      for (let i = 0; i < c.copies; i++) expect((copy(i) & D) !== 0n, `copy ${i} D`).toBe(i === c.hit);

      // (4) noClear reports the whole entry and writes nothing.
      const hash = pt.mem.hash();
      const span = 4n * c.size;
      expect(pt.readAndClearDirty(c.iova - (c.iova % span), span, { noClear: true })).toEqual([
        { iova: c.iova, size: c.size },
      ]);
      expect(pt.mem.hash()).toBe(hash);

      // (1, 2) The read reports the whole entry and clears D in every copy; A stays where the walker set it.
      expect(pt.readAndClearDirty(c.iova - (c.iova % span), span)).toEqual([{ iova: c.iova, size: c.size }]);
      for (let i = 0; i < c.copies; i++) {
        expect(copy(i) & D).toBe(0n);
        expect(copy(i) & A).toBe(i === c.hit ? A : 0n);
      }

      // (3) A second read reports nothing.
      expect(pt.readAndClearDirty(c.iova - (c.iova % span), span)).toEqual([]);
      finish(pt);
    });
  }

  test("D in several copies reports one entry, and every copy is cleaned", () => {
    const pt = newTable(amdv1());
    pt.map(0x10_0000n, 0x20_0000n, 64n * KiB, Prot.READ | Prot.WRITE);
    const ctx = walkCtx(pt, true);
    for (const off of [0x0n, 0x7000n, 0xf000n]) hw.translate(pt.mem, ctx, 0x10_0000n + off, "write");
    expect(pt.readAndClearDirty(0n, 1n << 30n)).toEqual([{ iova: 0x10_0000n, size: 64n * KiB }]);
    const first = slotAddr(pt, 0x10_0000n, 0);
    for (let i = 0n; i < 16n; i++) expect(pt.mem.readU64(first + i * 8n) & D).toBe(0n);
    finish(pt);
  });

  test("setDirty tracks IW: a read-only page cannot be dirtied", () => {
    const pt = newTable(amdv1());
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    pt.map(0x2000n, 0xa000n, 4n * KiB, Prot.WRITE);
    expect(pt.setDirty(0x1000n)).toBe(false);
    expect(pt.setDirty(0x2000n)).toBe(true);
    // §3.5: D is bit 6 of the entry.
    expect(pt.mem.readU64(slotAddr(pt, 0x2000n, 0)) & D).toBe(D);
    expect(pt.readAndClearDirty(0n, 0x10_0000n)).toEqual([{ iova: 0x2000n, size: 4n * KiB }]);
    finish(pt);
  });
});
