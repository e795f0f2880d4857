// The format-level catalog cases that read the geometry (kunit_generic_pt.h): init, table_radix,
// max_va, entry_possible_sizes. Each also checks its claim against a live table where it can.
import { Prot, topTableLg2, vaBitsAtTop } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt } from "../support/agree.js";
import { check, eq, expectPtError, fail } from "../support/assert.js";
import { lg2 } from "../support/shape.js";

/** Index bits of a non-top table at `level`. */
function indexBits(g: { entryBytes: 4 | 8; levels: readonly { tableLg2: number }[] }, level: number): number {
  return g.levels[level]!.tableLg2 - (g.entryBytes === 8 ? 3 : 2);
}

export const init = defineCase({
  name: "init",
  summary: "a fresh table is empty, its info() is sane and its page-size bitmap is not empty",
  run(env) {
    const t = env.table();
    const info = t.info();
    const geo = env.format.geometry;
    check(typeof env.format.name === "string" && env.format.name.length > 0, "format has no name");
    check(info.pgsizes.length > 0, "the page-size bitmap is empty");
    for (const [i, s] of info.pgsizes.entries()) {
      check(s > 0n && (s & (s - 1n)) === 0n, `page size ${s} is not a power of two`);
      check(i === 0 || s > info.pgsizes[i - 1]!, "page sizes are not strictly ascending");
    }
    eq(info.granule, 1n << BigInt(geo.levels[0]!.itemLg2), "info().granule");
    check(info.pgsizes[0]! >= info.granule, "a page size is below the granule");
    check(
      info.topLevel >= 0 && info.topLevel <= info.maxTopLevel,
      `topLevel ${info.topLevel} outside 0..maxTopLevel`,
    );
    check(info.vaBits >= 12 && info.vaBits <= 64, `vaBits ${info.vaBits} outside 12..64`);
    check(info.oaBits >= 12 && info.oaBits <= 52, `oaBits ${info.oaBits} outside 12..52`);
    eq(info.entryBytes, geo.entryBytes, "info().entryBytes");
    const topBytes = 1n << BigInt(topTableLg2(geo, info.topLevel));
    check(
      info.root >= env.mem.base && info.root + topBytes <= env.mem.end,
      "root lies outside the table memory",
    );
    eq(info.root % topBytes, 0n, "root alignment to the top table size");
    const c = t.pt.census();
    eq(c.leafItems, 0, "leaf items in a fresh table");
    eq(c.mappedBytes, 0n, "mapped bytes in a fresh table");
    eq(JSON.stringify(c.tables), JSON.stringify({ [info.topLevel]: 1 }), "tables in a fresh table");
    for (const r of t.regions)
      eq(t.pt.iovaToPhys(r.start), undefined, "iovaToPhys in a fresh table", r.start);
    check(t.pt.dump().includes(env.format.name), "dump() does not name the format");
  },
});

export const tableRadix = defineCase({
  name: "table_radix",
  summary: "the levels decode contiguous, non-overlapping VA bits covering the whole VA space",
  run(env) {
    const t = env.table();
    const info = t.info();
    const geo = env.format.geometry;
    const top = info.maxTopLevel;
    let next = geo.levels[0]!.itemLg2;
    for (let l = 0; l <= top; l++) {
      const lv = geo.levels[l]!;
      eq(lv.itemLg2, next, `level ${l} first VA bit (item size lg2)`);
      if (l < top) next = lv.itemLg2 + indexBits(geo, l);
    }
    const topBits = info.vaBits - geo.levels[top]!.itemLg2;
    check(topBits >= 1, `the top level ${top} decodes no VA bit below vaBits ${info.vaBits}`);
    const topSlots = 2 ** (topTableLg2(geo, top) - (geo.entryBytes === 8 ? 3 : 2));
    check(topSlots >= 2 ** topBits, `the top table has ${topSlots} slots, the VA needs ${2 ** topBits}`);
    // Decode check through the tables: one granule at each single VA bit must land in its own slot
    // (a shared slot would make a second map EADDRINUSE, an ignored bit would alias in the walker).
    const g = t.granule;
    const marks: Array<{ iova: bigint; pa: bigint }> = [];
    const signed = info.features.signExtend;
    for (let b = geo.levels[0]!.itemLg2; b < info.vaBits; b++) {
      const base = t.regions[0]!.start;
      const iova = signed && b === info.vaBits - 1 ? t.regions[1]!.start : base + (1n << BigInt(b));
      marks.push({ iova, pa: g * BigInt(b + 1) });
    }
    marks.push({ iova: t.regions[0]!.start, pa: g * 100n });
    for (const m of marks) t.pt.map(env.at(m.iova), m.pa, g, Prot.READ | Prot.WRITE);
    for (const m of marks) agreeAt(t, m.iova, { pa: m.pa, prot: Prot.READ | Prot.WRITE });
    eq(t.pt.census().leafItems, marks.length, "leaf items after one granule per VA bit");
  },
});

export const maxVa = defineCase({
  name: "max_va",
  summary: "vaBits covers the top range's width; the last granule maps and one past the end is ERANGE",
  run(env) {
    const t = env.table();
    const info = t.info();
    const geo = env.format.geometry;
    const topWidth = vaBitsAtTop(geo, info.maxTopLevel);
    check(info.vaBits >= topWidth, `vaBits ${info.vaBits} is below the top range's width ${topWidth}`);
    check(info.vaBits <= geo.vaBits, `vaBits ${info.vaBits} exceeds the geometry's ${geo.vaBits}`);
    const last = t.regions[t.regions.length - 1]!;
    const iova = env.at(last.end - t.granule);
    t.pt.map(iova, t.granule, t.granule, Prot.READ | Prot.WRITE);
    agreeAt(t, last.end - 1n, { pa: 2n * t.granule - 1n, prot: Prot.READ | Prot.WRITE });
    if (last.end < 1n << 64n) {
      t.rejects("ERANGE", "map one granule past the aperture", (pt) =>
        pt.map(last.end, 0n, t.granule, Prot.READ),
      );
      eq(t.pt.iovaToPhys(last.end), undefined, "iovaToPhys one past the aperture", last.end);
    }
  },
});

export const entryPossibleSizes = defineCase({
  name: "entry_possible_sizes",
  summary: "leaf sizes lie in [item, table) per level, include the item size, and make up info().pgsizes",
  run(env) {
    const t = env.table();
    const info = t.info();
    const geo = env.format.geometry;
    const exempt = env.subject.quirks?.noItemLeafAt ?? [];
    const expected: number[] = [];
    for (let l = 0; l <= geo.maxTopLevel; l++) {
      const lv = geo.levels[l]!;
      const isTop = l === geo.maxTopLevel;
      const tableLg2 = isTop ? geo.vaBits : lv.itemLg2 + indexBits(geo, l);
      for (const [i, s] of lv.leafLg2.entries()) {
        check(i === 0 || s > lv.leafLg2[i - 1]!, `level ${l} leaf sizes are not strictly ascending`);
        check(s >= lv.itemLg2, `level ${l} leaf size 2^${s} is below its item size 2^${lv.itemLg2}`);
        check(s < tableLg2, `level ${l} leaf size 2^${s} spans a whole table (2^${tableLg2})`);
        if (s <= geo.oaBits && !(isTop && geo.topHoldsLeaf === false)) expected.push(s);
      }
      if (lv.leafLg2.length > 0 && !lv.leafLg2.includes(lv.itemLg2) && !exempt.includes(l))
        fail(`level ${l} holds leaves but not its item size 2^${lv.itemLg2}`);
    }
    if (!exempt.includes(0))
      check(geo.levels[0]!.leafLg2.includes(geo.levels[0]!.itemLg2), "level 0 cannot map a granule");
    const want = [...new Set(expected)].sort((a, b) => a - b);
    eq(info.pgsizes.map(lg2), want, "info().pgsizes (lg2) against the union of the levels' leaf sizes");
    // A narrowed table offers exactly the sizes asked for.
    const narrow = [info.pgsizes[0]!];
    eq(
      env.table({ pgsizes: narrow }).info().pgsizes,
      narrow,
      "info().pgsizes of a table narrowed to the smallest size",
    );
    expectPtError(
      () => env.table({ pgsizes: [3n] }),
      "EINVAL",
      "createPageTable with a page size of 3 bytes",
    );
  },
});
