// Bad input, each a PtError with the right code and nothing changed (raw memory hash and allocator stats):
// an IOVA beyond ias (32, or 34 with MTK), a PA beyond oas (32, or 35 with MTK), invalid configurations
// (mtkExt without noPerms, ttbrExt without mtkExt, non-boolean or unknown options), and tables that
// would sit above 4 GiB without TTBR_EXT (or above 2^35 with it).
import { LevelAllocator, PhysMem } from "@genpt/alloc";
import { expectPtError, expectUnchanged, finish, newMem, newTable } from "@genpt/conformance";
import { createPageTable, type PageTable, Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv7sConfig, armv7s } from "../src/index.js";
import { l1Entry, walk } from "./helpers.js";

const RW = Prot.READ | Prot.WRITE;

/** A table with something in it, so that an unchanged hash means something. */
function populated(config: Armv7sConfig = {}): PageTable<unknown> {
  const pt = newTable(armv7s(config));
  pt.map(0x10_0000n, 0x20_0000n, 0x1_1000n, RW);
  return pt;
}

describe("IOVA beyond ias", () => {
  test("ias 32: 4 GiB and a range running past it are ERANGE", () => {
    const pt = populated();
    expectUnchanged(pt, () => pt.map(1n << 32n, 0n, 0x1000n, RW), "ERANGE", /aperture/);
    expectUnchanged(pt, () => pt.map(0xffff_f000n, 0n, 0x2000n, RW), "ERANGE", /past the end/);
    expectUnchanged(pt, () => pt.unmap(1n << 32n, 0x1000n), "ERANGE");
    expect(pt.iovaToPhys(1n << 32n)).toBeUndefined();
    // The walker refuses the same input as an address-size fault.
    expect(walk(pt, 1n << 32n)).toMatchObject({ ok: false, kind: "address-size" });
    pt.map(0xffff_f000n, 0x1000n, 0x1000n, RW);
    expect(pt.iovaToPhys(0xffff_ffffn)).toBe(0x1fffn);
    finish(pt);
  });

  test("ias 34 with MTK: 2^34 is ERANGE, the last page below it maps", () => {
    const pt = populated({ mtkExt: true, noPerms: true });
    expectUnchanged(pt, () => pt.map(1n << 34n, 0n, 0x1000n, RW), "ERANGE");
    const last = (1n << 34n) - 0x1000n;
    pt.map(last, 0x7_ffff_f000n, 0x1000n, RW);
    expect(pt.iovaToPhys(last + 0xabcn)).toBe(0x7_ffff_fabcn);
    expect(walk(pt, last + 0xabcn, "read", { mtkExt: true })).toMatchObject({ ok: true, pa: 0x7_ffff_fabcn });
    expect(walk(pt, 1n << 34n, "read", { mtkExt: true })).toMatchObject({ ok: false, kind: "address-size" });
    finish(pt);
  });
});

describe("PA beyond oas", () => {
  test("oas 32: a PA at or running past 4 GiB is ERANGE", () => {
    const pt = populated();
    expectUnchanged(pt, () => pt.map(0x100_0000n, 1n << 32n, 0x1000n, RW), "ERANGE", /32-bit output/);
    expectUnchanged(pt, () => pt.map(0x100_0000n, 0xffff_f000n, 0x2000n, RW), "ERANGE");
    expectUnchanged(pt, () => pt.map(0x100_0000n, 0xfff0_0000n, 0x20_0000n, RW), "ERANGE");
    finish(pt);
  });

  test("oas 35 with MTK: 2^35 is ERANGE, the last page below it maps", () => {
    const pt = populated({ mtkExt: true, noPerms: true, supersections: true });
    expectUnchanged(pt, () => pt.map(0x100_0000n, 1n << 35n, 0x1000n, RW), "ERANGE", /35-bit output/);
    expectUnchanged(pt, () => pt.map(0x100_0000n, (1n << 35n) - 0x100_0000n, 0x200_0000n, RW), "ERANGE");
    pt.map(0x100_0000n, (1n << 35n) - 0x100_0000n, 0x100_0000n, RW);
    expect(pt.iovaToPhys(0x1ff_ffffn)).toBe((1n << 35n) - 1n);
    finish(pt);
  });
});

describe("invalid configuration (EINVAL, nothing allocated)", () => {
  test.each([
    { config: { mtkExt: true }, msg: /mtkExt requires noPerms/ },
    { config: { mtkExt: true, ttbrExt: true }, msg: /mtkExt requires noPerms/ },
    { config: { ttbrExt: true, noPerms: true }, msg: /ttbrExt requires mtkExt/ },
    { config: { supersections: 1 }, msg: /supersections = 1 must be a boolean/ },
    { config: { mtk: true }, msg: /unknown option "mtk"/ },
  ])("armv7s($config)", ({ config, msg }) => {
    const mem = newMem();
    const alloc = LevelAllocator.for(mem);
    const before = { hash: mem.hash(), stats: alloc.stats() };
    expectPtError(() => createPageTable(armv7s(config as Armv7sConfig), { mem }), "EINVAL", msg);
    expect({ hash: mem.hash(), stats: alloc.stats() }).toEqual(before);
  });
});

describe("tables above 4 GiB without TTBR_EXT", () => {
  test("createPageTable in memory wholly above 4 GiB is ENOMEM naming the 4 GiB constraint", () => {
    const mem = new PhysMem({ base: 0x1_0000_0000n, size: 16n << 20n });
    const alloc = LevelAllocator.for(mem);
    const before = { hash: mem.hash(), stats: alloc.stats() };
    expectPtError(() => createPageTable(armv7s(), { mem }), "ENOMEM", /below 4 GiB/);
    expect({ hash: mem.hash(), stats: alloc.stats() }).toEqual(before);
    alloc.assertNoLeaks();
  });

  test("an L2 table that only fits above 4 GiB fails the map, and changes nothing", () => {
    // 16 KiB below 4 GiB (just the L1 table), the rest above.
    const mem = new PhysMem({ base: 0xffff_c000n, size: 1n << 20n });
    const pt = createPageTable(armv7s(), { mem });
    expect(pt.info().root).toBe(0xffff_c000n);
    pt.map(0x10_0000n, 0x10_0000n, 0x10_0000n, RW); // a section needs no L2 table
    expectUnchanged(pt, () => pt.map(0x1000n, 0x1000n, 0x1000n, RW), "ENOMEM", /below 4 GiB/);
    expect(pt.iovaToPhys(0x1000n)).toBeUndefined();
    finish(pt);
  });

  test("with TTBR_EXT memory above 4 GiB serves: table pointers carry PA bit 32 in bit 9", () => {
    const mem = new PhysMem({ base: 0x1_0000_0000n, size: 16n << 20n });
    const pt = createPageTable(armv7s({ mtkExt: true, ttbrExt: true, noPerms: true }), { mem });
    expect(pt.info().root).toBe(0x1_0000_0000n);
    pt.map(0x1000n, 0x1000n, 0x1000n, RW);
    // §2.2/§2.3: the L2 table after the 64 KiB L1 table, 0x1_0001_0000: low bits | type 01 | bit 9 (PA 32).
    expect(l1Entry(pt, 0x1000n)).toBe((0x0001_0000 | 1 | (1 << 9)) >>> 0);
    expect(walk(pt, 0x1234n, "read", { mtkExt: true, ttbrExt: true })).toMatchObject({
      ok: true,
      pa: 0x1234n,
    });
    finish(pt);
  });

  test("with TTBR_EXT an L1 table beyond 2^35 cannot be pointed to: createPageTable is ENOMEM, nothing changed", () => {
    const mem = new PhysMem({ base: 1n << 35n, size: 1n << 20n });
    const alloc = LevelAllocator.for(mem);
    const before = { hash: mem.hash(), stats: alloc.stats() };
    const cfg = { mtkExt: true, ttbrExt: true, noPerms: true };
    expectPtError(() => createPageTable(armv7s(cfg), { mem }), "ENOMEM", /2\^35/);
    expect({ hash: mem.hash(), stats: alloc.stats() }).toEqual(before);
    alloc.assertNoLeaks();
  });

  test("with TTBR_EXT an L2 table that only fits beyond 2^35 fails the map, and changes nothing", () => {
    // 64 KiB below 2^35 (just the L1 table), the rest above.
    const mem = new PhysMem({ base: (1n << 35n) - 0x1_0000n, size: 1n << 20n });
    const pt = createPageTable(armv7s({ mtkExt: true, ttbrExt: true, noPerms: true }), { mem });
    expect(pt.info().root).toBe((1n << 35n) - 0x1_0000n);
    pt.map(0x10_0000n, 0x10_0000n, 0x10_0000n, RW); // a section needs no L2 table
    expectUnchanged(pt, () => pt.map(0x1000n, 0x1000n, 0x1000n, RW), "ENOMEM", /2\^35/);
    expect(pt.iovaToPhys(0x1000n)).toBeUndefined();
    finish(pt);
  });
});
