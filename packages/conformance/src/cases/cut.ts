// cut on every format: a large or contiguous entry cut at every smaller page-size boundary keeps its
// translation, attributes, status bits and dirty state in every piece, gathers the whole entry, and
// leaves [start, cut) and [cut, end) to unmap separately; model, walker and device agree throughout.
// Inside the invalidation a cut owes, a break-before-make format shows a fault at the cut and a
// replacing format the old translation: never anything else.
import { Prot, type PtFormat } from "@genpt/core";
import { IntervalModel } from "@genpt/sim";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { check, eq, fail, show } from "../support/assert.js";
import { type DeviceTable, deviceAgrees, deviceTable } from "../support/device.js";
import type { CaseEnv } from "../support/env.js";
import { entryItems, locate, type RawItem } from "../support/raw.js";
import {
  carriedState,
  cleaned,
  itemDirty,
  itemWord,
  leafEntries,
  sameAttrs,
  undeclaredBits,
} from "../support/resize.js";

const RW = Prot.READ | Prot.WRITE;

/** The device's view inside the flush windows of one cut: the old translation, or a counted fault. */
interface Window {
  readonly cut: bigint;
  readonly pa: bigint;
  faults: number;
}

/** One scenario's fixture: the table behind the device, the model, and the window being watched. */
interface CutEnv {
  readonly env: CaseEnv;
  readonly d: DeviceTable;
  readonly model: IntervalModel;
  window: Window | undefined;
}

export const cutBoundaries = defineCase({
  name: "cut_boundaries",
  summary:
    "cut at every page-size boundary of every large entry: pieces keep attributes and dirty state; each side unmaps alone",
  run(env) {
    // The flushes start only with the first map, after `c` exists.
    const d = deviceTable(env, { onFlush: () => watchWindow(c) });
    const c: CutEnv = { env, d, model: new IntervalModel(), window: undefined };
    const t = d.t;
    const region = t.regions[0]!;
    const span = region.end - region.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    let cuts = 0;
    for (const size of t.sizes.filter(
      (s) => s > t.sizes[0]! && s <= 1n << 30n && 4n * s <= span && 4n * s <= oaEnd,
    )) {
      for (const piece of t.sizes.filter((s) => s < size)) {
        for (const off of new Set([piece, size - piece, size / 2n + piece])) {
          if (off <= 0n || off >= size) continue;
          cutOnce(c, region.start + size, 2n * size, size, off);
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

/** In each flush window the device's walk of the cut finds the old translation, or (break-before-make only) nothing. */
function watchWindow(c: CutEnv): void {
  const w = c.window;
  if (!w || !c.d.iommu) return;
  const r = c.d.iommu.probeWalk(w.cut);
  const resize = c.env.format.resize;
  if (!r.ok && resize === "break-before-make") w.faults++;
  else if (!r.ok || r.pa !== w.pa)
    fail(
      `${resize}: in a flush window the device sees ${r.ok ? show(r.pa) : r.kind}, not ${show(w.pa)}`,
      w.cut,
    );
}

/** Maps one `size` entry at iova -> pa, cuts it at iova + off, checks the pieces, and unmaps each side. */
function cutOnce(c: CutEnv, iova: bigint, pa: bigint, size: bigint, off: bigint): void {
  const { env, d, model } = c;
  const t = d.t;
  const g = t.granule;
  const orig = entryToCut(c, iova, pa, size);
  const carried = carriedState(env.format, orig);
  const cut = env.at(iova + off);
  t.rec.reset();
  c.window = { cut, pa: pa + off, faults: 0 };
  check(t.pt.cut(cut), `cut at ${show(cut)} inside a ${show(size)} entry did nothing`, cut);
  if (d.iommu && env.format.resize === "break-before-make")
    check(c.window.faults > 0, "no flush window with the entry broken", cut);
  c.window = undefined;
  eq(t.rec.uncovered(iova, size), undefined, "first IOVA of the cut entry no flush covered", cut);
  eq(t.pt.cut(cut), false, "a second cut at the same place", cut);
  const pieces = leafEntries(t.pt, iova, size);
  check(
    pieces.some((e) => e.iova === cut),
    `no piece starts at the cut ${show(cut)}`,
    cut,
  );
  for (const e of pieces) for (const it of e.items) checkPiece(env.format, it, e.iova, orig[0]!, carried);
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
}

/**
 * Maps the entry and, where the format tracks dirty, writes to it by DMA (which sets whatever the
 * hardware sets: dirty, accessed) or setDirty; returns its items, each checked to hold no bit that is
 * neither an attribute nor a declared status bit.
 */
function entryToCut(c: CutEnv, iova: bigint, pa: bigint, size: bigint): RawItem[] {
  const { env, d, model } = c;
  const t = d.t;
  t.pt.map(env.at(iova), pa, size, RW);
  model.map(iova, pa, size, RW);
  eq(leafEntries(t.pt, iova, t.granule)[0]?.size, size, `one ${show(size)} entry before the cut`, iova);
  if (env.format.dirty) {
    t.pt.readAndClearDirty(iova, size);
    const at = iova + size - t.granule;
    if (d.iommu) check(d.iommu.dma(at, 8n, "write").ok, "DMA write to the entry faults", at);
    else t.pt.setDirty(at);
  }
  const orig = entryItems(t.pt, locate(t.pt, iova)!);
  for (const it of orig) {
    const extra = undeclaredBits(env.format, it);
    if (extra !== 0n)
      fail(`bits ${show(extra)} of the entry are neither attributes nor declared statusBits`, iova);
  }
  return orig;
}

/** A piece keeps the entry's attributes, its status bits (ORed over the items) and its dirty state. */
function checkPiece(
  fmt: PtFormat<unknown>,
  it: RawItem,
  at: bigint,
  orig: RawItem,
  carried: { status: bigint; dirty: boolean },
): void {
  const v = itemWord(it);
  check(sameAttrs(fmt, orig, it), `attributes of the piece at ${show(at)} differ from the entry's`, at);
  eq(cleaned(fmt, v) & fmt.statusBits, carried.status, `status bits of the piece at ${show(at)}`, at);
  eq(itemDirty(fmt, v), carried.dirty, `dirty state of the piece at ${show(at)}`, at);
}
