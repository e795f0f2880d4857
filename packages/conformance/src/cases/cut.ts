// cut on every format: a large or contiguous entry cut at every smaller page-size boundary keeps its
// translation, attributes, status bits and dirty state in every piece, gathers the whole entry, and
// leaves [start, cut) and [cut, end) to unmap separately; model, walker and device agree throughout.
// Inside the invalidation a cut owes, a break-before-make format shows a fault at the cut and a
// replacing format the old translation: never anything else.
import { type FlushRequest, Prot } from "@genpt/core";
import { IntervalModel } from "@genpt/sim";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { check, eq, fail, show } from "../support/assert.js";
import { entryItems, locate } from "../support/raw.js";
import {
  attrsKey,
  carriedState,
  cleaned,
  deviceAgrees,
  deviceTable,
  itemDirty,
  itemWord,
  leafEntries,
  undeclaredBits,
} from "../support/resize.js";

const RW = Prot.READ | Prot.WRITE;

export const cutBoundaries = defineCase({
  name: "cut_boundaries",
  summary:
    "cut at every page-size boundary of every large entry: pieces keep attributes and dirty state; each side unmaps alone",
  run(env) {
    const model = new IntervalModel();
    // In each flush window: the device's walk of the cut finds the old translation, or (break-before-make
    // only) nothing at all.
    const bbm = env.format.resize === "break-before-make";
    let window: { cut: bigint; pa: bigint; faults: number } | undefined;
    const onFlush = (_req: FlushRequest) => {
      if (!window || !d.iommu) return;
      const r = d.iommu.probeWalk(window.cut);
      if (!r.ok && bbm) window.faults++;
      else if (!r.ok || r.pa !== window.pa)
        fail(
          `${env.format.resize}: in a flush window the device sees ${r.ok ? show(r.pa) : r.kind}, not ${show(window.pa)}`,
          window.cut,
        );
    };
    const d = deviceTable(env, { onFlush });
    const t = d.t;
    const fmt = env.format;
    const region = t.regions[0]!;
    const span = region.end - region.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    const g = t.granule;
    let cuts = 0;
    for (const size of t.sizes.filter(
      (s) => s > t.sizes[0]! && s <= 1n << 30n && 4n * s <= span && 4n * s <= oaEnd,
    )) {
      const iova = region.start + size;
      const pa = 2n * size;
      for (const piece of t.sizes.filter((s) => s < size)) {
        for (const off of new Set([piece, size - piece, size / 2n + piece])) {
          if (off <= 0n || off >= size) continue;
          t.pt.map(env.at(iova), pa, size, RW);
          model.map(iova, pa, size, RW);
          const [entry] = leafEntries(t.pt, iova, g);
          eq(entry?.size, size, `one ${show(size)} entry before the cut`, iova);
          if (fmt.dirty) {
            t.pt.readAndClearDirty(iova, size);
            // A DMA write sets whatever the hardware sets (dirty, accessed); without a device, setDirty.
            const at = iova + size - g;
            if (d.iommu) check(d.iommu.dma(at, 8n, "write").ok, "DMA write to the entry faults", at);
            else t.pt.setDirty(at);
          }
          const orig = entryItems(t.pt, locate(t.pt, iova)!);
          for (const it of orig) {
            const extra = undeclaredBits(fmt, it);
            if (extra !== 0n)
              fail(`bits ${show(extra)} of the entry are neither attributes nor declared statusBits`, iova);
          }
          const carried = carriedState(fmt, orig);
          const cut = env.at(iova + off);
          t.rec.reset();
          window = { cut, pa: pa + off, faults: 0 };
          check(t.pt.cut(cut), `cut at ${show(cut)} inside a ${show(size)} entry did nothing`, cut);
          if (d.iommu && bbm) check(window.faults > 0, "no flush window with the entry broken", cut);
          window = undefined;
          eq(t.rec.uncovered(iova, size), undefined, "first IOVA of the cut entry no flush covered", cut);
          eq(t.pt.cut(cut), false, "a second cut at the same place", cut);
          const pieces = leafEntries(t.pt, iova, size);
          check(
            pieces.some((e) => e.iova === cut),
            `no piece starts at the cut ${show(cut)}`,
            cut,
          );
          for (const e of pieces) {
            for (const it of e.items) {
              const v = itemWord(it);
              eq(
                attrsKey(fmt, it, it),
                attrsKey(fmt, orig[0]!, it),
                `attributes of the piece at ${show(e.iova)}`,
                e.iova,
              );
              eq(
                cleaned(fmt, v) & fmt.statusBits,
                carried.status,
                `status bits of the piece at ${show(e.iova)}`,
                e.iova,
              );
              eq(itemDirty(fmt, v), carried.dirty, `dirty state of the piece at ${show(e.iova)}`, e.iova);
            }
          }
          agreeRange(t, iova, pa, size, RW);
          deviceAgrees(env, d, model, `after the cut at ${show(cut)}`, [cut - g, cut]);
          eq(t.pt.unmap(iova, off), off, "unmap of [start, cut)", iova);
          model.unmap(iova, off);
          agreeAt(t, cut - g, undefined);
          agreeAt(t, cut, { pa: pa + off, prot: RW });
          deviceAgrees(env, d, model, "after unmapping [start, cut)", [cut - g, cut]);
          eq(t.pt.unmap(cut, size - off), size - off, "unmap of [cut, end)", cut);
          model.unmap(cut, size - off);
          deviceAgrees(env, d, model, "after unmapping [cut, end)", [cut]);
          cuts++;
        }
      }
    }
    const min = t.sizes[0]!;
    // A cut at an entry boundary, in a hole, or at an unaligned IOVA.
    t.pt.map(region.start, 0n, min, RW);
    t.pt.map(region.start + min, min, min, RW);
    eq(t.pt.cut(region.start + min), false, "a cut between two smallest pages");
    eq(t.pt.cut(region.start + 4n * min), false, "a cut in a hole");
    if (min > 1n) t.rejects("EINVAL", "a cut at an unaligned IOVA", (pt) => pt.cut(region.start + min / 2n));
    eq(t.pt.unmap(region.start, 2n * min), 2n * min, "unmap");
    if (t.sizes.length > 1) check(cuts > 0, "no cut was tried");
  },
});
