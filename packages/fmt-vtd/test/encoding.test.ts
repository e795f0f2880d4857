// Known-answer encodings: every expected entry is built here from literal bit positions of
// reference/formats.md §4, never from the format's constants.
import { expectOneLeaf, expectUnchanged, finish, GiB, KiB, MiB, newTable, rawAt } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

// §4.2 entry bits.
const R = 1n << 0n;
const W = 1n << 1n;
const PS = 1n << 7n; // SS-PDE / SS-PDPE maps a page
const SNP = 1n << 11n; // snoop, leaf only
const ADDR = ((1n << 52n) - 1n) & ~0xfffn; // bits [51:12]

const sizes = [
  // SS-PTE (level 0): the page address and the permissions; bit 7 is not PS here.
  { name: "4K", size: 4n * KiB, iova: 0x1000n, pa: 0x12_3456_7000n, level: 0, ps: 0n },
  // SS-PDE (level 1) with PS: a 2M page, address bits [20:12] zero.
  { name: "2M", size: 2n * MiB, iova: 0x20_0000n, pa: 0x12_3460_0000n, level: 1, ps: PS },
  // SS-PDPE (level 2) with PS: a 1G page, address bits [29:12] zero.
  { name: "1G", size: GiB, iova: 0x4000_0000n, pa: 0x12_4000_0000n, level: 2, ps: PS },
];

// §4.3 (generic_pt): R if READ, W if WRITE, and no forced R: a write-only leaf has bit 0 clear.
const prots = [
  { name: "R", prot: Prot.READ, perm: R },
  { name: "W", prot: Prot.WRITE, perm: W },
  { name: "R|W", prot: Prot.READ | Prot.WRITE, perm: R | W },
];

describe("vtdss leaf encodings (§4.2, §4.3)", () => {
  for (const s of sizes) {
    for (const p of prots) {
      for (const snp of [false, true]) {
        test(`${s.name} ${p.name}${snp ? " SNP" : ""}`, () => {
          const pt = newTable(vtdss({ vaBits: 48, forceCoherence: snp }));
          pt.map(s.iova, s.pa, s.size, p.prot);
          // §4.3: page | PS above level 0 | R/W from prot | SNP with forceCoherence.
          const expected = s.pa | s.ps | p.perm | (snp ? SNP : 0n);
          expect(rawAt(pt, s.iova, s.level)).toBe(expected);
          // One leaf in the census, and the hardware walker decodes the same page from the raw entry.
          expectOneLeaf(pt, vtdssWalker(), { ...s, prot: p.prot });
          finish(pt);
        });
      }
    }
  }

  test("CACHE, NOEXEC, MMIO and PRIV are ignored", () => {
    const pt = newTable(vtdss({ vaBits: 39 }));
    pt.map(
      0x1000n,
      0x5000n,
      4n * KiB,
      Prot.READ | Prot.WRITE | Prot.CACHE | Prot.NOEXEC | Prot.MMIO | Prot.PRIV,
    );
    // §4.3: R | W | page 0x5000, exactly as for plain READ|WRITE.
    expect(rawAt(pt, 0x1000n, 0)).toBe(0x5000n | R | W);
    finish(pt);
  });

  test("a table entry is R | W and the table address: no SNP and no PS, even with forceCoherence", () => {
    const pt = newTable(vtdss({ vaBits: 57, forceCoherence: true }));
    pt.map(0x1000n, 0x5000n, 4n * KiB, Prot.READ);
    for (const level of [4, 3, 2, 1]) {
      const e = rawAt(pt, 0x1000n, level);
      expect(e & ~ADDR, `level ${level}`).toBe(R | W);
      expect(pt.allocator.ownerOf(Number(e & ADDR))).toBe(pt.owner);
    }
    finish(pt);
  });

  test("forceWriteable rejects read-only maps (erratum 772415_SPR17) and nothing changes", () => {
    const pt = newTable(vtdss({ vaBits: 48, forceWriteable: true }));
    pt.map(0x1000n, 0x5000n, 4n * KiB, Prot.WRITE);
    expectUnchanged(pt, () => pt.map(0x2000n, 0x6000n, 4n * KiB, Prot.READ), "EINVAL", /772415/);
    pt.map(0x2000n, 0x6000n, 4n * KiB, Prot.READ | Prot.WRITE);
    // W | page, and R | W | page.
    expect(rawAt(pt, 0x1000n, 0)).toBe(0x5000n | W);
    expect(rawAt(pt, 0x2000n, 0)).toBe(0x6000n | R | W);
    finish(pt);
  });
});

describe("depth and info() (§4.1)", () => {
  for (const c of [
    { vaBits: 39 as const, topLevel: 2, aw: 1 },
    { vaBits: 48 as const, topLevel: 3, aw: 2 },
    { vaBits: 57 as const, topLevel: 4, aw: 3 },
  ]) {
    test(`${c.vaBits}-bit VA: ${c.topLevel + 1} levels, AW ${c.aw}`, () => {
      const pt = newTable(vtdss({ vaBits: c.vaBits }));
      const info = pt.info();
      expect(info.topLevel).toBe(c.topLevel);
      expect(info.vaBits).toBe(c.vaBits);
      expect(info.oaBits).toBe(52);
      expect(info.hw).toEqual({ ssptptr: info.root, aw: c.aw });
      expect(info.aw).toBe(c.aw);
      expect(info.pgsizes).toEqual([4n * KiB, 2n * MiB, GiB]);
      expect(info.features.dynamicTop).toBe(false);
      // A full 4 KiB top table, 4 KiB aligned for SSPTPTR.
      expect(info.root & 0xfffn).toBe(0n);
      finish(pt);
    });
  }
});
