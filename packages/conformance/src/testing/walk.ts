// Walker checks a format package's tests share: the walk context of a table, a partial match on a
// WalkResult, the R/W/RW leaf-permission trio, and "the one leaf this map made, as the walker sees it".
import { type HardwareWalker, type PageTable, Prot, type WalkContext, type WalkResult } from "@genpt/core";
import { eq, fail, show } from "../support/assert.js";
import { lg2 } from "../support/shape.js";
import type { MapCall } from "../support/workload.js";

/** The walk context of `pt` as a driver would program it. */
export function walkCtx(pt: PageTable<unknown>, accessDirty = false): WalkContext {
  const { root, topLevel } = pt.info();
  return { root, topLevel, accessDirty };
}

/** Fails unless every field of `want` equals the same field of `r` (like toMatchObject). */
export function expectWalk(r: WalkResult, want: Partial<Record<string, unknown>>, what = "walk"): void {
  const got = r as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(want))
    if (got[k] !== v) fail(`${what}: ${k} is ${show(got[k])}, expected ${show(v)} in ${show(r)}`);
}

/**
 * Maps 4 KiB read-only at 0x1000, write-only at 0x2000 and read-write at 0x3000 (to 0x9000, 0xa000 and
 * 0xb000), then checks that the walker refuses a write to the first and a read of the second with a
 * permission fault at the leaf level, and lets a write through the third with both permissions.
 */
export function checkLeafPermissions(pt: PageTable<unknown>, walker: HardwareWalker): void {
  pt.map(0x1000n, 0x9000n, 0x1000n, Prot.READ);
  pt.map(0x2000n, 0xa000n, 0x1000n, Prot.WRITE);
  pt.map(0x3000n, 0xb000n, 0x1000n, Prot.READ | Prot.WRITE);
  const ctx = walkCtx(pt);
  const refused = { ok: false, kind: "permission", level: 0 };
  expectWalk(walker.translate(pt.mem, ctx, 0x1000n, "write"), refused, "write to a read-only page");
  expectWalk(walker.translate(pt.mem, ctx, 0x2000n, "read"), refused, "read of a write-only page");
  expectWalk(
    walker.translate(pt.mem, ctx, 0x3000n, "write"),
    { ok: true, pa: 0xb000n, read: true, write: true },
    "write to a read-write page",
  );
}

/**
 * `m` made exactly one leaf of its size: the census counts that and nothing else, iovaToPhys translates
 * its last byte, and the walker translates its middle byte (read, or write for a write-only prot) with
 * the leaf's size and exactly the prot's read and write permissions.
 */
export function expectOneLeaf(pt: PageTable<unknown>, walker: HardwareWalker, m: MapCall): void {
  const sizeLg2 = lg2(m.size);
  eq(pt.census().leaves, { [sizeLg2]: 1 }, "leaves (census)");
  eq(pt.iovaToPhys(m.iova + m.size - 1n), m.pa + m.size - 1n, "iovaToPhys of the last byte");
  const read = (m.prot & Prot.READ) !== 0;
  const hit = walker.translate(pt.mem, walkCtx(pt), m.iova + m.size / 2n, read ? "read" : "write");
  const write = (m.prot & Prot.WRITE) !== 0;
  expectWalk(hit, { ok: true, pa: m.pa + m.size / 2n, pageLg2: sizeLg2, read, write }, "the middle byte");
}
