// The gather covers every IOVA whose translation changed (DESIGN "Algorithms"; CVE-2026-31735), an
// empty gather flushes nothing, and no-gaps mode syncs early instead of merging disjoint ranges.
import { type FlushRequest, mock32, mock64, Prot } from "@genpt/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { finish, newTable } from "./helpers.js";

const PAGES = 4096; // a 16 MiB window, small enough to compare every page after every operation

function translations(pt: { iovaToPhys(i: bigint): bigint | undefined }): (bigint | undefined)[] {
  const out: (bigint | undefined)[] = [];
  for (let i = 0; i < PAGES; i++) out.push(pt.iovaToPhys(BigInt(i) << 12n));
  return out;
}

describe("gather coverage", () => {
  for (const make of [() => mock64(), () => mock32()]) {
    const name = make().name;
    it(`${name}: after each random operation every changed IOVA is inside a flushed range`, () => {
      const flushed: FlushRequest[] = [];
      const pt = newTable(make(), { driver: { flush: (r) => flushed.push(r) } });
      const op = fc.record({
        unmap: fc.boolean(),
        page: fc.integer({ min: 0, max: PAGES - 1 }),
        lg2: fc.integer({ min: 0, max: 11 }),
        oa: fc.integer({ min: 0, max: 1 << 12 }),
      });
      fc.assert(
        fc.property(fc.array(op, { minLength: 5, maxLength: 25 }), (ops) => {
          for (const o of ops) {
            const size = 1n << BigInt(o.lg2 + 12);
            const iova = (BigInt(o.page) << 12n) & ~(size - 1n);
            const before = translations(pt);
            flushed.length = 0;
            try {
              if (o.unmap) pt.unmap(iova, size);
              else pt.map(iova, BigInt(o.oa % (1 << (20 - o.lg2))) << BigInt(12 + o.lg2), size, Prot.READ);
            } catch (e) {
              const code = (e as { code?: string }).code;
              if (code !== "EADDRINUSE" && code !== "EINVAL") throw e;
            }
            const after = translations(pt);
            for (let i = 0; i < PAGES; i++) {
              if (before[i] === after[i]) continue;
              // Only removals need an invalidation: a new translation was never cached.
              if (before[i] === undefined) continue;
              const va = BigInt(i) << 12n;
              const hit = flushed.some((f) => f.ranges.some((r) => va >= r.iova && va < r.iova + r.size));
              expect(hit, `iova 0x${va.toString(16)} changed but no flush covered it`).toBe(true);
            }
            for (const f of flushed) for (const r of f.ranges) expect(r.size).toBeGreaterThan(0n);
          }
          pt.unmap(0n, BigInt(PAGES) << 12n);
        }),
        { seed: 0x5eed, numRuns: 40 },
      );
      finish(pt);
    });
  }

  it("an unmap widened into a large entry gathers the whole entry", () => {
    const flushed: FlushRequest[] = [];
    const pt = newTable(mock64(), { driver: { flush: (r) => flushed.push(r) } });
    pt.map(0x20_0000n, 0x20_0000n, 0x20_0000n, Prot.READ);
    expect(pt.unmap(0x20_0000n, 0x1000n)).toBe(0x20_0000n);
    expect(flushed).toEqual([{ ranges: [{ iova: 0x20_0000n, size: 0x20_0000n }], tablesFreed: false }]);
    finish(pt);
  });

  it("an empty gather flushes nothing", () => {
    const flushed: FlushRequest[] = [];
    const pt = newTable(mock64(), { driver: { flush: (r) => flushed.push(r) } });
    expect(pt.unmap(0x1000_0000n, 0x1000n)).toBe(0n);
    const g = pt.newGather();
    expect(g.ranges).toEqual([]);
    g.sync();
    expect(flushed).toEqual([]);
    finish(pt);
  });

  it("no-gaps mode syncs before taking a disjoint range; the default merges into one covering range", () => {
    for (const noGaps of [true, false]) {
      const flushed: FlushRequest[] = [];
      const pt = newTable(mock64(), {
        pgsizes: [0x1000n],
        features: { flushNoGaps: noGaps },
        driver: { flush: (r) => flushed.push(r) },
      });
      pt.map(0n, 0n, 0x10_0000n, Prot.READ);
      const g = pt.newGather();
      pt.unmap(0x1000n, 0x1000n, { gather: g });
      pt.unmap(0x8000n, 0x1000n, { gather: g });
      g.sync();
      if (noGaps) {
        expect(flushed.map((f) => f.ranges)).toEqual([
          [{ iova: 0x1000n, size: 0x1000n }],
          [{ iova: 0x8000n, size: 0x1000n }],
        ]);
      } else {
        expect(flushed.map((f) => f.ranges)).toEqual([[{ iova: 0x1000n, size: 0x8000n }]]);
      }
      finish(pt);
    }
  });

  it("sync flushes first, then frees the gathered tables; rcuFree defers the free to a grace period", () => {
    for (const rcuFree of [false, true]) {
      const order: string[] = [];
      const pt = newTable(mock64(), { features: { rcuFree }, driver: { flush: () => order.push("flush") } });
      pt.map(0x20_0000n, 0n, 0x1000n, Prot.READ);
      const live = pt.allocator.stats().liveTables;
      const reader = pt.allocator.rcu.readLock();
      const g = pt.newGather();
      pt.unmap(0x20_0000n, 0x20_0000n, { gather: g });
      expect(pt.allocator.stats().liveTables).toBe(live);
      g.sync();
      order.push(`live=${pt.allocator.stats().liveTables}`);
      pt.allocator.rcu.readUnlock(reader);
      pt.allocator.rcu.quiescent();
      order.push(`live=${pt.allocator.stats().liveTables}`);
      expect(order).toEqual(
        rcuFree
          ? ["flush", `live=${live}`, `live=${live - 1}`]
          : ["flush", `live=${live - 1}`, `live=${live - 1}`],
      );
      finish(pt);
    }
  });
});
