// Seeded random sequences that mix map, unmap, cut, splitBlocks, mergePages, DMA writes and dirty
// harvests, checked against the model and the sim checker after every step, and inside every flush
// window a resize opens (where break-before-make may show a fault, never a wrong translation). No DMA
// write may ever be missing from a later harvest, whatever was split or merged in between.
import { hex, Prot } from "@genpt/core";
import { checkDirty, check as simCheck } from "@genpt/sim";
import { defineCase, needsWalker } from "../case.js";
import { agreeModel } from "../support/agree.js";
import { fail } from "../support/assert.js";
import { deviceAgrees, deviceTable } from "../support/device.js";
import type { CaseEnv } from "../support/env.js";
import { alignDown } from "../support/shape.js";
import { Workload } from "../support/workload.js";

function resizeWorkload(env: CaseEnv, coherent: boolean): void {
  const bbm = env.format.resize === "break-before-make";
  let inResize = false;
  let windows = 0;
  const d = deviceTable(env, {
    coherent,
    onFlush: () => {
      if (!inResize) return;
      windows++;
      // A resize never changes what is mapped, so the model is also the state before the flush.
      const r = simCheck(d.t.pt, w.model, d.iommu!, {
        previous: w.model,
        breakWindow: bbm,
        seed: env.seed + windows,
        maxPagesPerRange: 4,
        randomSamples: 2,
        permissions: env.subject.quirks?.walkerIgnoresPermissions !== true,
      });
      if (!r.ok)
        fail(`in a flush window of ${op}: ${r.message} (cpu: ${r.cpu}; device: ${r.device})`, r.iova);
    },
  });
  const t = d.t;
  const iommu = d.iommu!;
  const w = new Workload(t, env.rng());
  const rng = env.rng("ops");
  const page = t.sizes[0]!;
  const dirty = env.format.dirty !== undefined;
  const steps = Math.max(60, Math.floor(env.iterations / 8));
  let op = "";
  let resizes = 0;
  /** Harvests everything and checks that no DMA write since the last harvest is missing. */
  const harvestAll = () => {
    if (!dirty) return;
    const h = t.regions.flatMap((r) => t.pt.readAndClearDirty(r.start, r.end - r.start));
    const ok = checkDirty(h, iommu.takeWrites());
    if (!ok.ok) fail(`${op}: ${ok.message} (${ok.cpu}; ${ok.device})`, ok.iova);
  };
  const resize = (name: string, fn: () => void) => {
    op = name;
    inResize = true;
    try {
      fn();
    } finally {
      inResize = false;
    }
    resizes++;
  };
  for (let i = 0; i < steps; i++) {
    const k = w.calls.length < 3 ? 0 : rng.int(12);
    const c = w.calls.length > 0 ? rng.pick(w.calls) : undefined;
    if (k < 3 || !c) {
      const m = w.nextMap();
      if (w.model.overlaps(m.iova, m.size)) continue;
      op = `map ${hex(m.iova)}+${hex(m.size)}`;
      t.pt.map(env.at(m.iova), m.pa, m.size, m.prot);
      w.mapped(m);
    } else if (k < 5) {
      const u = w.nextUnmap();
      if (!u) continue;
      // Writes to what goes away have no dirty state left to report: harvest them first.
      harvestAll();
      op = `unmap ${hex(u.iova)}+${hex(u.size)}`;
      t.pt.unmap(env.at(u.iova), u.size);
      w.unmapped(u.iova, u.size);
    } else if (k < 7) {
      const at = env.at(c.iova + alignDown(rng.below(c.size), page));
      resize(`cut ${hex(at)}`, () => t.pt.cut(at));
    } else if (k < 8) {
      // Every smallest page costs a PTE: keep splits to what the table memory holds many times over.
      if (c.size / page > 1n << 16n) continue;
      resize(`splitBlocks ${hex(c.iova)}+${hex(c.size)}`, () => t.pt.splitBlocks(env.at(c.iova), c.size));
    } else if (k < 9) {
      const region = t.regions.find((r) => c.iova >= r.start && c.iova < r.end)!;
      const all = rng.chance(0.3);
      const from = all ? region.start : c.iova;
      const size = all ? region.end - region.start : c.size;
      const mode = rng.chance(0.5) ? "carry" : "refuse";
      resize(`mergePages ${hex(from)}+${hex(size)} (${mode})`, () =>
        t.pt.mergePages(env.at(from), size, { dirty: mode }),
      );
    } else if (k < 11) {
      if ((c.prot & Prot.WRITE) === 0) continue;
      const at = env.at(c.iova + alignDown(rng.below(c.size), 8n));
      op = `DMA write ${hex(at)}`;
      const r = iommu.dma(at, 8n, "write");
      if (!r.ok) fail(`${op} faults: ${r.fault.kind} at level ${r.fault.level}: ${r.fault.detail}`, at);
    } else {
      op = "harvest";
      harvestAll();
    }
    deviceAgrees(env, d, w.model, `step ${i} (${op})`);
  }
  harvestAll();
  agreeModel(t, w.model, true);
  if (resizes === 0) fail(`no resize ran in ${steps} steps`);
}

export const resizeRandom = defineCase({
  name: "resize_random",
  summary:
    "random map/unmap/cut/split/merge/DMA/harvest against the model and the sim checker, flush windows included",
  random: true,
  skipIf: needsWalker,
  run: (env) => resizeWorkload(env, true),
});

export const resizeRandomIncoherent = defineCase({
  name: "resize_random_incoherent",
  summary: "the same with an incoherent walker: every piece and every merged leaf is written back",
  random: true,
  skipIf: needsWalker,
  run: (env) => resizeWorkload(env, false),
});
