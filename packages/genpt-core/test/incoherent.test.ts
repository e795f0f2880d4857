// Incoherent walkers: every word an operation writes to live table memory is covered by a reported
// flush before the operation returns, and a new table is flushed before the entry linking it.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, mock32, mock64, Prot } from "@genpt/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { finish } from "./helpers.js";

const MEM = 1n << 20n;

describe("incoherent mode", () => {
  for (const make of [() => mock64(), () => mock32()]) {
    it(`${make().name}: every written word of a live table is flushed before the operation returns`, () => {
      const mem = new PhysMem({ base: 0x10_0000n, size: MEM });
      const flushes: Array<{ pa: bigint; len: number }> = [];
      const pt = createPageTable(make(), {
        mem,
        features: { incoherent: true },
        driver: { cacheFlush: (pa, len) => flushes.push({ pa, len }) },
      });
      const words = () => new Uint32Array(mem.snapshot(mem.base, MEM).buffer);
      const covered = (pa: bigint) => flushes.some((f) => pa >= f.pa && pa < f.pa + BigInt(f.len));
      const op = fc.record({
        kind: fc.constantFrom("map", "unmap", "dirty", "set"),
        page: fc.nat(8191),
        lg2: fc.integer({ min: 0, max: 10 }),
      });
      fc.assert(
        fc.property(fc.array(op, { minLength: 4, maxLength: 20 }), (ops) => {
          for (const o of ops) {
            const size = 1n << BigInt(12 + o.lg2);
            const iova = (BigInt(o.page) << 12n) & ~(size - 1n);
            const before = words();
            flushes.length = 0;
            try {
              if (o.kind === "map") pt.map(iova, iova, size, Prot.READ | Prot.WRITE);
              else if (o.kind === "unmap") pt.unmap(iova, size);
              else if (o.kind === "set") pt.setDirty(iova);
              else pt.readAndClearDirty(iova, size);
            } catch (e) {
              const code = (e as { code?: string }).code;
              if (code !== "EADDRINUSE" && code !== "EINVAL") throw e;
            }
            const after = words();
            for (let i = 0; i < after.length; i++) {
              if (before[i] === after[i]) continue;
              const pa = mem.base + BigInt(i * 4);
              // Freed tables are unreachable by the walker; only live table memory matters.
              if (!pt.allocator.isLive(Number(pa & ~63n)) && !liveContaining(pt, Number(pa))) continue;
              expect(covered(pa), `word at 0x${pa.toString(16)} written but never flushed`).toBe(true);
            }
          }
          pt.unmap(0n, 8192n << 12n);
        }),
        { seed: 0x1c0, numRuns: 25 },
      );
      finish(pt);
    });
  }

  it("a new table is flushed before the entry that links it", () => {
    const mem = new PhysMem({ base: 0x10_0000n, size: MEM });
    const events: string[] = [];
    const pt = createPageTable(mock64(), {
      mem,
      features: { incoherent: true },
      driver: { cacheFlush: (pa, len) => events.push(`${pa.toString(16)}+${len}`) },
    });
    const root = pt.info().root;
    events.length = 0;
    pt.map(0n, 0n, 0x1000n, Prot.READ);
    // Level-1 table (whole 4 KiB) before root slot 0; then the level-0 table before its parent slot.
    const l1 = root + 0x1000n;
    const l0 = root + 0x2000n;
    expect(events.slice(0, 4)).toEqual([
      `${l1.toString(16)}+4096`,
      `${root.toString(16)}+8`,
      `${l0.toString(16)}+4096`,
      `${l1.toString(16)}+8`,
    ]);
    expect(pt.allocator.isStillFlushing(Number(l0))).toBe(false);
    finish(pt);
  });
});

/** True when `pa` lies inside any live table (tables may be larger than 64 bytes). */
function liveContaining(
  pt: { allocator: { isLive(pa: number): boolean; sizeLg2Of(pa: number): number } },
  pa: number,
): boolean {
  for (let lg2 = 6; lg2 <= 20; lg2++) {
    const start = pa - (pa % 2 ** lg2);
    if (
      pt.allocator.isLive(start) &&
      pt.allocator.sizeLg2Of(start) >= lg2 &&
      start + 2 ** pt.allocator.sizeLg2Of(start) > pa
    )
      return true;
  }
  return false;
}
