// The device side, through @genpt/sim: a seeded workload of map, unmap and DMA with the sim's IOTLB and
// walk caches in front of the hardware walker, checked after every step by the sim's checker (model ==
// iovaToPhys == what the device translates, stale cached state included). Run with a coherent walker
// and with an incoherent one, whose view of memory changes only through the core's cache flushes.
import { Prot } from "@genpt/core";
import { check } from "@genpt/sim";
import { defineCase, needsWalker } from "../case.js";
import { fail, show } from "../support/assert.js";
import { deviceTable } from "../support/device.js";
import type { CaseEnv } from "../support/env.js";
import { Workload } from "../support/workload.js";

function simWorkload(env: CaseEnv, coherent: boolean): void {
  const { t, iommu } = deviceTable(env, { coherent, dirtyTracking: false });
  if (!iommu) fail("this case needs a hardware walker");
  const permissions = env.subject.quirks?.walkerIgnoresPermissions !== true;
  const w = new Workload(t, env.rng());
  const ops = env.rng("ops");
  const steps = Math.max(60, Math.floor(env.iterations / 8));
  let dmas = 0;
  for (let i = 0; i < steps; i++) {
    const op = w.calls.length < 4 ? 0 : ops.int(10);
    const recent: bigint[] = [];
    if (op < 4) {
      const c = w.nextMap();
      if (w.model.overlaps(c.iova, c.size)) continue;
      t.pt.map(env.at(c.iova), c.pa, c.size, c.prot);
      w.mapped(c);
    } else if (op < 7) {
      const u = w.nextUnmap();
      if (!u) continue;
      t.pt.unmap(env.at(u.iova), u.size);
      w.unmapped(u.iova, u.size);
      recent.push(u.iova, u.iova + u.size - t.granule);
    } else {
      // DMA fills the IOTLB and walk caches, so a later unmap that gathers too little is caught stale.
      const c = ops.pick(w.calls);
      const access = (c.prot & Prot.READ) !== 0 ? "read" : "write";
      const len = c.size < 16n * t.granule ? c.size : 16n * t.granule;
      const r = iommu.dma(env.at(c.iova), len, access);
      if (!r.ok)
        fail(
          `step ${i}: DMA ${access} faults (${r.fault.kind} at level ${r.fault.level}: ${r.fault.detail})`,
          r.fault.iova,
        );
      const want = w.model.lookup(c.iova)!.pa;
      if (r.segments[0]?.pa !== want)
        fail(`step ${i}: DMA went to ${show(r.segments[0]?.pa)}, expected ${show(want)}`, c.iova);
      dmas++;
    }
    const res = check(t.pt, w.model, iommu, {
      extraIovas: recent,
      seed: env.seed + i,
      maxPagesPerRange: 8,
      randomSamples: 4,
      permissions,
    });
    if (!res.ok) fail(`step ${i}: ${res.message} (cpu: ${res.cpu}; device: ${res.device})`, res.iova);
  }
  if (dmas === 0) fail(`no DMA ran in ${steps} steps`);
}

export const simCoherent = defineCase({
  name: "sim_coherent",
  summary:
    "map/unmap/DMA through the sim's IOTLB and walk caches; the checker finds no stale or wrong translation",
  random: true,
  skipIf: needsWalker,
  run: (env) => simWorkload(env, true),
});

export const simIncoherent = defineCase({
  name: "sim_incoherent",
  summary: "the same with an incoherent walker: the device sees only what the core wrote back",
  random: true,
  skipIf: needsWalker,
  run: (env) => simWorkload(env, false),
});
