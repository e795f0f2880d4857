// The dirty-log session of the Arm SMMU dirty-log series, on every format: a 1 GiB block, logging started
// with split, one byte written by DMA, exactly one smallest page harvested, logging stopped with merge,
// and the block back bit-identical (cleaned, where the format creates writable leaves dirty; with the
// accessed bit the device set) with every
// intermediate table freed. A format without dirty tracking refuses the session and changes nothing.
import { Prot } from "@genpt/core";
import { checkDirty, IntervalModel } from "@genpt/sim";
import { defineCase } from "../case.js";
import { agreeRange } from "../support/agree.js";
import { eq, fail, show } from "../support/assert.js";
import { deviceAgrees, deviceTable } from "../support/device.js";
import { locate } from "../support/raw.js";
import { cleaned, itemWord, leafEntries } from "../support/resize.js";
import { alignDown } from "../support/shape.js";
import { allSmallest, blockRange } from "./split-merge.js";

const RW = Prot.READ | Prot.WRITE;

export const dirtyLog = defineCase({
  name: "dirty_log",
  summary:
    "start (split) -> one DMA byte -> exactly one smallest page dirty -> stop (merge): the block is back and its tables freed",
  run(env) {
    const model = new IntervalModel();
    const d = deviceTable(env);
    const t = d.t;
    const fmt = env.format;
    const { iova, pa, size } = blockRange(t);
    t.pt.map(env.at(iova), pa, size, RW);
    model.map(iova, pa, size, RW);
    if (!fmt.dirty) {
      t.rejects("EOPNOTSUPP", "startDirtyLog without dirty tracking", (pt) =>
        pt.startDirtyLog(iova, size, { split: true }),
      );
      t.rejects("EOPNOTSUPP", "stopDirtyLog without dirty tracking", (pt) =>
        pt.stopDirtyLog(iova, size, { merge: true }),
      );
      return;
    }
    const before = leafEntries(t.pt, iova, size);
    const liveBefore = t.pt.allocator.stats().liveTables;
    const started = t.pt.startDirtyLog(iova, size, { split: true });
    eq(started.entries, before.filter((e) => e.size > t.sizes[0]!).length, "entries split by startDirtyLog");
    allSmallest(t, size / t.sizes[0]!, "after startDirtyLog");
    eq(t.pt.readAndClearDirty(iova, size, { noClear: true }), [], "harvest right after startDirtyLog");
    deviceAgrees(env, d, model, "after startDirtyLog");

    const page = t.sizes[0]!;
    const at = env.at(iova + size / 2n + 3n * page + 5n);
    if (d.iommu) {
      const r = d.iommu.dma(at, 1n, "write");
      if (!r.ok) fail(`DMA write of one byte faults: ${r.fault.detail}`, at);
    } else if (!t.pt.setDirty(at)) fail("setDirty found no tracked leaf", at);
    const harvest = t.pt.readAndClearDirty(iova, size);
    eq(show(harvest), show([{ iova: alignDown(at, page), size: page }]), "harvest after one DMA byte", at);
    if (d.iommu) {
      const ok = checkDirty(harvest, d.iommu.takeWrites());
      if (!ok.ok) fail(ok.message, ok.iova);
    }

    // The device may have set status bits (accessed) on the page it wrote: the merged block keeps them.
    const status = cleaned(fmt, itemWord(locate(t.pt, at)!)) & fmt.statusBits;
    const stopped = t.pt.stopDirtyLog(iova, size, { merge: true });
    eq(stopped.tables, started.tables, "tables stopDirtyLog freed against those startDirtyLog made");
    t.pt.allocator.rcu.synchronize();
    eq(t.pt.allocator.stats().liveTables, liveBefore, "live tables after stopDirtyLog");
    const after = leafEntries(t.pt, iova, size);
    const want = before.map((e) => [
      e.iova,
      e.size,
      e.items.map((it) => cleaned(fmt, itemWord(it)) | status),
    ]);
    eq(
      show(after.map((e) => [e.iova, e.size, e.items.map(itemWord)])),
      show(want),
      "leaf entries after the session: the original, cleaned, with the device's status bits",
    );
    agreeRange(t, iova, pa, size, RW);
    deviceAgrees(env, d, model, "after stopDirtyLog");
  },
});
