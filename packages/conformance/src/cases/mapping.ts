// The map/unmap catalog cases of kunit_iommu_pt.h: map_simple (one entry of each size), map_table_to_oa
// (a large page replaces the empty tables small pages left), unmap_split (unmapping a prefix of a large
// entry removes the whole entry, reports it, gathers it, and leaves its neighbour).
import { Prot } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { check, eq, fail, show } from "../support/assert.js";
import { alignUp, leafMap, levelOfSize, lg2, planText } from "../support/shape.js";
import type { TestTable } from "../support/table.js";

const RW = Prot.READ | Prot.WRITE;

/** Tables below `level` in the whole tree. */
function tablesBelow(t: TestTable, level: number): number {
  const tables = t.pt.census().tables;
  let n = 0;
  for (let l = 0; l < level; l++) n += tables[l] ?? 0;
  return n;
}

export const mapSimple = defineCase({
  name: "map_simple",
  summary: "one mapping of each page size translates right and is exactly one entry; unmap leaves none",
  run(env) {
    const t = env.table();
    const region = t.regions[0]!;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    const placed: Array<{ iova: bigint; pa: bigint; size: bigint }> = [];
    let cursor = region.start;
    for (const s of [...t.sizes].reverse()) {
      const iova = alignUp(cursor, s);
      if (iova + s > region.end)
        fail(`the aperture cannot hold one page of each size (2^${lg2(s)} does not fit)`);
      placed.push({ iova, pa: oaEnd - s, size: s });
      cursor = iova + s;
    }
    for (const m of placed) t.pt.map(env.at(m.iova), m.pa, m.size, RW);
    const c = t.pt.census();
    const want = new Map(t.sizes.map((s) => [lg2(s), 1]));
    eq(planText(leafMap(c.leaves)), planText(want), "leaves after one map of each size");
    eq(
      c.mappedBytes,
      t.sizes.reduce((a, s) => a + s, 0n),
      "mapped bytes",
    );
    for (const m of placed) agreeRange(t, m.iova, m.pa, m.size, RW);
    for (const m of placed) eq(t.pt.unmap(env.at(m.iova), m.size), m.size, "unmap of one entry", m.iova);
    const after = t.pt.census();
    eq(after.leafItems, 0, "leaf items after unmapping everything");
    for (const m of placed) agreeAt(t, m.iova, undefined);
  },
});

export const mapTableToOa = defineCase({
  name: "map_table_to_oa",
  summary: "a large page over a range that held small pages replaces the empty tables and gathers them",
  run(env) {
    const t = env.table();
    const fmt = env.format;
    const iova = t.regions[0]!.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    let tried = 0;
    for (const s of t.sizes) {
      const level = levelOfSize(fmt, lg2(s));
      const small = t.sizes.filter((x) => levelOfSize(fmt, lg2(x)) < level);
      if (small.length === 0) continue;
      tried++;
      const p = small[small.length - 1]!;
      const pa = 2n * s <= oaEnd ? s : 0n;
      env.at(iova);
      t.pt.map(iova, pa, p, RW);
      t.pt.map(iova + s - p, pa + s - p, p, RW);
      check(tablesBelow(t, level) > 0, `small pages of 2^${lg2(p)} made no table below level ${level}`, iova);
      eq(t.pt.unmap(iova, p), p, "unmap of the first small page", iova);
      eq(t.pt.unmap(iova + s - p, p), p, "unmap of the last small page", iova);
      const emptyTables = tablesBelow(t, level);
      t.rec.reset();
      t.pt.map(iova, pa, s, RW);
      eq(t.pt.census().leaves[lg2(s)], 1, `2^${lg2(s)} leaves over the emptied range`, iova);
      eq(tablesBelow(t, level), 0, `tables below level ${level} after the large page replaced them`, iova);
      if (emptyTables > 0) {
        check(
          t.rec.flushes.some((f) => f.tablesFreed),
          "replacing tables did not flush the walk caches",
          iova,
        );
        const left = t.rec.uncovered(iova, s);
        if (left !== undefined) fail(`replacing tables left ${show(left)} out of the gather`, left);
      }
      agreeRange(t, iova, pa, s, RW);
      eq(t.pt.unmap(iova, s), s, "unmap of the large page", iova);
    }
    check(
      tried > 0 || t.sizes.every((s) => levelOfSize(fmt, lg2(s)) === 0),
      "no size had a smaller size below it",
    );
  },
});

export const unmapSplit = defineCase({
  name: "unmap_split",
  summary:
    "unmapping a prefix of a large entry removes, reports and gathers the whole entry, not its neighbour",
  run(env) {
    const t = env.table();
    const g = t.granule;
    const region = t.regions[0]!;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    for (const s of t.sizes.filter((x) => x > g && 4n * x <= region.end - region.start && 4n * x <= oaEnd)) {
      for (const prefix of [g, s - g]) {
        const a = env.at(region.start + s);
        const pa = s;
        t.pt.map(a, pa, 2n * s, RW);
        eq(t.pt.census().leaves[lg2(s)], 2, `two 2^${lg2(s)} entries`, a);
        t.rec.reset();
        eq(t.pt.unmap(a, prefix), s, `unmap of a ${show(prefix)} prefix returns the whole entry`, a);
        const left = t.rec.uncovered(a, s);
        if (left !== undefined)
          fail(`the gather misses ${show(left)} of the widened unmap (CVE-2026-31735)`, left);
        agreeAt(t, a, undefined);
        agreeAt(t, a + s - 1n, undefined);
        agreeRange(t, a + s, pa + s, s, RW);
        t.rejects("EINVAL", "unmap starting inside an entry", (pt) => pt.unmap(a + s + g, g), a + s + g);
        eq(t.pt.unmap(a + s, s), s, "unmap of the neighbour", a + s);
        eq(t.pt.census().leafItems, 0, "leaf items after both unmaps", a);
      }
    }
  },
});
