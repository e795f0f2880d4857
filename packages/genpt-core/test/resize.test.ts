// The resize API at the core's edge: argument checks for cut, splitBlocks, mergePages and the dirty-log
// session (each a PtError that changes nothing), batching into a caller's gather, RCU freeing of merged
// tables, and a dirty-log session refused on a format without dirty tracking.
import { createPageTable, mock32, mock64, Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { fingerprint, finish, newTable, ptErrorOf } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;
const MiB = 1n << 20n;

describe("resize argument checks", () => {
  const cases: Array<[string, (pt: ReturnType<typeof newTable>) => unknown, string, RegExp]> = [
    ["cut at an unaligned iova", (pt) => pt.cut(0x20_0800n), "EINVAL", /cut: iova 0x200800/],
    ["cut with a number", (pt) => pt.cut(0x20_0000 as unknown as bigint), "EINVAL", /cut: iova/],
    ["split of size 0", (pt) => pt.splitBlocks(0x20_0000n, 0n), "EINVAL", /splitBlocks: size 0x0/],
    ["split of an unaligned size", (pt) => pt.splitBlocks(0x20_0000n, 0x800n), "EINVAL", /splitBlocks: size/],
    ["merge past the aperture", (pt) => pt.mergePages(0n, 1n << 60n), "ERANGE", /mergePages/],
    [
      "merge with an unknown dirty mode",
      (pt) => pt.mergePages(0n, 2n * MiB, { dirty: "keep" as "carry" }),
      "EINVAL",
      /mergePages: dirty keep is not "refuse" or "carry"/,
    ],
    [
      "startDirtyLog of size 0",
      (pt) => pt.startDirtyLog(0n, 0n, { split: true }),
      "EINVAL",
      /startDirtyLog: size/,
    ],
  ];
  test.each(cases)("%s", (_name, fn, code, message) => {
    const pt = newTable(mock64());
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, RW);
    const before = fingerprint(pt);
    const e = ptErrorOf(() => fn(pt));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(fingerprint(pt)).toEqual(before);
    finish(pt);
  });

  test("a destroyed table refuses every resize call", () => {
    const pt = newTable(mock64());
    pt.destroy();
    for (const fn of [
      () => pt.cut(0n),
      () => pt.splitBlocks(0n, 2n * MiB),
      () => pt.mergePages(0n, 2n * MiB),
      () => pt.startDirtyLog(0n, 2n * MiB),
      () => pt.stopDirtyLog(0n, 2n * MiB),
    ])
      expect(ptErrorOf(fn)).toMatchObject({ code: "EINVAL", message: expect.stringMatching(/destroyed/) });
  });

  test("a format without dirty tracking refuses the session, and still splits and merges", () => {
    // mock32 with its D bit taken away: a 4-byte format with per-item-OA contiguous leaves and no dirty.
    const pt = newTable({ ...mock32(), dirty: undefined });
    expect(pt.info().dirtyTracking).toBe(false);
    pt.map(0n, 0x100_0000n, 4n * MiB, RW);
    const before = fingerprint(pt);
    expect(ptErrorOf(() => pt.startDirtyLog(0n, 4n * MiB, { split: true })).code).toBe("EOPNOTSUPP");
    expect(ptErrorOf(() => pt.stopDirtyLog(0n, 4n * MiB, { merge: true })).code).toBe("EOPNOTSUPP");
    expect(fingerprint(pt)).toEqual(before);
    const split = pt.splitBlocks(0n, 4n * MiB);
    expect(split.entries).toBeGreaterThan(0);
    expect(pt.mergePages(0n, 4n * MiB).tables).toBe(split.tables);
    expect(pt.iovaToPhys(0x12_3456n)).toBe(0x112_3456n);
    finish(pt);
  });
});

describe("gathers", () => {
  test("split and merge batch into the caller's gather: one flush, tables freed only at sync", () => {
    const flushes: Array<{ ranges: readonly unknown[]; tablesFreed: boolean }> = [];
    const pt = newTable(mock64(), { driver: { flush: (r) => flushes.push(r) } });
    expect(pt.format.resize).toBe("break-before-make");
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, RW);
    pt.map(0x40_0000n, 0x60_0000n, 2n * MiB, RW);
    flushes.length = 0;
    const g = pt.newGather();
    pt.splitBlocks(0x20_0000n, 4n * MiB, { gather: g });
    // Break-before-make invalidates each block before its pieces go in: one flush per block, leaf only.
    expect(flushes.map((f) => f.tablesFreed)).toEqual([false, false]);
    expect(g.ranges).toEqual([{ iova: 0x20_0000n, size: 4n * MiB }]);
    const live = pt.allocator.stats().liveTables;
    pt.mergePages(0x20_0000n, 4n * MiB, { gather: g });
    // The merged tables stay allocated (the IOTLB may still walk them) until the gather syncs.
    expect(pt.allocator.stats().liveTables).toBe(live);
    flushes.length = 0;
    g.sync();
    expect(flushes).toEqual([{ ranges: [{ iova: 0x20_0000n, size: 4n * MiB }], tablesFreed: true }]);
    expect(pt.allocator.stats().liveTables).toBe(live - 2);
    finish(pt);
  });

  test("with rcuFree, merged tables wait for a grace period", () => {
    const pt = newTable(mock64(), { features: { rcuFree: true } });
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, RW);
    const live = pt.allocator.stats().liveTables;
    pt.splitBlocks(0x20_0000n, 2n * MiB);
    expect(pt.allocator.stats().liveTables).toBe(live + 1);
    pt.mergePages(0x20_0000n, 2n * MiB);
    expect(pt.allocator.stats().rcuPending).toBe(1);
    pt.allocator.rcu.synchronize();
    expect(pt.allocator.stats().liveTables).toBe(live);
    finish(pt);
  });

  test("a replacing format writes over the live entry: no flush before the pieces are in", () => {
    const seen: bigint[] = [];
    const fmt = { ...mock64(), resize: "replace" as const };
    const pt = createPageTable(fmt, {
      mem: newTable(mock64()).mem,
      driver: { flush: () => seen.push(pt.iovaToPhys(0x20_1000n) ?? -1n) },
    });
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, RW);
    seen.length = 0;
    pt.splitBlocks(0x20_0000n, 2n * MiB);
    expect(seen).toEqual([0x40_1000n]);
    finish(pt);
  });
});
