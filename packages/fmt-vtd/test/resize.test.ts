// Known answers for splitBlocks, mergePages and cut on VT-d second-stage tables: every expected entry is
// built from literal bit positions of reference/formats.md §4 (R 0, W 1, PS 7, A 8, D 9, address [51:12]).
// A split piece keeps A and D (hardware status, §4.4), and the SS-PDE becomes a table pointer granting
// R and W, since permissions are ANDed down the walk.
import { finish, MiB, newTable, rawAt, walkCtx } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

const R = 1n << 0n;
const W = 1n << 1n;
const PS = 1n << 7n;
const A = 1n << 8n;
const D = 1n << 9n;
const ADDR = ((1n << 52n) - 1n) & ~0xfffn;

describe("resize known answers", () => {
  test("a written 2M SS-PDE splits into 512 SS-PTEs that keep A and D, then merges back", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    expect(pt.format.resize).toBe("replace");
    const iova = 0x20_0000n;
    const pa = 0x4060_0000n;
    pt.map(iova, pa, 2n * MiB, Prot.READ | Prot.WRITE);
    // A DMA write through the walker with SSADE sets A and D on the SS-PDE.
    expect(vtdssWalker().translate(pt.mem, walkCtx(pt, true), iova + 0x3008n, "write")).toMatchObject({
      ok: true,
    });
    expect(rawAt(pt, iova, 1)).toBe(pa | PS | A | D | W | R);

    expect(pt.splitBlocks(iova, 2n * MiB)).toEqual({ entries: 1, tables: 1 });
    const pde = rawAt(pt, iova, 1);
    expect(pde & ~ADDR).toBe(W | R); // a table pointer: no PS, no A/D of its own yet
    for (const j of [0n, 1n, 3n, 511n]) {
      // Each SS-PTE: its own 4K page, R W from the map, A D from the block, no PS at level 0.
      expect(rawAt(pt, iova + j * 0x1000n, 0)).toBe((pa + j * 0x1000n) | D | A | W | R);
    }
    // Every piece is dirty, so the block's write is still reported, now as 512 pages merged into one range.
    expect(pt.readAndClearDirty(iova, 2n * MiB)).toEqual([{ iova, size: 2n * MiB }]);
    expect(rawAt(pt, iova + 0x5000n, 0)).toBe((pa + 0x5000n) | A | W | R);

    expect(pt.mergePages(iova, 2n * MiB)).toEqual({ entries: 1, tables: 1 });
    // The SS-PDE again: PS, R W, and A carried (ORed) from the pieces; D was harvested.
    expect(rawAt(pt, iova, 1)).toBe(pa | PS | A | W | R);
    finish(pt);
  });

  test("cut at 2M + 4K inside a 1G SS-PDPE leaves a 2M SS-PDE, a 4K SS-PTE, and the rest in the largest fits", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    const iova = 1n << 30n;
    const pa = 4n << 30n;
    pt.map(iova, pa, 1n << 30n, Prot.READ);
    expect(pt.cut(iova + 2n * MiB + 0x1000n)).toBe(true);
    expect(rawAt(pt, iova, 1)).toBe(pa | PS | R); // [0, 2M): one 2M SS-PDE, read-only as mapped
    expect(rawAt(pt, iova + 2n * MiB, 0)).toBe((pa + 2n * MiB) | R); // [2M, 2M + 4K): one SS-PTE
    expect(rawAt(pt, iova + 4n * MiB, 1)).toBe((pa + 4n * MiB) | PS | R); // from 4M on, 2M again
    expect(pt.census().leaves).toEqual({ 12: 512, 21: 511 });
    expect(pt.unmap(iova, 2n * MiB + 0x1000n)).toBe(2n * MiB + 0x1000n);
    expect(pt.iovaToPhys(iova + 2n * MiB + 0x1000n)).toBe(pa + 2n * MiB + 0x1000n);
    finish(pt);
  });
});
