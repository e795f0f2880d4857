// Dirty tracking: readAndClearDirty reports dirty leaves at entry granularity (an entry is dirty when any
// of its items is; cleaning cleans every item, since hardware may dirty just one copy), merges adjacent
// ranges, and gathers what it cleaned because the IOTLB caches the dirty state. setDirty is the test
// hook that dirties one item the way the hardware would.
import { POW2 } from "./bits.js";
import type { Ctx, DirtyWords } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";
import type { Gather } from "./gather.js";
import type { PtState } from "./state.js";

interface DirtyJob {
  readonly start: number;
  readonly end: number;
  readonly noClear: boolean;
  readonly gather: Gather;
  /** Merged dirty ranges as flat [start, end) granule pairs. */
  readonly out: number[];
}

/** Scans [start, end); returns merged dirty granule ranges as flat [start, end) pairs. */
export function readAndClearDirtyRange(
  ctx: Ctx,
  start: number,
  end: number,
  noClear: boolean,
  gather: Gather,
): number[] {
  const job: DirtyJob = { start, end, noClear, gather, out: [] };
  const top = ctx.top;
  if (start < ctx.coverage(top.level))
    dirtyTable(ctx, job, top.level, top.pa, 0, ctx.entriesAt(top.level, true));
  return job.out;
}

function dirtyTable(
  ctx: Ctx,
  job: DirtyJob,
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
): void {
  const st = ctx.states[level]!;
  const { lay, fmt } = ctx;
  const d = ctx.dirty!;
  st.enter(pa, tableVpn, entries, job.start, job.end);
  if (level === 0) {
    scanLevel0(ctx, job, st, d);
    return;
  }
  while (st.index < st.endIndex) {
    const kind = st.load();
    if (kind === EMPTY) {
      st.index++;
      continue;
    }
    if (kind === LEAF) {
      const k = POW2[st.contigLg2()]!;
      const first = st.index - (st.index % k);
      if (entryDirty(st, d, first, k, lay.wpe)) {
        const evpn = st.slotVpn(first);
        record(ctx, job, st, first, k, evpn, evpn + k * lay.itemUnits[level]!, d);
      }
      st.index = first + k;
      continue;
    }
    const index = st.index;
    dirtyTable(
      ctx,
      job,
      level - 1,
      fmt.tablePa(st.lo, st.hi, level),
      st.slotVpn(index),
      lay.entries[level - 1]!,
    );
    st.index = index + 1;
  }
}

/**
 * The hot loop at level 0: the dirty test is two masked compares per item, and only a dirty item costs
 * a size decode. A multi-item entry cut by either end of the range is widened to the whole entry first,
 * so that a dirty copy outside the range still counts (the OR over every item).
 */
function scanLevel0(ctx: Ctx, job: DirtyJob, st: PtState, d: DirtyWords): void {
  const w = st.w;
  const wpe = ctx.lay.wpe;
  const { maskLo, maskHi, valLo, valHi } = d;
  if (!ctx.singleItemLevel0) widenToEntries(st);
  const stop = st.off + st.endIndex * wpe;
  for (let p = st.off + st.index * wpe; p < stop; p += wpe) {
    if ((w[p]! & maskLo) !== valLo) continue;
    if (wpe === 2 && (w[p + 1]! & maskHi) !== valHi) continue;
    const index = (p - st.off) / wpe;
    if (ctx.singleItemLevel0) {
      record(ctx, job, st, index, 1, st.tableVpn + index, st.tableVpn + index + 1, d);
      continue;
    }
    st.index = index;
    st.load();
    const k = POW2[st.contigLg2()]!;
    const first = index - (index % k);
    record(ctx, job, st, first, k, st.tableVpn + first, st.tableVpn + first + k, d);
    p = st.off + (first + k - 1) * wpe;
  }
  st.index = st.endIndex;
}

/** Moves the state's index back, and its end forward, to whole multi-item entries. */
function widenToEntries(st: PtState): void {
  if (st.index >= st.endIndex) return;
  const first = st.index;
  const last = st.endIndex - 1;
  st.index = last;
  if (st.load() === LEAF) st.endIndex = last - (last % POW2[st.contigLg2()]!) + POW2[st.contigLg2()]!;
  st.index = first;
  if (st.load() === LEAF) st.index = first - (first % POW2[st.contigLg2()]!);
}

function entryDirty(st: PtState, d: DirtyWords, first: number, k: number, wpe: number): boolean {
  const w = st.w;
  for (let j = 0, p = st.off + first * wpe; j < k; j++, p += wpe) {
    if ((w[p]! & d.maskLo) === d.valLo && (wpe === 1 || (w[p + 1]! & d.maskHi) === d.valHi)) return true;
  }
  return false;
}

function record(
  ctx: Ctx,
  job: DirtyJob,
  st: PtState,
  first: number,
  k: number,
  s: number,
  e: number,
  d: DirtyWords,
): void {
  const out = job.out;
  const n = out.length;
  if (n > 0 && out[n - 1] === s) out[n - 1] = e;
  else out.push(s, e);
  if (job.noClear) return;
  const w = st.w;
  const wpe = ctx.lay.wpe;
  for (let j = 0, p = st.off + first * wpe; j < k; j++, p += wpe) {
    w[p] = (w[p]! & d.cleanKeepLo) | d.cleanSetLo;
    if (wpe === 2) w[p + 1] = (w[p + 1]! & d.cleanKeepHi) | d.cleanSetHi;
  }
  if (ctx.incoherent) ctx.flushEntries(st.pa, first, k);
  if (!ctx.breaks.skipDirtyGather) job.gather.addRange(s, e);
}

/**
 * Dirties the item translating `vpn` as a DMA write would, when the entry can be dirtied. Returns false
 * when nothing is mapped there or the entry is not tracked (e.g. read-only).
 */
export function setDirtyAt(ctx: Ctx, st: PtState): boolean {
  const d = ctx.dirty!;
  const wpe = ctx.lay.wpe;
  const p = st.off + st.index * wpe;
  const w = st.w;
  const lo = w[p]!;
  const hi = wpe === 2 ? w[p + 1]! : 0;
  if ((lo & d.trackMaskLo) !== d.trackValLo || (hi & d.trackMaskHi) !== d.trackValHi) return false;
  w[p] = (lo & d.dirtyKeepLo) | d.dirtySetLo;
  if (wpe === 2) w[p + 1] = (hi & d.dirtyKeepHi) | d.dirtySetHi;
  if (ctx.incoherent) ctx.flushEntries(st.pa, st.index, 1);
  return true;
}
