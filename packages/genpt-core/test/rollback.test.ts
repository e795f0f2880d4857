// A failed map changes nothing: ENOMEM injected at every allocation index of a large map leaves the
// memory image and the allocator statistics exactly as before (DESIGN "Algorithms": map).
import { mock32, mock64, Prot } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { fingerprint, finish, newTable, ptErrorOf } from "./helpers.js";

describe("map rollback", () => {
  const cases = [
    // A map that needs tables at several levels and grows the dynamic top from level 2 to 4.
    {
      name: "mock64 with top growth",
      fmt: () => mock64(),
      iova: (1n << 48n) - 0x5000n,
      size: 0x20_5000n + (1n << 21n),
    },
    // Many 1 KiB sub-page tables of the 4-byte mock.
    { name: "mock32 sub-page tables", fmt: () => mock32(), iova: 0xff000n, size: 0x30_3000n },
  ];
  for (const c of cases) {
    it(`${c.name}: ENOMEM at every allocation index changes nothing`, () => {
      const pt = newTable(c.fmt(), { allocator: undefined });
      // Something already mapped, so undo must also spare existing entries and tables.
      pt.map(c.iova - 0x1000n, 0x1000_0000n, 0x1000n, Prot.READ);
      const base = fingerprint(pt);
      const topLevel = pt.info().topLevel;
      // Fail the 1st, 2nd, ... allocation until the map needs no more: every failure changes nothing.
      let n = 1;
      for (; ; n++) {
        pt.allocator.failAt(n);
        let err: { code: string } | undefined;
        try {
          pt.map(c.iova, 0x4000_0000n, c.size, Prot.READ | Prot.WRITE);
        } catch (e) {
          err = e as { code: string };
        }
        pt.allocator.failAt(undefined);
        if (!err) break;
        expect(err.code).toBe("ENOMEM");
        expect(fingerprint(pt)).toEqual(base);
        expect(pt.info().topLevel).toBe(topLevel);
        expect(pt.iovaToPhys(c.iova)).toBeUndefined();
      }
      expect(n).toBeGreaterThan(3);
      expect(pt.iovaToPhys(c.iova + c.size - 1n)).toBe(0x4000_0000n + c.size - 1n);
      finish(pt);
    });
  }

  it("an overlap found late in the walk undoes the leaves written before it", () => {
    const pt = newTable(mock64());
    pt.map(0x80_0000n, 0x1000_0000n, 0x1000n, Prot.READ);
    const before = fingerprint(pt);
    // Starts well before the occupied page, so a run of leaves is written and must be undone.
    const err = ptErrorOf(() => pt.map(0x40_0000n, 0x2000_0000n, 0x80_0000n, Prot.READ));
    expect(err.code).toBe("EADDRINUSE");
    expect(err.message).toContain("0x800000");
    expect(fingerprint(pt)).toEqual(before);
    expect(pt.iovaToPhys(0x40_0000n)).toBeUndefined();
    finish(pt);
  });

  it("a failed map never grows the dynamic top", () => {
    const pt = newTable(mock64());
    const before = fingerprint(pt);
    pt.allocator.failAt(3);
    expect(ptErrorOf(() => pt.map(1n << 50n, 0n, 0x1000n, Prot.READ)).code).toBe("ENOMEM");
    pt.allocator.failAt(undefined);
    expect(pt.info().topLevel).toBe(2);
    expect(fingerprint(pt)).toEqual(before);
    finish(pt);
  });
});
