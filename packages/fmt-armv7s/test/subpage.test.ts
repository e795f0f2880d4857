// Sub-page tables: 1 KiB L2 tables, four to a 4 KiB frame (reference/formats.md §2.1), through the
// allocator's sub-page allocation. Four share one frame; unmapping them all gives the frame back once the
// gather is synced; and over random sequences no L2 table ever overlaps another or the L1 table.
import { finish, newTable } from "@genpt/conformance";
import { type PageTable, Prot } from "@genpt/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { armv7s } from "../src/index.js";
import { word } from "./helpers.js";

const SZ_1M = 0x10_0000n;

/** PAs of every L2 table the L1 table points to, read from raw memory. */
function l2Tables(pt: PageTable<unknown>): number[] {
  const root = pt.info().root;
  const out: number[] = [];
  for (let i = 0n; i < 4096n; i++) {
    const e = word(pt, root + i * 4n);
    if ((e & 3) === 1) out.push((e & 0xfffffc00) >>> 0);
  }
  return out;
}

test("four L2 tables share one 4 KiB frame; a fifth takes a new one", () => {
  const pt = newTable(armv7s());
  for (let i = 0n; i < 4n; i++)
    pt.map(i * SZ_1M, 0x4000_0000n + i * 0x1000n, 0x1000n, Prot.READ | Prot.WRITE);
  const tables = l2Tables(pt);
  expect(tables).toHaveLength(4);
  expect(new Set(tables).size).toBe(4);
  for (const t of tables) expect(t % 1024).toBe(0);
  expect(new Set(tables.map((t) => Math.floor(t / 4096))).size).toBe(1);
  // One frame holds the 16 KiB L1 table (counted once), one the four 1 KiB L2 tables.
  let stats = pt.allocator.stats();
  expect(stats.bySize).toEqual({ 10: 4, 14: 1 });
  expect(stats.frames).toBe(2);
  expect(stats.liveBytes).toBe(16384 + 4 * 1024);

  pt.map(4n * SZ_1M, 0x5000_0000n, 0x1000n, Prot.READ);
  const fifth = l2Tables(pt).find((t) => !tables.includes(t))!;
  expect(Math.floor(fifth / 4096)).not.toBe(Math.floor(tables[0]! / 4096));
  stats = pt.allocator.stats();
  expect(stats.frames).toBe(3);
  finish(pt);
});

test("unmapping all four gives the frame back, after the gather is synced", () => {
  const pt = newTable(armv7s());
  for (let i = 0n; i < 4n; i++) pt.map(i * SZ_1M + 0x5000n, 0x4000_0000n, 0x1000n, Prot.READ | Prot.WRITE);
  expect(pt.allocator.stats().frames).toBe(2);
  const gather = pt.newGather();
  // The range covers each 1M slot whole, so each emptied L2 table is unlinked and gathered.
  expect(pt.unmap(0n, 4n * SZ_1M, { gather })).toBe(4n * 0x1000n);
  expect(l2Tables(pt)).toEqual([]);
  // Until the IOTLB flush the tables stay allocated: the walker might still hold them.
  expect(pt.allocator.stats().bySize).toEqual({ 10: 4, 14: 1 });
  expect(pt.allocator.stats().frames).toBe(2);
  gather.sync();
  expect(pt.allocator.stats().bySize).toEqual({ 14: 1 });
  expect(pt.allocator.stats().frames).toBe(1);
  finish(pt);
});

test("a frame stays while any of its four tables lives", () => {
  const pt = newTable(armv7s());
  for (let i = 0n; i < 4n; i++) pt.map(i * SZ_1M, 0x4000_0000n, 0x1000n, Prot.READ | Prot.WRITE);
  for (let i = 0n; i < 3n; i++) pt.unmap(i * SZ_1M, SZ_1M);
  expect(pt.allocator.stats().bySize).toEqual({ 10: 1, 14: 1 });
  expect(pt.allocator.stats().frames).toBe(2);
  pt.unmap(3n * SZ_1M, SZ_1M);
  expect(pt.allocator.stats().frames).toBe(1);
  finish(pt);
});

type Op = { t: "map"; slot: number; page: number } | { t: "unmap"; slot: number };

test("no L2 table ever overlaps another or the L1 table (random sequences)", () => {
  const SLOTS = 24; // 1M slots in play
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ t: fc.constant("map" as const), slot: fc.nat(SLOTS - 1), page: fc.nat(255) }),
    fc.record({ t: fc.constant("unmap" as const), slot: fc.nat(SLOTS - 1) }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      const pt = newTable(armv7s());
      const root = Number(pt.info().root);
      try {
        for (const o of ops) {
          if (o.t === "map") {
            const iova = BigInt(o.slot) * SZ_1M + BigInt(o.page) * 0x1000n;
            if (pt.iovaToPhys(iova) === undefined) pt.map(iova, iova, 0x1000n, Prot.READ);
          } else {
            pt.unmap(BigInt(o.slot) * SZ_1M, SZ_1M);
          }
          const tables = l2Tables(pt).sort((a, b) => a - b);
          const stats = pt.allocator.stats();
          expect(stats.bySize[10] ?? 0).toBe(tables.length);
          for (let i = 0; i < tables.length; i++) {
            const t = tables[i]!;
            expect(t % 1024).toBe(0);
            expect(pt.allocator.isLive(t)).toBe(true);
            expect(pt.allocator.sizeLg2Of(t)).toBe(10);
            expect(t + 1024 <= root || t >= root + 16384).toBe(true);
            if (i > 0) expect(t).toBeGreaterThanOrEqual(tables[i - 1]! + 1024);
          }
          // Frames: the L1 table's, plus one per distinct 4 KiB frame holding L2 tables.
          expect(stats.frames).toBe(1 + new Set(tables.map((t) => Math.floor(t / 4096))).size);
        }
      } finally {
        finish(pt);
      }
    }),
    { seed: 0x1c0de, numRuns: 60 },
  );
});
