// Known-answer encodings, bit by bit: every entry type (small, large, section, supersection) with the
// read-only, noexec, MMIO and CACHE prots (and PRIV, write-only), the L2 table pointer with and without
// NS, the MediaTek PA bits in leaves and (with TTBR_EXT) table pointers, and the driver-programmed TTBR,
// PRRR and NMRR. Expected values are ORs of the literal bit numbers of reference/formats.md §2.
import { PhysMem } from "@genpt/alloc";
import { expectPtError, finish, newTable } from "@genpt/conformance";
import { createPageTable, type PageTable, Prot, type WalkStep } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv7sAttrs, armv7s, armv7sWalker } from "../src/index.js";
import { bit, l1Entry, walk, word } from "./helpers.js";

const or = (...bits: number[]): number => bits.reduce((a, b) => (a | b) >>> 0, 0);

// §2.2 type bits and §2.3 attribute positions, per entry type.
const SMALL = {
  type: bit(1),
  xn: bit(0),
  b: bit(2),
  c: bit(3),
  af: bit(4),
  ap1: bit(5),
  tex0: bit(6),
  ap2: bit(9),
  s: bit(10),
  ng: bit(11),
};
// §2.4: a large page is type 01 with XN moved to bit 15 and TEX to [14:12].
const LARGE = {
  type: bit(0),
  xn: bit(15),
  b: bit(2),
  c: bit(3),
  af: bit(4),
  ap1: bit(5),
  tex0: bit(12),
  ap2: bit(9),
  s: bit(10),
  ng: bit(11),
};
const SECTION = {
  type: bit(1),
  xn: bit(4),
  b: bit(2),
  c: bit(3),
  af: bit(10),
  ap1: bit(11),
  tex0: bit(12),
  ap2: bit(15),
  s: bit(16),
  ng: bit(17),
};
const SUPERSECTION_FLAG = bit(18); // §2.4: supersection = section | bit 18
const SECTION_NS = bit(19);
const TABLE_TYPE = bit(0); // §2.2: L1 01 = pointer to an L2 table
const TABLE_NS = bit(3); // §2.5: NSTable with ARM_NS
const MTK_PA32 = bit(9); // §2.3: MTK PA bits 32/33/34 in bits 9/4/5
const MTK_PA33 = bit(4);
const MTK_PA34 = bit(5);

type Fields = typeof SMALL;

/**
 * §2.5, per prot: nG and S always; TEX = 001 unless MMIO; AF always; AP1 unless PRIV; AP2 whenever WRITE is
 * absent; XN for NOEXEC; B for MMIO, B|C for CACHE.
 */
const CASES: Array<{ name: string; prot: number; bits: (f: Fields) => number }> = [
  { name: "read-only", prot: Prot.READ, bits: (f) => or(f.ng, f.s, f.tex0, f.af, f.ap1, f.ap2) },
  {
    name: "noexec",
    prot: Prot.READ | Prot.WRITE | Prot.NOEXEC,
    bits: (f) => or(f.ng, f.s, f.tex0, f.af, f.ap1, f.xn),
  },
  { name: "MMIO", prot: Prot.READ | Prot.WRITE | Prot.MMIO, bits: (f) => or(f.ng, f.s, f.af, f.ap1, f.b) },
  {
    name: "CACHE",
    prot: Prot.READ | Prot.WRITE | Prot.CACHE,
    bits: (f) => or(f.ng, f.s, f.tex0, f.af, f.ap1, f.b, f.c),
  },
  {
    name: "PRIV (AP1 clear)",
    prot: Prot.READ | Prot.WRITE | Prot.PRIV,
    bits: (f) => or(f.ng, f.s, f.tex0, f.af),
  },
  // Write-only is impossible: without READ the entry is read-write, as in Linux.
  { name: "write-only", prot: Prot.WRITE, bits: (f) => or(f.ng, f.s, f.tex0, f.af, f.ap1) },
  // MMIO wins over CACHE: TEX 000 and B only.
  {
    name: "MMIO|CACHE",
    prot: Prot.READ | Prot.MMIO | Prot.CACHE,
    bits: (f) => or(f.ng, f.s, f.af, f.ap1, f.ap2, f.b),
  },
];

/** The raw L2 entry translating `iova` (its L1 entry must be a table pointer). */
function l2Entry(pt: PageTable<unknown>, iova: bigint): number {
  const table = BigInt((l1Entry(pt, iova) & 0xfffffc00) >>> 0);
  return word(pt, table + ((iova >> 12n) & 0xffn) * 4n);
}

/** Every item of a 16-copy entry holds the same value (§2.4). */
function expectReplicated(pt: PageTable<unknown>, firstItemPa: bigint, value: number): void {
  for (let i = 0n; i < 16n; i++) expect(word(pt, firstItemPa + i * 4n)).toBe(value);
}

describe.each(CASES)("$name", ({ prot, bits }) => {
  test("small page: address [31:12] | attributes at [11:4] | XN bit 0 | type 1x", () => {
    const pt = newTable(armv7s());
    pt.map(0x10_3000n, 0x1234_5000n, 0x1000n, prot);
    const e = l2Entry(pt, 0x10_3000n);
    expect(e).toBe(or(0x1234_5000, SMALL.type, bits(SMALL)));
    roundTrip(pt, e, 0x12345, 12, 0);
    checkWalker(pt, 0x10_3abcn, 0x1234_5abcn, prot, 12);
    finish(pt);
  });

  test("large page: address [31:16] | TEX at [14:12] | XN bit 15 | type 01, 16 copies", () => {
    const pt = newTable(armv7s());
    pt.map(0x20_0000n, 0x4567_0000n, 0x1_0000n, prot);
    const e = l2Entry(pt, 0x20_0000n);
    expect(e).toBe(or(0x4567_0000, LARGE.type, bits(LARGE)));
    const table = BigInt((l1Entry(pt, 0x20_0000n) & 0xfffffc00) >>> 0);
    expectReplicated(pt, table, e);
    roundTrip(pt, e, 0x45670, 16, 0);
    checkWalker(pt, 0x20_fffcn, 0x4567_fffcn, prot, 16);
    finish(pt);
  });

  test("section: address [31:20] | attributes at [17:10] | XN bit 4 | type 10", () => {
    const pt = newTable(armv7s());
    pt.map(0x30_0000n, 0x89a0_0000n, 0x10_0000n, prot);
    const e = l1Entry(pt, 0x30_0000n);
    expect(e).toBe(or(0x89a0_0000, SECTION.type, bits(SECTION)));
    roundTrip(pt, e, 0x89a00, 20, 1);
    checkWalker(pt, 0x3f_0000n, 0x89af_0000n, prot, 20);
    finish(pt);
  });

  test("supersection: address [31:24] | section attributes | bit 18, 16 copies", () => {
    const pt = newTable(armv7s({ supersections: true }));
    pt.map(0x100_0000n, 0xab00_0000n, 0x100_0000n, prot);
    const e = l1Entry(pt, 0x100_0000n);
    expect(e).toBe(or(0xab00_0000, SECTION.type, SUPERSECTION_FLAG, bits(SECTION)));
    expectReplicated(pt, pt.info().root + 16n * 4n, e);
    roundTrip(pt, e, 0xab000, 24, 1);
    checkWalker(pt, 0x1ff_fff0n, 0xabff_fff0n, prot, 24);
    finish(pt);
  });
});

/** attrsFromEntry must undo the per-type placement exactly, so that reinstalling is bit-identical. */
function roundTrip(pt: PageTable<unknown>, e: number, oa: number, sizeLg2: number, level: number): void {
  const fmt = pt.format as ReturnType<typeof armv7s>;
  const a: Armv7sAttrs = fmt.attrsFromEntry(e, 0, level);
  expect(fmt.leafLo(oa, sizeLg2, level, a)).toBe(e);
  expect(fmt.leafOa(e, 0, level)).toBe(oa);
  expect(fmt.leafLg2(e, 0, level)).toBe(sizeLg2);
}

/** The hardware walker reads the same entry: address, size, AP2 against writes, XN against fetches. */
function checkWalker(pt: PageTable<unknown>, iova: bigint, pa: bigint, prot: number, pageLg2: number): void {
  expect(pt.iovaToPhys(iova)).toBe(pa);
  const r = walk(pt, iova, "read");
  expect(r).toMatchObject({ ok: true, pa, pageLg2, write: (prot & Prot.WRITE) !== 0 });
  const w = walk(pt, iova, "write");
  if (prot & Prot.WRITE) expect(w.ok).toBe(true);
  else expect(w).toMatchObject({ ok: false, kind: "permission" });
  const x = walk(pt, iova, "exec");
  if (prot & Prot.NOEXEC) expect(x).toMatchObject({ ok: false, kind: "permission" });
  else expect(x.ok).toBe(true);
  // PRIV clears AP1: an unprivileged access is refused, a privileged one is not.
  const u = walk(pt, iova, "read", { unprivileged: true });
  if (prot & Prot.PRIV) expect(u).toMatchObject({ ok: false, kind: "permission" });
  else expect(u.ok).toBe(true);
}

describe("L2 table pointer", () => {
  test("without NS: the 1 KiB-aligned table PA | type 01", () => {
    const pt = newTable(armv7s());
    pt.map(0x50_1000n, 0x1000n, 0x1000n, Prot.READ);
    const e = l1Entry(pt, 0x50_1000n);
    const table = (e & 0xfffffc00) >>> 0;
    expect(table % 1024).toBe(0);
    // The first L2 table comes right after the 16 KiB L1 table at the base of memory.
    expect(table).toBe(0x8000_4000);
    expect(e).toBe(or(table, TABLE_TYPE));
    // The walker reads the L1 table, then this L2 table, and uses the entry at index 1 of it.
    const steps: WalkStep[] = [];
    const r = armv7sWalker().translate(
      pt.mem,
      { root: 0x8000_0000n, topLevel: 1, accessDirty: true },
      0x50_1008n,
      "read",
      steps,
    );
    expect(steps).toEqual([
      { level: 1, table: 0x8000_0000n },
      { level: 0, table: 0x8000_4000n },
    ]);
    expect(r).toMatchObject({ ok: true, pa: 0x1008n, level: 0, pteAddr: 0x8000_4004n, dirty: false });
    finish(pt);
  });

  test("with NS: NSTable (bit 3) on the pointer and NS (bit 19) on sections", () => {
    const pt = newTable(armv7s({ ns: true, supersections: true }));
    pt.map(0x50_1000n, 0x1000n, 0x1000n, Prot.READ | Prot.WRITE);
    pt.map(0x60_0000n, 0x60_0000n, 0x10_0000n, Prot.READ | Prot.WRITE);
    pt.map(0x100_0000n, 0x100_0000n, 0x100_0000n, Prot.READ | Prot.WRITE);
    expect(l1Entry(pt, 0x50_1000n)).toBe(or(0x8000_4000, TABLE_TYPE, TABLE_NS));
    const rw = (f: typeof SECTION) => or(f.ng, f.s, f.tex0, f.af, f.ap1);
    expect(l1Entry(pt, 0x60_0000n)).toBe(or(0x60_0000, SECTION.type, rw(SECTION), SECTION_NS));
    expect(l1Entry(pt, 0x100_0000n)).toBe(
      or(0x100_0000, SECTION.type, rw(SECTION), SECTION_NS, SUPERSECTION_FLAG),
    );
    // §2.5: NS is an L1-leaf bit only; small pages are unchanged.
    expect(l2Entry(pt, 0x50_1000n)).toBe(or(0x1000, SMALL.type, rw(SMALL)));
    finish(pt);
  });
});

describe("MediaTek extension (mtkExt + noPerms): ias 34, oas 35, PA[34:32] in bits 9/4/5", () => {
  const fmt = () => armv7s({ mtkExt: true, noPerms: true, supersections: true });
  // NO_PERMS: no AF, AP1, AP2 or XN; what is left of §2.5 for READ|WRITE is nG, S and TEX = 001.
  const plain = (f: Fields) => or(f.ng, f.s, f.tex0);

  test("geometry: a 64 KiB L1 table of 16384 entries, 34-bit VA, 35-bit OA", () => {
    const pt = newTable(fmt());
    const info = pt.info();
    expect(info.vaBits).toBe(34);
    expect(info.oaBits).toBe(35);
    expect(pt.allocator.stats().bySize).toEqual({ 16: 1 });
    finish(pt);
  });

  test.each([
    { pa: 0x1_0000_1000n, mtk: MTK_PA32 },
    { pa: 0x2_0000_1000n, mtk: MTK_PA33 },
    { pa: 0x4_0000_1000n, mtk: MTK_PA34 },
    { pa: 0x7_1234_5000n, mtk: or(MTK_PA32, MTK_PA33, MTK_PA34) },
  ])("small page at PA $pa", ({ pa, mtk }) => {
    const pt = newTable(fmt());
    const iova = 0x3_0000_7000n; // above 4 GiB: L1 index 0x3000 of 0x4000
    pt.map(iova, pa, 0x1000n, Prot.READ | Prot.WRITE);
    const e = l2Entry(pt, iova);
    expect(e).toBe(or(Number(pa & 0xfffff000n), SMALL.type, plain(SMALL), mtk));
    expect(pt.iovaToPhys(iova + 0x123n)).toBe(pa + 0x123n);
    expect(walk(pt, iova + 0x123n, "write", { mtkExt: true })).toMatchObject({
      ok: true,
      pa: pa + 0x123n,
      pageLg2: 12,
    });
    finish(pt);
  });

  test("large page at PA 0x3_abcd_0000: bits 9 and 4, TEX at [14:12]", () => {
    const pt = newTable(fmt());
    pt.map(0x1_0001_0000n, 0x3_abcd_0000n, 0x1_0000n, Prot.READ | Prot.WRITE);
    expect(l2Entry(pt, 0x1_0001_0000n)).toBe(or(0xabcd_0000, LARGE.type, plain(LARGE), MTK_PA32, MTK_PA33));
    expect(walk(pt, 0x1_0001_fff0n, "read", { mtkExt: true })).toMatchObject({
      ok: true,
      pa: 0x3_abcd_fff0n,
      pageLg2: 16,
    });
    finish(pt);
  });

  test("section at PA 0x5_0010_0000 and supersection at PA 0x6_0100_0000", () => {
    const pt = newTable(fmt());
    pt.map(0x2_0010_0000n, 0x5_0010_0000n, 0x10_0000n, Prot.READ | Prot.WRITE);
    pt.map(0x2_0100_0000n, 0x6_0100_0000n, 0x100_0000n, Prot.READ | Prot.WRITE);
    // 0x5 = PA bits 32 and 34 -> bits 9 and 5; 0x6 = PA bits 33 and 34 -> bits 4 and 5.
    expect(l1Entry(pt, 0x2_0010_0000n)).toBe(
      or(0x0010_0000, SECTION.type, plain(SECTION), MTK_PA32, MTK_PA34),
    );
    expect(l1Entry(pt, 0x2_0100_0000n)).toBe(
      or(0x0100_0000, SECTION.type, SUPERSECTION_FLAG, plain(SECTION), MTK_PA33, MTK_PA34),
    );
    expect(pt.iovaToPhys(0x2_001f_ffffn)).toBe(0x5_001f_ffffn);
    expect(pt.iovaToPhys(0x2_01ff_ffffn)).toBe(0x6_01ff_ffffn);
    expect(walk(pt, 0x2_001f_ffffn, "read", { mtkExt: true })).toMatchObject({
      ok: true,
      pa: 0x5_001f_ffffn,
      pageLg2: 20,
    });
    expect(walk(pt, 0x2_01ff_ffffn, "read", { mtkExt: true })).toMatchObject({
      ok: true,
      pa: 0x6_01ff_ffffn,
      pageLg2: 24,
    });
    finish(pt);
  });

  test("a run crossing PA 4 GiB switches to the MTK bits mid-run, at every entry size", () => {
    const pt = newTable(fmt());
    // 4 sections, 4 large pages and 4 small pages, each run straddling PA 0x1_0000_0000 in its middle.
    const runs = [
      { iova: 0x1000_0000n, pa: 0xffe0_0000n, size: 0x10_0000n },
      { iova: 0x2000_0000n, pa: 0xfffe_0000n, size: 0x1_0000n },
      { iova: 0x3000_0000n, pa: 0xffff_e000n, size: 0x1000n },
    ];
    for (const r of runs) {
      pt.map(r.iova, r.pa, 4n * r.size, Prot.READ | Prot.WRITE);
      for (let i = 0n; i < 4n; i++) {
        const pa = r.pa + i * r.size;
        const iova = r.iova + i * r.size;
        const raw = r.size === 0x10_0000n ? l1Entry(pt, iova) : l2Entry(pt, iova);
        expect((raw & MTK_PA32) !== 0).toBe(pa >= 1n << 32n);
        expect(pt.iovaToPhys(iova + 8n)).toBe(pa + 8n);
        expect(walk(pt, iova + 8n, "read", { mtkExt: true })).toMatchObject({ ok: true, pa: pa + 8n });
      }
    }
    finish(pt);
  });

  test("TTBR_EXT: table pointers and TTBR[2:0] carry PA[34:32] of tables above 4 GiB", () => {
    // Table memory at 0x5_0000_0000: PA bits 32 and 34 set, so bits 9 and 5 of every table pointer.
    const mem = new PhysMem({ base: 0x5_0000_0000n, size: 16n << 20n });
    const pt = createPageTable(armv7s({ mtkExt: true, ttbrExt: true, noPerms: true }), { mem });
    expect(pt.info().root).toBe(0x5_0000_0000n);
    pt.map(0x1000n, 0x2000n, 0x1000n, Prot.READ | Prot.WRITE);
    // The L2 table follows the 64 KiB L1 table: 0x5_0001_0000.
    expect(l1Entry(pt, 0x1000n)).toBe(or(0x0001_0000, TABLE_TYPE, MTK_PA32, MTK_PA34));
    expect(walk(pt, 0x1010n, "read", { mtkExt: true, ttbrExt: true })).toMatchObject({
      ok: true,
      pa: 0x2010n,
      pteAddr: 0x5_0001_0000n + 4n,
    });
    // §2.5 TTBR = PA | S(1) | NOS(5) | IRGN WBWA (bit 6) | ORGN WBWA (01 at [4:3]); TTBR_EXT then puts
    // PA[34:32] = 0b101 into bits [2:0], replacing S and IRGN[1].
    expect(pt.info().hw.ttbr).toBe(or(bit(5), bit(6), bit(3), 0b101));
    finish(pt);
  });
});

describe("driver-programmed registers (§2.5)", () => {
  test("TTBR for a coherent and a non-coherent walker, PRRR, NMRR", () => {
    const pt = newTable(armv7s());
    const hw = pt.info().hw;
    expect(pt.info().root).toBe(0x8000_0000n);
    // Coherent: L1 PA | S (bit 1) | NOS (bit 5) | IRGN = WBWA (01: bit 6 = IRGN[0], bit 0 = IRGN[1] = 0)
    // | ORGN = WBWA (01 at [4:3], so bit 3).
    expect(hw.ttbr).toBe(or(0x8000_0000, bit(1), bit(5), bit(6), bit(3)));
    // Non-coherent: L1 PA | S, IRGN = ORGN = 00 (non-cacheable).
    expect(hw.ttbrNoncoherent).toBe(or(0x8000_0000, bit(1)));
    expect(hw.tcr).toBe(0);
    // PRRR: TR1 = 01 Device at [3:2], TR4 = 10 Normal at [9:8], TR7 = 10 Normal at [15:14],
    // DS0 (16), DS1 (17), NS1 (19), NOS7 (24 + 7).
    expect(hw.prrr).toBe(or(bit(2), bit(9), bit(15), bit(16), bit(17), bit(19), bit(31)));
    // NMRR: IR7 = 01 WBWA at [15:14], OR7 = 01 WBWA at [31:30].
    expect(hw.nmrr).toBe(or(bit(14), bit(30)));
    finish(pt);
  });

  test("page sizes: 4K/64K/1M, and 16M only with supersections; no dirty tracking", () => {
    const plain = newTable(armv7s());
    expect(plain.info().pgsizes).toEqual([0x1000n, 0x1_0000n, 0x10_0000n]);
    expect(plain.info().topLevel).toBe(1);
    expect(plain.info().entryBytes).toBe(4);
    expect(plain.info().dirtyTracking).toBe(false);
    // The L1 table is 16 KiB (4096 entries of 4 bytes).
    expect(plain.allocator.stats().bySize).toEqual({ 14: 1 });
    plain.map(0n, 0n, 0x1000n, Prot.READ | Prot.WRITE);
    expectPtError(() => plain.readAndClearDirty(0n, 0x1000n), "EOPNOTSUPP", /dirty/);
    finish(plain);
    const sup = newTable(armv7s({ supersections: true }));
    expect(sup.info().pgsizes).toEqual([0x1000n, 0x1_0000n, 0x10_0000n, 0x100_0000n]);
    finish(sup);
  });

  test("without supersections a 16M range maps as 16 sections", () => {
    const pt = newTable(armv7s());
    pt.map(0x100_0000n, 0x100_0000n, 0x100_0000n, Prot.READ | Prot.WRITE);
    for (let i = 0n; i < 16n; i++) {
      const e = l1Entry(pt, 0x100_0000n + (i << 20n));
      expect(e & SUPERSECTION_FLAG).toBe(0);
      expect((e & 0xfff00000) >>> 0).toBe(Number(0x100_0000n + (i << 20n)));
    }
    finish(pt);
  });
});
