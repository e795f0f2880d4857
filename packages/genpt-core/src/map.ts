// map: one walk over [vpn, end) that places the best page size at every step, fills runs of leaves in
// one loop, allocates tables on demand and grows a dynamic top. It is atomic: writes into tables that
// existed before the call are logged and undone on failure, and the allocator transaction returns every
// new table, so a failed map leaves memory and allocator exactly as they were.
import { hex, PtError } from "@genpt/alloc";
import { ctz, floorLog2, POW2 } from "./bits.js";
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF, TABLE } from "./format.js";
import type { Gather } from "./gather.js";
import { bestSize, type Layout } from "./layout.js";
import { type Carry, leafHiWith, leafLoWith, NO_CARRY } from "./resize.js";
import type { PtState } from "./state.js";
import { growTop, publishTop } from "./top.js";
import { collectTables, subtreeHasLeaf } from "./tree.js";

/**
 * One map walk. As a Carry it is applied to every leaf word written: the identity for map; for a split
 * or cut, the status bits and dirty state the old entry carried.
 */
export interface MapJob<A> extends Carry {
  vpn: number;
  pfn: number;
  readonly end: number;
  readonly attrs: A;
  /** The page sizes to pick from: the table's own, or only the smallest when splitting. */
  readonly lay: Layout;
  /** (table pa, first index, count) triples written in tables that existed before the call. */
  readonly undoRuns: number[];
  /** Table pointers overwritten by a leaf (their subtree held no leaf), restored on failure. */
  readonly undoPtrs: Array<{ pa: number; index: number; lo: number; hi: number }>;
  /** Tables unlinked by those overwrites, with the granule span each covered, gathered on success. */
  readonly replaced: Array<{ table: number; level: number; vpn: number; span: number }>;
}

/** A walk mapping [vpn, end) to pfn with `lay`'s sizes, leaves written with `carry`. */
export function newMapJob<A>(
  vpn: number,
  pfn: number,
  end: number,
  attrs: A,
  lay: Layout,
  carry: Carry = NO_CARRY,
): MapJob<A> {
  const { keepLo, keepHi, setLo, setHi } = carry;
  return {
    vpn,
    pfn,
    end,
    attrs,
    lay,
    keepLo,
    keepHi,
    setLo,
    setHi,
    undoRuns: [],
    undoPtrs: [],
    replaced: [],
  };
}

export function mapRange<A>(
  ctx: Ctx<A>,
  vpn: number,
  pfn: number,
  n: number,
  attrs: A,
  gather: Gather,
): void {
  const job = newMapJob(vpn, pfn, vpn + n, attrs, ctx.lay);
  const old = ctx.top;
  const need = topLevelNeeded(ctx, vpn, pfn, n);
  const cp = ctx.alloc.checkpoint();
  try {
    const root = need > old.level ? growTop(ctx, old, need) : old;
    mapTable(ctx, job, root.level, root.pa, 0, ctx.entriesAt(root.level, true), root !== old);
    if (root !== old) publishTop(ctx, old, root);
    ctx.alloc.commit(cp);
  } catch (e) {
    undo(ctx, job);
    ctx.alloc.rollback(cp);
    throw e;
  }
  for (const r of job.replaced) {
    for (const t of collectTables(ctx, r.table, r.level)) gather.addTable(t);
    gather.addRange(r.vpn, r.vpn + r.span);
  }
}

/** The top level the range needs: it must fit, and a top that holds no leaf must sit above every leaf. */
function topLevelNeeded(ctx: Ctx, vpn: number, pfn: number, n: number): number {
  let need = ctx.top.level;
  if (!ctx.dynamicTop) return need;
  const end = vpn + n;
  while (need < ctx.lay.maxTopLevel && end > ctx.coverage(need)) need++;
  // The largest leaf any step could pick: bounded by the length and by how vpn and pfn are congruent.
  // Its level must be at or below the top (as Linux's check_map_range grows until leaf_level <= top),
  // strictly below when the top may not hold leaves.
  const diff = Math.abs(vpn - pfn);
  let bound = Math.min(floorLog2(n), diff === 0 ? 64 : ctz(diff));
  // ...and by the largest naturally aligned block that fits inside [vpn, end).
  while (bound > 0 && Math.ceil(vpn / POW2[bound]!) * POW2[bound]! + POW2[bound]! > end) bound--;
  const s = ctx.lay.bestAtMost[bound]!;
  const lvl = s >= 0 ? ctx.lay.levelOfSize[s]! : 0;
  const above = ctx.fmt.geometry.topHoldsLeaf === false ? 1 : 0;
  while (need < ctx.lay.maxTopLevel && lvl + above > need) need++;
  return need;
}

function mapTable<A>(
  ctx: Ctx<A>,
  job: MapJob<A>,
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
  fresh: boolean,
): void {
  const st = ctx.states[level]!;
  st.enter(pa, tableVpn, entries, job.vpn, job.end);
  mapEntries(ctx, job, st, fresh);
}

/**
 * The body of mapTable for a state already pointed at its table: also run by split and cut over a
 * private copy of a table's slots (st.pa < 0), where every write is fresh.
 */
export function mapEntries<A>(ctx: Ctx<A>, job: MapJob<A>, st: PtState, fresh: boolean): void {
  const lay = job.lay;
  const level = st.level;
  while (st.index < st.endIndex) {
    const s = bestSize(lay, job.vpn, job.pfn, job.end - job.vpn);
    if (s < 0)
      throw new PtError(
        "ENXIO",
        `map: no page size fits at iova granule ${hex(job.vpn)} -> oa granule ${hex(job.pfn)}`,
      );
    const sl = lay.levelOfSize[s]!;
    if (sl === level) {
      mapLeaves(ctx, job, st, s, fresh);
      continue;
    }
    if (sl > level)
      throw new PtError("ENXIO", `map: a ${hex(2 ** (s + lay.g))}-byte page cannot sit below level ${level}`);
    const index = st.index;
    const kind = st.load();
    let child: number;
    let childFresh = false;
    if (kind === TABLE) {
      child = ctx.fmt.tablePa(st.lo, st.hi, level);
      ctx.settleChild(st, index, child);
    } else if (kind === EMPTY) {
      const lg2 = lay.tableLg2[level - 1]!;
      child = ctx.allocTable(lg2);
      if (ctx.incoherent) ctx.alloc.startIncoherent(child);
      ctx.linkTable(st, index, child, lg2);
      if (!fresh) job.undoRuns.push(st.pa, index, 1);
      childFresh = true;
    } else {
      throw inUse(ctx, st, index);
    }
    mapTable(ctx, job, level - 1, child, st.slotVpn(index), lay.entries[level - 1]!, childFresh);
    st.index = index + 1;
  }
}

/** Writes as many leaves of size `s` as the walk can place at this level before the best size changes. */
function mapLeaves<A>(ctx: Ctx<A>, job: MapJob<A>, st: PtState, s: number, fresh: boolean): void {
  const lay = job.lay;
  const level = st.level;
  const size = POW2[s]!;
  const k = POW2[s - lay.itemShift[level]!]!;
  let count = Math.floor((st.endIndex - st.index) / k);
  const byLen = Math.floor((job.end - job.vpn) / size);
  if (byLen < count) count = byLen;
  const next = lay.nextLarger[s]!;
  if (next < 64 && (job.vpn - job.pfn) % POW2[next]! === 0) {
    // Alignment improves at the next multiple of the next larger size: stop there to pick it.
    const nb = POW2[next]!;
    const toBoundary = (Math.ceil(job.vpn / nb) * nb - job.vpn) / size;
    if (toBoundary > 0 && toBoundary < count) count = toBoundary;
  }
  const first = st.index;
  const items = count * k;
  checkEmpty(ctx, job, st, first, items);
  writeLeaves(ctx, job, st, first, count, k, s);
  if (ctx.incoherent && st.pa >= 0) ctx.flushEntries(st.pa, first, items);
  if (!fresh) job.undoRuns.push(st.pa, first, items);
  st.index = first + items;
  job.vpn += count * size;
  job.pfn += count * size;
}

/** Every target slot must be empty, or a table whose subtree holds no leaf (replaced, as clear_contig does). */
function checkEmpty<A>(ctx: Ctx<A>, job: MapJob<A>, st: PtState, first: number, items: number): void {
  const wpe = ctx.lay.wpe;
  const w = st.w;
  const base = st.off + first * wpe;
  const stop = base + items * wpe;
  for (let i = base; i < stop; i++) {
    if (w[i] === 0) continue;
    const index = first + Math.floor((i - base) / wpe);
    const at = base + (index - first) * wpe;
    const lo = w[at]!;
    const hi = wpe === 2 ? w[at + 1]! : 0;
    const kind = ctx.fmt.kind(lo, hi, st.level);
    if (kind === LEAF) throw inUse(ctx, st, index);
    if (kind === TABLE) {
      const child = ctx.fmt.tablePa(lo, hi, st.level);
      if (subtreeHasLeaf(ctx, child, st.level - 1)) throw inUse(ctx, st, index);
      job.undoPtrs.push({ pa: st.pa, index, lo, hi });
      job.replaced.push({
        table: child,
        level: st.level - 1,
        vpn: st.slotVpn(index),
        span: ctx.lay.itemUnits[st.level]!,
      });
    }
    i = at + wpe - 1;
  }
}

/** Fills `count` entries of `k` items each, OA ascending from the job's pfn. */
function writeLeaves<A>(
  ctx: Ctx<A>,
  job: MapJob<A>,
  st: PtState,
  first: number,
  count: number,
  k: number,
  s: number,
): void {
  const fmt = ctx.fmt;
  const lay = ctx.lay;
  const { pfn, attrs } = job;
  const level = st.level;
  const wpe = lay.wpe;
  const w = st.w;
  const sizeLg2 = s + lay.g;
  const size = POW2[s]!;
  let p = st.off + first * wpe;
  if (k === 1 || fmt.replicatedContig) {
    if (count > 2 && fillLinear(ctx, job, st, p, count, k, size, sizeLg2)) return;
    let oa = pfn;
    for (let e = 0; e < count; e++, oa += size) {
      const lo = leafLoWith(fmt, oa, sizeLg2, level, attrs, job);
      if (wpe === 2) {
        const hi = leafHiWith(fmt, oa, sizeLg2, level, attrs, job);
        for (let j = 0; j < k; j++, p += 2) {
          w[p] = lo;
          w[p + 1] = hi;
        }
      } else {
        for (let j = 0; j < k; j++, p++) w[p] = lo;
      }
    }
    return;
  }
  const iu = lay.itemUnits[level]!;
  const items = count * k;
  for (let j = 0, oa = pfn; j < items; j++, oa += iu, p += wpe) {
    w[p] = leafLoWith(fmt, oa, sizeLg2, level, attrs, job);
    if (wpe === 2) w[p + 1] = leafHiWith(fmt, oa, sizeLg2, level, attrs, job);
  }
}

function inUse(ctx: Ctx, st: PtState, index: number): PtError {
  const iova = ctx.aperture.toIova(st.slotVpn(index));
  return new PtError(
    "EADDRINUSE",
    `map: iova ${hex(iova)} is already mapped (level ${st.level} slot ${index} in use)`,
  );
}

function undo<A>(ctx: Ctx<A>, job: MapJob<A>): void {
  const wpe = ctx.lay.wpe;
  const u = job.undoRuns;
  for (let i = 0; i < u.length; i += 3) {
    const pa = u[i]!;
    const index = u[i + 1]!;
    const count = u[i + 2]!;
    const w = ctx.mem.chunk(pa);
    const off = ctx.mem.wordIndex(pa);
    w.fill(0, off + index * wpe, off + (index + count) * wpe);
    if (ctx.incoherent) ctx.flushEntries(pa, index, count);
  }
  for (const p of job.undoPtrs) {
    const w = ctx.mem.chunk(p.pa);
    const at = ctx.mem.wordIndex(p.pa) + p.index * wpe;
    w[at] = p.lo;
    if (wpe === 2) w[at + 1] = p.hi;
    if (ctx.incoherent) ctx.flushEntries(p.pa, p.index, 1);
  }
}

/**
 * Most formats hold the OA as a plain binary field, so entry e is entry 0 plus e times a fixed step.
 * The step is measured from the format itself (entries 0 and 1) and checked against the last entry;
 * when that holds, the run is filled with adds instead of two format calls per entry. Returns false,
 * writing nothing, when the encoding is not linear over this run (e.g. ARM 52-bit PA, v7s MTK bits).
 */
function fillLinear<A>(
  ctx: Ctx<A>,
  job: MapJob<A>,
  st: PtState,
  p0: number,
  count: number,
  k: number,
  size: number,
  sizeLg2: number,
): boolean {
  const fmt = ctx.fmt;
  const level = st.level;
  const wpe = ctx.lay.wpe;
  const { pfn, attrs } = job;
  const lo0 = leafLoWith(fmt, pfn, sizeLg2, level, attrs, job);
  const hi0 = wpe === 2 ? leafHiWith(fmt, pfn, sizeLg2, level, attrs, job) : 0;
  const lo1 = leafLoWith(fmt, pfn + size, sizeLg2, level, attrs, job);
  const hi1 = wpe === 2 ? leafHiWith(fmt, pfn + size, sizeLg2, level, attrs, job) : 0;
  const step = (hi1 - hi0) * 4294967296 + (lo1 - lo0);
  if (step <= 0 || step >= 4294967296) return false;
  // The low word carries into the high one; kept apart, since the high word may hold bits above 2^53
  // (AMD's IR/IW/FC at 60..62).
  const last = pfn + (count - 1) * size;
  const lastLo = lo0 + (count - 1) * step;
  const carry = Math.floor(lastLo / 4294967296);
  if (leafLoWith(fmt, last, sizeLg2, level, attrs, job) !== lastLo % 4294967296) return false;
  if (wpe === 2 && leafHiWith(fmt, last, sizeLg2, level, attrs, job) !== hi0 + carry) return false;
  if (wpe === 1 && carry !== 0) return false;
  const w = st.w;
  let lo = lo0;
  let hi = hi0;
  let p = p0;
  if (k === 1 && wpe === 2) {
    // The common case gets a loop of its own: nested loops and per-item width tests cost 5x here.
    const end = p0 + 2 * count;
    for (; p < end; p += 2) {
      w[p] = lo;
      w[p + 1] = hi;
      lo += step;
      if (lo >= 4294967296) {
        lo -= 4294967296;
        hi++;
      }
    }
    return true;
  }
  for (let e = 0; e < count; e++) {
    if (wpe === 2) {
      for (let j = 0; j < k; j++, p += 2) {
        w[p] = lo;
        w[p + 1] = hi;
      }
    } else {
      for (let j = 0; j < k; j++, p++) w[p] = lo;
    }
    lo += step;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi++;
    }
  }
  return true;
}
