// The model-based random test of DESIGN "Testing": seeded sequences of map, unmap, hardware writes with
// dirty harvests, and dump. After every step the hardware walker over raw memory, pt.iovaToPhys and the
// interval model must agree at the IOVAs the step touched and at random mapped and unmapped IOVAs.
import { Prot } from "@genpt/core";
import { defineCase, needsWalker } from "../case.js";
import { agreeAt, agreeModel, probePoints } from "../support/agree.js";
import { check, eq, fail } from "../support/assert.js";
import { alignDown } from "../support/shape.js";
import type { TestTable } from "../support/table.js";
import { Workload } from "../support/workload.js";

type Range = { iova: bigint; size: bigint };

/** Sorts and merges adjacent or overlapping ranges, as readAndClearDirty reports them. */
function merged(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const r of [...ranges].sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0))) {
    const last = out[out.length - 1];
    if (last && r.iova <= last.iova + last.size) {
      const end = r.iova + r.size;
      if (end > last.iova + last.size) last.size = end - last.iova;
    } else out.push({ ...r });
  }
  return out;
}

/** Everything dirty in the aperture, region by region. */
function harvest(t: TestTable, noClear: boolean): Range[] {
  return t.regions.flatMap((r) => t.pt.readAndClearDirty(r.start, r.end - r.start, { noClear }));
}

export const walkerModel = defineCase({
  name: "walker_model",
  summary:
    "seeded map/unmap/write/harvest/dump steps: walker over raw memory == iovaToPhys == model at every step",
  random: true,
  skipIf: needsWalker,
  run(env) {
    const t = env.table();
    const w = new Workload(t, env.rng());
    const ops = env.rng("ops");
    const tracking = env.format.dirty !== undefined;
    // Entries the walker dirtied since the last harvest, as [start, end) of the whole entry.
    let dirty: Range[] = [];
    let maps = 0;
    const steps = Math.max(100, Math.floor(env.iterations / 4));
    for (let i = 0; i < steps; i++) {
      const op = w.calls.length < 6 ? 0 : ops.int(10);
      const touched: bigint[] = [];
      if (op < 5) {
        const c = w.nextMap();
        env.at(c.iova);
        if (w.model.overlaps(c.iova, c.size)) continue;
        t.pt.map(c.iova, c.pa, c.size, c.prot);
        w.mapped(c);
        maps++;
        // Formats that install writable entries dirty (ARM DBM) start each mapping clean here.
        if (tracking) t.pt.readAndClearDirty(c.iova, c.size);
        touched.push(...probePoints(c.iova, c.size, t.granule));
      } else if (op < 8) {
        const u = w.nextUnmap();
        if (!u) continue;
        env.at(u.iova);
        eq(t.pt.unmap(u.iova, u.size), u.removes, `step ${i}: bytes unmapped`, u.iova);
        w.unmapped(u.iova, u.size);
        dirty = dirty.filter((d) => d.iova + d.size <= u.iova || d.iova >= u.iova + u.size);
        touched.push(...probePoints(u.iova, u.size, t.granule));
      } else if (op === 8 && tracking) {
        const writable = w.calls.filter((c) => (c.prot & Prot.WRITE) !== 0);
        if (writable.length === 0) continue;
        const c = ops.pick(writable);
        const iova = env.at(c.iova + alignDown(ops.below(c.size), t.granule));
        const r = t.walk(iova, "write", true);
        if (!r.ok) fail(`step ${i}: hardware write faults (${r.kind}: ${r.detail})`, iova);
        check(r.dirty, `step ${i}: the walker did not report the entry dirty after a write`, iova);
        const size = 1n << BigInt(r.pageLg2);
        dirty.push({ iova: alignDown(iova, size), size });
        touched.push(iova);
      } else if (op === 9 && tracking) {
        const want = merged(dirty);
        eq(harvest(t, true), want, `step ${i}: dirty harvest (noClear) against the writes`);
        eq(harvest(t, false), want, `step ${i}: dirty harvest against the writes`);
        eq(harvest(t, false), [], `step ${i}: dirty harvest after cleaning`);
        dirty = [];
      } else {
        const text = t.pt.dump();
        check(text.includes(env.format.name), `step ${i}: dump() does not name the format`);
        check(
          w.calls.length === 0 || text.split("\n").length > 1,
          `step ${i}: dump() of a populated table is one line`,
        );
      }
      for (const p of touched) agreeAt(t, p, w.model.lookup(p));
      for (let k = 0; k < 4; k++) {
        const p = w.mappedIova();
        if (p !== undefined) agreeAt(t, env.at(p), w.model.lookup(p));
      }
      const hole = w.holeIova();
      if (hole !== undefined) agreeAt(t, env.at(hole), undefined);
    }
    agreeModel(t, w.model, true);
    check(maps > 0, `no map succeeded in ${steps} steps`);
  },
});
