// cut and splitBlocks: replace a large or contiguous leaf with smaller entries that translate exactly as
// it did, with its attributes, status bits and dirty state. Each replacement is built first in a private
// copy of the entry's slots (and in new tables nobody can reach yet) by the map walk itself; only when
// every allocation has succeeded are the copies installed, so ENOMEM changes nothing.
import { POW2 } from "./bits.js";
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";
import type { Gather } from "./gather.js";
import type { Layout } from "./layout.js";
import { findLeaf } from "./lookup.js";
import { mapEntries, newMapJob } from "./map.js";
import { carryOfEntry, installSlots, leafAttrs } from "./resize.js";

/** One live leaf entry to replace. */
interface Target {
  readonly pa: number;
  readonly level: number;
  readonly tableVpn: number;
  readonly first: number;
  readonly k: number;
  /** The entry's IOVA and length, and its OA, in granules. */
  readonly vpn: number;
  readonly n: number;
  readonly oa: number;
  readonly lo: number;
  readonly hi: number;
}

export interface SplitResult {
  /** Leaf entries replaced by smaller ones. */
  readonly entries: number;
  /** Tables allocated for the pieces. */
  readonly tables: number;
}

/**
 * Splits the leaf spanning `vpn` so that `vpn` becomes an entry boundary at every level, keeping the
 * largest entries that fit on either side. False when `vpn` already is one (or is unmapped).
 */
export function cutAt(ctx: Ctx, vpn: number, gather: Gather): boolean {
  const st = findLeaf(ctx, vpn);
  if (!st) return false;
  const k = POW2[st.contigLg2()]!;
  const first = st.index - (st.index % k);
  const start = st.slotVpn(first);
  if (start === vpn) return false;
  const t = target(ctx, st.pa, st.level, st.tableVpn, first, k, st.lo, st.hi);
  replace(ctx, [t], ctx.lay, (x) => [x.vpn, vpn, vpn, x.vpn + x.n], gather);
  return true;
}

/** Replaces every leaf larger than the smallest page that meets [start, end) with smallest pages. */
export function splitRange(ctx: Ctx, start: number, end: number, gather: Gather): SplitResult {
  const lay = ctx.splitLay;
  const minUnits = POW2[lay.sizes[0]!]!;
  const targets: Target[] = [];
  const top = ctx.top;
  if (start < ctx.coverage(top.level))
    collect(ctx, top.level, top.pa, 0, ctx.entriesAt(top.level, true), start, end, minUnits, targets);
  if (targets.length === 0) return { entries: 0, tables: 0 };
  const tables = replace(ctx, targets, lay, (x) => [x.vpn, x.vpn + x.n], gather);
  return { entries: targets.length, tables };
}

function target(
  ctx: Ctx,
  pa: number,
  level: number,
  tableVpn: number,
  first: number,
  k: number,
  lo: number,
  hi: number,
): Target {
  const unit = ctx.lay.itemUnits[level]!;
  const vpn = tableVpn + first * unit;
  const oa = ctx.fmt.leafOa(lo, hi, level);
  return { pa, level, tableVpn, first, k, vpn, n: k * unit, oa, lo, hi };
}

function collect(
  ctx: Ctx,
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
  start: number,
  end: number,
  minUnits: number,
  out: Target[],
): void {
  const st = ctx.states[level]!;
  st.enter(pa, tableVpn, entries, start, end);
  const unit = ctx.lay.itemUnits[level]!;
  while (st.index < st.endIndex) {
    const kind = st.load();
    if (kind === EMPTY) {
      st.index++;
      continue;
    }
    const index = st.index;
    if (kind === LEAF) {
      const k = POW2[st.contigLg2()]!;
      const first = index - (index % k);
      if (k * unit > minUnits) out.push(target(ctx, pa, level, tableVpn, first, k, st.lo, st.hi));
      st.index = first + k;
      continue;
    }
    const child = ctx.fmt.tablePa(st.lo, st.hi, level);
    collect(ctx, level - 1, child, st.slotVpn(index), ctx.lay.entries[level - 1]!, start, end, minUnits, out);
    st.index = index + 1;
  }
}

/**
 * Builds the replacement of every target (each as the map of the runs `runsOf` gives, from `lay`'s
 * sizes), then installs them all. Returns the tables allocated.
 */
function replace(
  ctx: Ctx,
  targets: readonly Target[],
  lay: Layout,
  runsOf: (t: Target) => number[],
  gather: Gather,
): number {
  const before = ctx.alloc.allocCount();
  const cp = ctx.alloc.checkpoint();
  const built: Uint32Array[] = [];
  try {
    for (const t of targets) built.push(build(ctx, t, lay, runsOf(t)));
    ctx.alloc.commit(cp);
  } catch (e) {
    ctx.alloc.rollback(cp);
    throw e;
  }
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    installSlots(ctx, t.pa, t.first, t.k, built[i]!, t.vpn, t.vpn + t.n, false, gather);
  }
  return ctx.alloc.allocCount() - before;
}

/** The new contents of the target's slots: `runs` ([start, end) pairs) mapped as the entry mapped them. */
function build(ctx: Ctx, t: Target, lay: Layout, runs: number[]): Uint32Array {
  const words = new Uint32Array(t.k * ctx.lay.wpe);
  const st = ctx.states[t.level]!;
  st.enterCopy(words, t.first, t.tableVpn);
  const attrs = leafAttrs(ctx, t.lo, t.hi, t.level);
  const carry = carryOfEntry(ctx, t.pa, t.first, t.k);
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!;
    const end = runs[r + 1]!;
    const job = newMapJob(start, t.oa + (start - t.vpn), end, attrs, lay, carry);
    st.aim(t.first + t.k, start, end);
    mapEntries(ctx, job, st, true);
  }
  return words;
}
