// IntervalModel against the simplest possible reference, a map of 4 KiB pages, over random operations.
import { Prot } from "@genpt/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntervalModel } from "../src/index.js";

describe("IntervalModel", () => {
  it("maps, looks up with the offset kept, and splits ranges on unmap", () => {
    const m = new IntervalModel();
    m.map(0x1000n, 0x8000_0000n, 0x4000n, Prot.READ);
    m.map(0x10000n, 0x9000_0000n, 0x1000n, Prot.READ | Prot.WRITE);
    expect(m.lookup(0x2010n)).toEqual({ pa: 0x8000_1010n, prot: Prot.READ });
    expect(m.lookup(0x5000n)).toBeUndefined();
    m.unmap(0x2000n, 0x1000n);
    expect(m.ranges()).toEqual([
      { iova: 0x1000n, pa: 0x8000_0000n, size: 0x1000n, prot: Prot.READ },
      { iova: 0x3000n, pa: 0x8000_2000n, size: 0x2000n, prot: Prot.READ },
      { iova: 0x10000n, pa: 0x9000_0000n, size: 0x1000n, prot: Prot.READ | Prot.WRITE },
    ]);
    expect(m.mappedBytes(0n, 0x20000n)).toBe(0x4000n);
    expect(m.overlaps(0x5000n, 0xb000n)).toBe(false);
    expect(m.overlaps(0x5000n, 0xb001n)).toBe(true);
  });

  it("refuses an overlapping map and leaves itself unchanged", () => {
    const m = new IntervalModel();
    m.map(0x1000n, 0n, 0x2000n, Prot.READ);
    expect(() => m.map(0x2000n, 0n, 0x1000n, Prot.READ)).toThrow(/overlaps/);
    expect(() => m.map(0n, 0n, 0n, Prot.READ)).toThrow(/positive/);
    expect(m.ranges().length).toBe(1);
  });

  it("clone is independent of the original", () => {
    const m = new IntervalModel();
    m.map(0n, 0n, 0x1000n, Prot.READ);
    const c = m.clone();
    c.unmap(0n, 0x1000n);
    expect(m.lookup(0n)).toEqual({ pa: 0n, prot: Prot.READ });
    expect(c.lookup(0n)).toBeUndefined();
  });

  it("agrees with a page map on random operations", () => {
    const op = fc.record({
      map: fc.boolean(),
      page: fc.nat(63),
      pages: fc.integer({ min: 1, max: 16 }),
      prot: fc.constantFrom(1, 3),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new IntervalModel();
        const pages = new Map<number, { pa: bigint; prot: number }>();
        for (const o of ops) {
          const iova = BigInt(o.page) << 12n;
          const size = BigInt(o.pages) << 12n;
          const pa = 0x100_0000n + BigInt(o.page * 7) * 0x1000n;
          const busy = [...Array(o.pages).keys()].some((k) => pages.has(o.page + k));
          if (o.map) {
            expect(m.overlaps(iova, size)).toBe(busy);
            if (busy) continue;
            m.map(iova, pa, size, o.prot);
            for (let k = 0; k < o.pages; k++)
              pages.set(o.page + k, { pa: pa + BigInt(k) * 0x1000n, prot: o.prot });
          } else {
            m.unmap(iova, size);
            for (let k = 0; k < o.pages; k++) pages.delete(o.page + k);
          }
          for (let p = 0; p < 80; p++)
            expect(m.lookup((BigInt(p) << 12n) + 0x18n)).toEqual(
              pages.has(p) ? { pa: pages.get(p)!.pa + 0x18n, prot: pages.get(p)!.prot } : undefined,
            );
          const rs = m.ranges();
          for (let i = 1; i < rs.length; i++)
            expect(rs[i - 1]!.iova + rs[i - 1]!.size <= rs[i]!.iova).toBe(true);
        }
      }),
      { seed: 0x1d, numRuns: 150 },
    );
  });
});
