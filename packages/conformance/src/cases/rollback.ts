// The rollback test (issue 3): a map that needs several new tables (and a new top, where the top grows)
// is failed with ENOMEM at every allocation in turn. Each time the memory hash, the allocator stats and
// the top must be as before, and the earlier mapping must still translate.
import { Prot, vaBitsAtTop } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { check, eq } from "../support/assert.js";
import type { CaseEnv } from "../support/env.js";

const RW = Prot.READ | Prot.WRITE;

export const enomemRollback = defineCase({
  name: "enomem_rollback",
  summary: "ENOMEM at every allocation of a multi-table map leaves memory, allocator and top unchanged",
  run(env) {
    const probe = env.table();
    const info = probe.info();
    const geo = env.format.geometry;
    const g = probe.granule;
    const start = probe.regions[0]!.start;
    // Cross a boundary that needs new tables on the far side: past the top (growth) or into top slot 1.
    const grows = info.features.dynamicTop && info.topLevel < info.maxTopLevel && start === 0n;
    const boundary = grows
      ? 1n << BigInt(vaBitsAtTop(geo, info.topLevel))
      : start + (1n << BigInt(geo.levels[info.topLevel]!.itemLg2));
    // The span of one level-0 table: the range needs several of them.
    const lowTable = 1n << BigInt(geo.levels[Math.min(1, geo.maxTopLevel)]!.itemLg2);
    const iova = boundary - g;
    const size = 3n * lowTable + 2n * g;
    const pa = 3n * g;
    probe.pt.destroy();
    const build = (env: CaseEnv) => {
      const t = env.table();
      t.pt.map(boundary - 2n * g, 7n * g, g, RW);
      return t;
    };
    const trial = build(env);
    const before = trial.pt.allocator.allocCount();
    trial.pt.map(env.at(iova), pa, size, RW);
    const n = trial.pt.allocator.allocCount() - before;
    trial.pt.destroy();
    check(n >= 2, `the scenario map allocated ${n} table(s); a multi-table map needs at least 2`);
    for (let k = 1; k <= n; k++) {
      const t = build(env);
      t.pt.allocator.failAt(k);
      try {
        t.rejects(
          "ENOMEM",
          `map failing at allocation ${k} of ${n}`,
          (pt) => pt.map(iova, pa, size, RW),
          iova,
        );
      } finally {
        t.pt.allocator.failAt(undefined);
      }
      agreeAt(t, boundary - 2n * g, { pa: 7n * g, prot: RW });
      agreeAt(t, iova, undefined);
      t.pt.destroy();
    }
    const t = build(env);
    t.pt.allocator.failAt(n + 1);
    t.pt.map(iova, pa, size, RW);
    t.pt.allocator.failAt(undefined);
    agreeRange(t, iova, pa, size, RW);
    eq(t.pt.unmap(iova, size), size, "unmap of the scenario map", iova);
  },
});
