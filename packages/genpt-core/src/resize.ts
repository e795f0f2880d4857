// What cut, splitBlocks and mergePages share: reading the state a leaf carries besides its attributes
// (hardware status bits and the dirty state), and installing replacement slots over live ones under the
// format's resize discipline (break-before-make, or a plain replace).
import type { Ctx } from "./ctx.js";
import type { PtFormat } from "./format.js";
import type { Gather } from "./gather.js";

/** A leaf's own state, carried into what replaces it as (word & keep) | set. */
export interface Carry {
  readonly keepLo: number;
  readonly keepHi: number;
  readonly setLo: number;
  readonly setHi: number;
}

export const NO_CARRY: Carry = { keepLo: -1, keepHi: -1, setLo: 0, setHi: 0 };

/** The low word of a leaf item of `attrs` with the carry applied. */
export function leafLoWith<A>(
  fmt: PtFormat<A>,
  oa: number,
  sizeLg2: number,
  level: number,
  attrs: A,
  c: Carry,
): number {
  return ((fmt.leafLo(oa, sizeLg2, level, attrs) & c.keepLo) | c.setLo) >>> 0;
}

/** The high word of a leaf item of `attrs` with the carry applied. */
export function leafHiWith<A>(
  fmt: PtFormat<A>,
  oa: number,
  sizeLg2: number,
  level: number,
  attrs: A,
  c: Carry,
): number {
  return ((fmt.leafHi(oa, sizeLg2, level, attrs) & c.keepHi) | c.setHi) >>> 0;
}

/** The low word of a leaf item with its dirty state cleaned (the status bits stay). */
export function cleanLo(ctx: Ctx, lo: number, hi: number): number {
  const d = ctx.dirty;
  if (d && (lo & d.maskLo) === d.valLo && (hi & d.maskHi) === d.valHi)
    return ((lo & d.cleanKeepLo) | d.cleanSetLo) >>> 0;
  return lo;
}

/** The high word of a leaf item with its dirty state cleaned (the status bits stay). */
export function cleanHi(ctx: Ctx, lo: number, hi: number): number {
  const d = ctx.dirty;
  if (d && (lo & d.maskLo) === d.valLo && (hi & d.maskHi) === d.valHi)
    return ((hi & d.cleanKeepHi) | d.cleanSetHi) >>> 0;
  return hi;
}

/** True when the item (lo, hi) reads as write-dirty. */
export function isDirty(ctx: Ctx, lo: number, hi: number): boolean {
  const d = ctx.dirty;
  return d !== undefined && (lo & d.maskLo) === d.valLo && (hi & d.maskHi) === d.valHi;
}

/**
 * The carry for pieces made from leaves whose status bits OR to (statusLo, statusHi): the status bits
 * copied, and the dirty state set again when any of them was dirty.
 */
export function carryFor(ctx: Ctx, statusLo: number, statusHi: number, dirty: boolean): Carry {
  const d = ctx.dirty;
  if (dirty && d)
    return {
      keepLo: d.dirtyKeepLo,
      keepHi: d.dirtyKeepHi,
      setLo: statusLo | d.dirtySetLo,
      setHi: statusHi | d.dirtySetHi,
    };
  if (statusLo === 0 && statusHi === 0) return NO_CARRY;
  return { keepLo: -1, keepHi: -1, setLo: statusLo, setHi: statusHi };
}

/** The carry of the live leaf entry of `k` items from slot `first` of the table at `pa`. */
export function carryOfEntry(ctx: Ctx, pa: number, first: number, k: number): Carry {
  const w = ctx.mem.chunk(pa);
  const wpe = ctx.lay.wpe;
  let sLo = 0;
  let sHi = 0;
  let dirty = false;
  for (let j = 0, p = ctx.mem.wordIndex(pa) + first * wpe; j < k; j++, p += wpe) {
    const lo = w[p]!;
    const hi = wpe === 2 ? w[p + 1]! : 0;
    if (isDirty(ctx, lo, hi)) dirty = true;
    sLo |= cleanLo(ctx, lo, hi) & ctx.statusLo;
    sHi |= cleanHi(ctx, lo, hi) & ctx.statusHi;
  }
  return carryFor(ctx, sLo >>> 0, sHi >>> 0, dirty);
}

/**
 * Replaces the `k` live slots from `first` of the table at `pa` with `words`, which translate
 * [vpnStart, vpnEnd) as the old slots did, or (break-before-make) after a window with no translation.
 * `unlinks`: a table pointer is among the old slots, so the invalidation must cover walk caches.
 * The range is added to `gather`; the caller gathers any table it unlinked.
 */
export function installSlots(
  ctx: Ctx,
  pa: number,
  first: number,
  k: number,
  words: Uint32Array,
  vpnStart: number,
  vpnEnd: number,
  unlinks: boolean,
  gather: Gather,
): void {
  const wpe = ctx.lay.wpe;
  const w = ctx.mem.chunk(pa);
  const at = ctx.mem.wordIndex(pa) + first * wpe;
  if (ctx.fmt.resize === "break-before-make") {
    w.fill(0, at, at + k * wpe);
    if (ctx.incoherent) ctx.flushEntries(pa, first, k);
    const g = ctx.breakGather!;
    g.addRange(vpnStart, vpnEnd);
    if (unlinks) g.noteTableUnlinked();
    g.sync();
  }
  w.set(words, at);
  if (ctx.incoherent) ctx.flushEntries(pa, first, k);
  gather.addRange(vpnStart, vpnEnd);
  if (unlinks) gather.noteTableUnlinked();
}

/** The attributes of a leaf item, its dirty state and status bits aside. */
export function leafAttrs<A>(ctx: Ctx<A>, lo: number, hi: number, level: number): A {
  const clo = cleanLo(ctx, lo, hi) & ~ctx.statusLo;
  const chi = cleanHi(ctx, lo, hi) & ~ctx.statusHi;
  return ctx.fmt.attrsFromEntry(clo >>> 0, chi >>> 0, level);
}
