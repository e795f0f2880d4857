// mergePages: the inverse of a split. Bottom-up over [start, end), each table is read into a plan: its
// slots grouped into runs of leaves that continue one another (OA contiguous, same attributes, none dirty
// unless the caller carries dirty state). A table that is one aligned run is handed up, and its parent
// replaces the pointer with one leaf and gathers the table; otherwise each run is rewritten with the
// largest entries its level can hold (e.g. 16 sections into a supersection), leaving entries that are
// already the best in place. Holes, other attributes, dirty leaves and misaligned OAs stop runs, so a
// table holding any of them is never replaced.
import { POW2 } from "./bits.js";
import type { Ctx } from "./ctx.js";
import { LEAF, TABLE } from "./format.js";
import type { Gather } from "./gather.js";
import { bestSize } from "./layout.js";
import { carryFor, cleanHi, cleanLo, installSlots, isDirty, leafHiWith, leafLoWith } from "./resize.js";
import { collectTables } from "./tree.js";

/** A linear run's next cleaned words and the low word's step per item. */
interface Linear {
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
}

export interface MergeResult {
  /** Leaf entries written, each replacing smaller entries or a table. */
  readonly entries: number;
  /** Tables unlinked and gathered for freeing. */
  readonly tables: number;
}

interface MergeJob {
  readonly start: number;
  readonly end: number;
  readonly carryDirty: boolean;
  readonly gather: Gather;
  entries: number;
  tables: number;
  /** One reusable plan per level. */
  readonly plans: Plan[];
}

// Slot classes of a plan; 0 (the default) is a slot no run may take: empty, a table, dirty, partial.
const REAL = 1;
/** A table pointer whose whole table can become one leaf here. */
const VIRTUAL = 2;

/**
 * One table read for merging: per slot in [i0, i1), its class, OA, run and carried state. One plan per
 * level is reused for every table of that level (only one is ever live), since allocating its arrays
 * per table would cost more than reading the table.
 */
class Plan {
  level = 0;
  pa = 0;
  tableVpn = 0;
  i0 = 0;
  i1 = 0;
  cls: Uint8Array;
  oa: Float64Array;
  /** Run number of each slot (-1: none); slots of one run are consecutive. */
  run: Int32Array;
  /** Attributes of each run. */
  runAttrs: unknown[] = [];
  /** For REAL slots, the first slot and item count of the entry they belong to. */
  entryFirst: Int32Array;
  entryK: Int32Array;
  /** For VIRTUAL slots, the child table. */
  child: Float64Array;
  dirty: Uint8Array;
  sLo: Uint32Array;
  sHi: Uint32Array;
  /** Set when the whole table is one run aligned to its span: the leaf its parent may put in its place. */
  uniform: { oa: number; attrs: unknown; dirty: boolean; sLo: number; sHi: number } | undefined;

  constructor(n: number) {
    this.cls = new Uint8Array(n);
    this.oa = new Float64Array(n);
    this.run = new Int32Array(n);
    this.entryFirst = new Int32Array(n);
    this.entryK = new Int32Array(n);
    this.child = new Float64Array(n);
    this.dirty = new Uint8Array(n);
    this.sLo = new Uint32Array(n);
    this.sHi = new Uint32Array(n);
  }

  /** Readies the plan for slots [i0, i1) of the table at `pa`. */
  reset(level: number, pa: number, tableVpn: number, i0: number, i1: number): void {
    this.level = level;
    this.pa = pa;
    this.tableVpn = tableVpn;
    this.i0 = i0;
    this.i1 = i1;
    this.cls.fill(0, 0, i1 - i0);
    this.run.fill(-1, 0, i1 - i0);
    this.runAttrs.length = 0;
    this.uniform = undefined;
  }
}

/** The reusable plan for `level`, with room for `n` slots. */
function planFor(job: MergeJob, level: number, n: number): Plan {
  let plan = job.plans[level];
  if (!plan || plan.cls.length < n) {
    plan = new Plan(n);
    job.plans[level] = plan;
  }
  return plan;
}

export function mergeRange(
  ctx: Ctx,
  start: number,
  end: number,
  carryDirty: boolean,
  gather: Gather,
): MergeResult {
  const job: MergeJob = { start, end, carryDirty, gather, entries: 0, tables: 0, plans: [] };
  const top = ctx.top;
  if (start < ctx.coverage(top.level)) {
    const plan = planTable(ctx, job, top.level, top.pa, 0, ctx.entriesAt(top.level, true), true);
    apply(ctx, job, plan);
  }
  return { entries: job.entries, tables: job.tables };
}

/** Reads one table into a plan, first merging (or planning) every child table in range. */
function planTable(
  ctx: Ctx,
  job: MergeJob,
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
  isTop: boolean,
): Plan {
  const { fmt, lay, mem } = ctx;
  const unit = lay.itemUnits[level]!;
  const wpe = lay.wpe;
  const i0 = job.start > tableVpn ? Math.floor((job.start - tableVpn) / unit) : 0;
  const i1 = Math.min(entries, Math.ceil((job.end - tableVpn) / unit));
  const n = i1 - i0;
  const plan = planFor(job, level, n);
  plan.reset(level, pa, tableVpn, i0, i1);
  const itemLg2 = lay.itemShift[level]! + lay.g;
  const itemIsLeaf = lay.levelOfSize[lay.itemShift[level]!] === level;
  const w = mem.chunk(pa);
  const off = mem.wordIndex(pa);
  // The open run: its number, attributes, and the OA the next slot must have to continue it.
  let run = -1;
  let attrs: unknown;
  let nextOa = -1;
  // While a run of single-item leaves has a linear encoding, the next slot continues it exactly when
  // its cleaned words are the last ones plus the step, which needs no format call (lin < 0: not known).
  let lin = false;
  let linLo = 0;
  let linHi = 0;
  let step = 0;
  const d = ctx.dirty;
  const { statusLo, statusHi } = ctx;
  for (let i = i0; i < i1; ) {
    const x = i - i0;
    const p = off + i * wpe;
    const lo = w[p]!;
    const hi = wpe === 2 ? w[p + 1]! : 0;
    if (lin && (lo | hi) !== 0) {
      let clo = lo;
      let chi = hi;
      const dirty = d !== undefined && (lo & d.maskLo) === d.valLo && (hi & d.maskHi) === d.valHi;
      if (dirty) {
        clo = ((lo & d.cleanKeepLo) | d.cleanSetLo) >>> 0;
        chi = ((hi & d.cleanKeepHi) | d.cleanSetHi) >>> 0;
      }
      if (
        (clo & ~statusLo) >>> 0 === linLo &&
        (chi & ~statusHi) >>> 0 === linHi &&
        (!dirty || job.carryDirty)
      ) {
        plan.cls[x] = REAL;
        plan.oa[x] = nextOa;
        plan.run[x] = run;
        plan.entryFirst[x] = i;
        plan.entryK[x] = 1;
        plan.dirty[x] = dirty ? 1 : 0;
        plan.sLo[x] = clo & statusLo;
        plan.sHi[x] = chi & statusHi;
        nextOa += unit;
        linLo += step;
        if (linLo >= 4294967296) {
          linLo -= 4294967296;
          linHi++;
        }
        i++;
        continue;
      }
    }
    lin = false;
    const kind = fmt.kind(lo, hi, level);
    if (kind === TABLE) {
      const childPa = fmt.tablePa(lo, hi, level);
      const sub = planTable(
        ctx,
        job,
        level - 1,
        childPa,
        tableVpn + i * unit,
        lay.entries[level - 1]!,
        false,
      );
      const u = sub.uniform;
      if (u && itemIsLeaf) {
        const vlo = fmt.leafLo(u.oa, itemLg2, level, u.attrs);
        const vhi = fmt.leafHi(u.oa, itemLg2, level, u.attrs);
        const continues =
          run >= 0 &&
          u.oa === nextOa &&
          vlo === fmt.leafLo(u.oa, itemLg2, level, attrs) &&
          vhi === fmt.leafHi(u.oa, itemLg2, level, attrs);
        if (!continues) {
          run = plan.runAttrs.length;
          attrs = u.attrs;
          plan.runAttrs.push(attrs);
        }
        plan.cls[x] = VIRTUAL;
        plan.oa[x] = u.oa;
        plan.run[x] = run;
        plan.child[x] = childPa;
        plan.dirty[x] = u.dirty ? 1 : 0;
        plan.sLo[x] = u.sLo;
        plan.sHi[x] = u.sHi;
        nextOa = u.oa + unit;
      } else {
        apply(ctx, job, sub);
        run = -1;
      }
      i++;
      continue;
    }
    if (kind !== LEAF) {
      run = -1;
      i++;
      continue;
    }
    // A whole entry at once, so that a run never takes part of one.
    const lg2 = fmt.leafLg2(lo, hi, level);
    const k = POW2[lg2 - itemLg2]!;
    const first = i - (i % k);
    const eoa = fmt.leafOa(lo, hi, level);
    let dirty = false;
    let sLo = 0;
    let sHi = 0;
    for (let j = 0, q = off + first * wpe; j < k; j++, q += wpe) {
      const a = w[q]!;
      const b = wpe === 2 ? w[q + 1]! : 0;
      if (isDirty(ctx, a, b)) dirty = true;
      sLo |= cleanLo(ctx, a, b) & ctx.statusLo;
      sHi |= cleanHi(ctx, a, b) & ctx.statusHi;
    }
    const stop = Math.min(first + k, i1);
    if (first < i0 || first + k > i1 || (dirty && !job.carryDirty)) {
      run = -1;
      i = stop;
      continue;
    }
    const nlo = (cleanLo(ctx, lo, hi) & ~ctx.statusLo) >>> 0;
    const nhi = (cleanHi(ctx, lo, hi) & ~ctx.statusHi) >>> 0;
    // The first item's words against what the run's attributes would encode for this entry.
    const oaArg = fmt.replicatedContig ? eoa : eoa + (i - first) * unit;
    const continues =
      run >= 0 &&
      eoa === nextOa &&
      nlo === fmt.leafLo(oaArg, lg2, level, attrs) &&
      nhi === fmt.leafHi(oaArg, lg2, level, attrs);
    if (!continues) {
      run = plan.runAttrs.length;
      attrs = fmt.attrsFromEntry(nlo, nhi, level);
      plan.runAttrs.push(attrs);
    }
    for (let j = first; j < stop; j++) {
      const y = j - i0;
      plan.cls[y] = REAL;
      plan.oa[y] = eoa + (j - first) * unit;
      plan.run[y] = run;
      plan.entryFirst[y] = first;
      plan.entryK[y] = k;
      plan.dirty[y] = dirty ? 1 : 0;
      plan.sLo[y] = sLo >>> 0;
      plan.sHi[y] = sHi >>> 0;
    }
    nextOa = eoa + k * unit;
    i = stop;
    if (k === 1 && i < i1) {
      const l = linearFrom(ctx, attrs, level, nextOa, i1 - i);
      if (l) {
        lin = true;
        linLo = l.lo;
        linHi = l.hi;
        step = l.step;
      }
    }
  }
  if (!isTop && i0 === 0 && i1 === entries && n > 0 && plan.run[0] === 0 && plan.run[n - 1] === 0) {
    const span = entries * unit;
    if (plan.oa[0]! % span === 0) {
      let dirty = false;
      let sLo = 0;
      let sHi = 0;
      for (let x = 0; x < n; x++) {
        dirty ||= plan.dirty[x] === 1;
        sLo |= plan.sLo[x]!;
        sHi |= plan.sHi[x]!;
      }
      plan.uniform = { oa: plan.oa[0]!, attrs: plan.runAttrs[0], dirty, sLo: sLo >>> 0, sHi: sHi >>> 0 };
    }
  }
  return plan;
}

/**
 * The cleaned words of a single-item leaf at `oa` under `attrs`, and the step of the low word to the
 * next, when the next `count` items are linear in the OA (checked at both ends, as fillLinear does);
 * undefined when they are not.
 */
function linearFrom(ctx: Ctx, attrs: unknown, level: number, oa: number, count: number): Linear | undefined {
  const { fmt, lay } = ctx;
  const unit = lay.itemUnits[level]!;
  const lg2 = lay.itemShift[level]! + lay.g;
  const lo = (at: number) => (fmt.leafLo(at, lg2, level, attrs) & ~ctx.statusLo) >>> 0;
  const hi = (at: number) => (fmt.leafHi(at, lg2, level, attrs) & ~ctx.statusHi) >>> 0;
  const lo0 = lo(oa);
  const hi0 = hi(oa);
  const step = (hi(oa + unit) - hi0) * 4294967296 + (lo(oa + unit) - lo0);
  if (step <= 0 || step >= 4294967296) return undefined;
  const lastLo = lo0 + (count - 1) * step;
  const at = oa + (count - 1) * unit;
  if (lo(at) !== lastLo % 4294967296 || hi(at) !== hi0 + Math.floor(lastLo / 4294967296)) return undefined;
  return { lo: lo0, hi: hi0, step };
}

/** Rewrites every run of the plan with the largest entries its level can hold. */
function apply(ctx: Ctx, job: MergeJob, plan: Plan): void {
  const n = plan.i1 - plan.i0;
  for (let x = 0; x < n; ) {
    const r = plan.run[x]!;
    if (r < 0) {
      x++;
      continue;
    }
    let e = x + 1;
    while (e < n && plan.run[e] === r) e++;
    rewriteRun(ctx, job, plan, x, e);
    x = e;
  }
}

/** Places the best entries over slots [x, e) of the plan (offsets from i0), one run. */
function rewriteRun(ctx: Ctx, job: MergeJob, plan: Plan, x: number, e: number): void {
  const { lay, fmt } = ctx;
  const level = plan.level;
  const unit = lay.itemUnits[level]!;
  const shift = lay.itemShift[level]!;
  // The largest size this level holds: a whole-table size belongs to the parent, which declined it.
  const maxHere = lay.largestAt[level]!;
  if (maxHere < 0) return;
  const attrs = plan.runAttrs[plan.run[x]!];
  for (let j = x; j < e; ) {
    const vpn = plan.tableVpn + (plan.i0 + j) * unit;
    const oa = plan.oa[j]!;
    const best = bestSize(lay, vpn, oa, (e - j) * unit);
    const s = best < 0 ? -1 : lay.bestAtMost[Math.min(best, maxHere)]!;
    // Only a slot misaligned for every size of this level gets here; it stays as it is.
    if (s < 0 || lay.levelOfSize[s] !== level) {
      j++;
      continue;
    }
    const k = POW2[s - shift]!;
    const first = plan.i0 + j;
    if (plan.cls[j] === REAL && plan.entryFirst[j] === first && plan.entryK[j] === k) {
      j += k;
      continue;
    }
    let dirty = false;
    let sLo = 0;
    let sHi = 0;
    let unlinks = false;
    for (let y = j; y < j + k; y++) {
      dirty ||= plan.dirty[y] === 1;
      sLo |= plan.sLo[y]!;
      sHi |= plan.sHi[y]!;
      if (plan.cls[y] === VIRTUAL) unlinks = true;
    }
    const carry = carryFor(ctx, sLo >>> 0, sHi >>> 0, dirty);
    const wpe = lay.wpe;
    const words = new Uint32Array(k * wpe);
    const lg2 = s + lay.g;
    for (let y = 0; y < k; y++) {
      const oaArg = fmt.replicatedContig ? oa : oa + y * unit;
      words[y * wpe] = leafLoWith(fmt, oaArg, lg2, level, attrs, carry);
      if (wpe === 2) words[y * wpe + 1] = leafHiWith(fmt, oaArg, lg2, level, attrs, carry);
    }
    installSlots(ctx, plan.pa, first, k, words, vpn, vpn + k * unit, unlinks, job.gather);
    for (let y = j; y < j + k; y++) {
      if (plan.cls[y] !== VIRTUAL) continue;
      for (const t of collectTables(ctx, plan.child[y]!, level - 1)) {
        job.gather.addTable(t);
        job.tables++;
      }
    }
    job.entries++;
    j += k;
  }
}
