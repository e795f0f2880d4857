// test_random_map (kunit_iommu_pt.h): seeded map/unmap iterations against the interval model, using both
// ends of every region (both sign-extended halves). A map over anything mapped must be EADDRINUSE and
// change nothing; every unmap must remove exactly the bytes mapped there and gather all of it; after
// every step iovaToPhys must agree with the model where the step worked, and everywhere now and then.
import { defineCase } from "../case.js";
import { agreeAt, agreeModel, probePoints } from "../support/agree.js";
import { fail, show } from "../support/assert.js";
import { Workload } from "../support/workload.js";

export const randomMap = defineCase({
  name: "random_map",
  summary:
    "seeded map/unmap iterations agree with an interval model; overlaps are EADDRINUSE and change nothing",
  random: true,
  run(env) {
    const t = env.table();
    const w = new Workload(t, env.rng());
    const ops = env.rng("ops");
    let collisions = 0;
    let maps = 0;
    let unmaps = 0;
    for (let i = 0; i < env.iterations; i++) {
      if (w.calls.length < 8 || ops.chance(0.6)) {
        const c = w.nextMap();
        env.at(c.iova);
        if (w.model.overlaps(c.iova, c.size)) {
          collisions++;
          // Hashing memory is the costly part: the first collisions check it, later ones one in sixteen
          // (allocator stats, the top and the translations are checked every time).
          const hash = collisions <= 32 || collisions % 16 === 0;
          t.rejects(
            "EADDRINUSE",
            `iteration ${i}: map over a mapping`,
            (pt) => pt.map(c.iova, c.pa, c.size, c.prot),
            c.iova,
            { hash },
          );
        } else {
          t.pt.map(c.iova, c.pa, c.size, c.prot);
          w.mapped(c);
          maps++;
        }
        for (const p of probePoints(c.iova, c.size, t.granule)) agreeAt(t, p, w.model.lookup(p), false);
      } else {
        const u = w.nextUnmap();
        if (!u) continue;
        env.at(u.iova);
        t.rec.reset();
        const removed = t.pt.unmap(u.iova, u.size);
        if (removed !== u.removes)
          fail(
            `iteration ${i}: unmap(${show(u.iova)}, ${show(u.size)}) removed ${show(removed)}, expected ${show(u.removes)}`,
            u.iova,
          );
        for (const r of w.model.ranges()) {
          if (r.iova >= u.iova + u.size || r.iova + r.size <= u.iova) continue;
          const left = t.rec.uncovered(r.iova, r.size);
          if (left !== undefined) fail(`iteration ${i}: the unmap's gather misses ${show(left)}`, left);
        }
        w.unmapped(u.iova, u.size);
        if (removed > 0n) unmaps++;
        for (const p of probePoints(u.iova, u.size, t.granule)) agreeAt(t, p, w.model.lookup(p), false);
      }
      if (i % 100 === 99) agreeModel(t, w.model, false);
    }
    agreeModel(t, w.model, false);
    // The workload must have exercised all three paths, or the case proved little.
    if (collisions === 0 || maps === 0 || unmaps === 0)
      fail(
        `${env.iterations} iterations made ${maps} maps, ${unmaps} unmaps and ${collisions} collisions; each must be > 0`,
      );
  },
});
