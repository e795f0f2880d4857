// Known answers for splitBlocks and mergePages on AMD v1 replicated PTEs: every expected entry is built
// from literal bit positions of reference/formats.md §3 (PR 0, A 5, D 6, NextLevel [11:9], address
// [51:12] with the §3.3 size marker, FC 60, IR 61, IW 62). The IOMMU may set A and D in one copy only (§3.5):
// a split gives every piece the OR of the copies, and a merge writes it into every copy.
import { finish, KiB, newTable, rawAt, walkCtx } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

const PR = 1n << 0n;
const A = 1n << 5n;
const D = 1n << 6n;
const NL = (n: bigint) => n << 9n;
const FC = 1n << 60n; // force coherent: on by default, as the AMD driver always sets it
const IR = 1n << 61n;
const IW = 1n << 62n;

describe("resize known answers", () => {
  test("a 64K entry (16 copies) written in one copy splits into 16 PTEs with A and D, and merges back", () => {
    const pt = newTable(amdv1());
    expect(pt.format.resize).toBe("replace");
    const iova = 0x10_0000n;
    const pa = 0x12_3450_0000n;
    pt.map(iova, pa, 64n * KiB, Prot.READ | Prot.WRITE);
    // 64K: NextLevel 7, address bits [14:12] = 111 and bit 15 = 0 (§3.3), in all 16 copies.
    const big = pa | 0x7000n | NL(7n) | PR | FC | IR | IW;
    for (let j = 0n; j < 16n; j++) expect(rawAt(pt, iova + j * 0x1000n, 0)).toBe(big);
    const w = amdv1Walker().translate(pt.mem, walkCtx(pt, true), iova + 0xb008n, "write");
    expect(w).toMatchObject({ ok: true });
    // Only the copy the walk used (slot 11) holds A and D.
    expect(rawAt(pt, iova + 0xb000n, 0)).toBe(big | A | D);
    expect(rawAt(pt, iova, 0)).toBe(big);

    expect(pt.splitBlocks(iova, 64n * KiB)).toEqual({ entries: 1, tables: 0 });
    for (let j = 0n; j < 16n; j++) {
      // 4K PTEs: NextLevel 0, the page's own address, IR IW, and A D ORed over the 16 copies.
      expect(rawAt(pt, iova + j * 0x1000n, 0)).toBe((pa + j * 0x1000n) | D | A | NL(0n) | PR | FC | IR | IW);
    }
    expect(pt.readAndClearDirty(iova, 64n * KiB)).toEqual([{ iova, size: 64n * KiB }]);
    expect(pt.mergePages(iova, 64n * KiB)).toEqual({ entries: 1, tables: 0 });
    // Back to 16 identical copies, with the accessed bit kept and D harvested.
    for (let j = 0n; j < 16n; j++) expect(rawAt(pt, iova + j * 0x1000n, 0)).toBe(big | A);
    finish(pt);
  });

  test("merge leaves a dirty page's entry alone by default and carries D into every copy on request", () => {
    const pt = newTable(amdv1());
    const iova = 0x20_0000n;
    const pa = 0x40_0000n;
    for (let j = 0n; j < 2n; j++)
      pt.map(iova + j * 0x1000n, pa + j * 0x1000n, 4n * KiB, Prot.READ | Prot.WRITE);
    expect(pt.setDirty(iova + 0x1000n)).toBe(true);
    expect(pt.mergePages(iova, 8n * KiB)).toEqual({ entries: 0, tables: 0 });
    expect(rawAt(pt, iova + 0x1000n, 0)).toBe((pa + 0x1000n) | D | PR | FC | IR | IW);
    expect(pt.mergePages(iova, 8n * KiB, { dirty: "carry" })).toEqual({ entries: 1, tables: 0 });
    // 8K: NextLevel 7, no marker ones (bits [11:12] is empty) and bit 12 = 0 (§3.3); 2 copies, both dirty.
    for (const j of [0n, 1n])
      expect(rawAt(pt, iova + j * 0x1000n, 0)).toBe(pa | D | NL(7n) | PR | FC | IR | IW);
    finish(pt);
  });
});
