// test_increase_level (kunit_iommu_pt.h): with a dynamic top, each map just past what the current top
// translates grows it by exactly one level, the driver is switched over to the new top, and what was
// mapped before still translates. A fixed top must stay put and refuse dynamicTop.
import { Prot, vaBitsAtTop } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt } from "../support/agree.js";
import { eq, expectPtError } from "../support/assert.js";

const RW = Prot.READ | Prot.WRITE;

export const increaseLevel = defineCase({
  name: "increase_level",
  summary: "each map just past the current top grows it by exactly one level up to the maximum",
  run(env) {
    const t = env.table();
    const geo = env.format.geometry;
    const g = t.granule;
    const start = t.info();
    const base = t.regions[0]!.start;
    t.pt.map(env.at(base), g, g, RW);
    if (!start.features.dynamicTop || start.maxTopLevel === start.topLevel) {
      const last = t.regions[t.regions.length - 1]!.end - g;
      t.pt.map(env.at(last), 2n * g, g, RW);
      eq(t.info().topLevel, start.topLevel, "topLevel of a fixed top after mapping the last granule");
      eq(t.info().root, start.root, "root of a fixed top");
      eq(t.rec.tops.length, 0, "changeTop calls for a fixed top");
      if (geo.maxTopLevel === geo.topLevel)
        expectPtError(
          () => env.table({ features: { dynamicTop: true } }),
          "EOPNOTSUPP",
          "dynamicTop on a fixed-top format",
        );
      agreeAt(t, base, { pa: g, prot: RW });
      agreeAt(t, last, { pa: 2n * g, prot: RW });
      return;
    }
    const mapped: Array<{ iova: bigint; pa: bigint }> = [{ iova: base, pa: g }];
    for (let level = start.topLevel; level < start.maxTopLevel; level++) {
      const iova = env.at(base + (1n << BigInt(vaBitsAtTop(geo, level))));
      const pa = g * BigInt(level + 2);
      t.pt.map(iova, pa, g, RW);
      mapped.push({ iova, pa });
      const now = t.info();
      eq(now.topLevel, level + 1, `topLevel after mapping just past a level-${level} top`, iova);
      eq(
        t.rec.tops[t.rec.tops.length - 1],
        { root: now.root, topLevel: level + 1 },
        "last changeTop call",
        iova,
      );
      for (const m of mapped) agreeAt(t, m.iova, { pa: m.pa, prot: RW });
    }
    eq(t.rec.tops.length, start.maxTopLevel - start.topLevel, "changeTop calls");
    if (start.vaBits < 64)
      t.rejects("ERANGE", "map past the largest top", (pt) =>
        pt.map(base + (1n << BigInt(start.vaBits)), 0n, g, RW),
      );
  },
});
