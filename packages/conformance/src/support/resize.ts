// What the cut, split and merge cases share: the raw leaf entries of a range, and the format-level view
// of a leaf with its dirty state and status bits set aside, so a piece can be compared with the entry it
// came from.
import { LEAF, type PageTable, type PtFormat } from "@genpt/core";
import { entryItems, locate, type RawItem } from "./raw.js";

/** One leaf entry as raw memory holds it: where it starts and every item. */
export interface RawEntry {
  readonly iova: bigint;
  readonly size: bigint;
  readonly items: RawItem[];
}

/** Every leaf entry meeting [iova, iova + size), ascending; holes are skipped a smallest page at a time. */
export function leafEntries(pt: PageTable<unknown>, iova: bigint, size: bigint): RawEntry[] {
  const out: RawEntry[] = [];
  const step = pt.info().pgsizes[0]!;
  const end = iova + size;
  for (let a = iova; a < end; ) {
    const slot = locate(pt, a);
    if (!slot || slot.kind !== LEAF) {
      a += step;
      continue;
    }
    const esize = 1n << BigInt(pt.format.leafLg2(slot.lo, slot.hi, slot.level));
    const start = a - (a % esize);
    out.push({ iova: start, size: esize, items: entryItems(pt, slot) });
    a = start + esize;
  }
  return out;
}

const word = (it: { lo: number; hi: number }) => (BigInt(it.hi) << 32n) | BigInt(it.lo);

/** True when the 64-bit item value reads as write-dirty. */
export function itemDirty(fmt: PtFormat<unknown>, v: bigint): boolean {
  const d = fmt.dirty;
  return d !== undefined && (v & d.dirtyMask) === d.dirtyValue;
}

/** The item value with the format's clean transform applied when it is dirty. */
export function cleaned(fmt: PtFormat<unknown>, v: bigint): bigint {
  const d = fmt.dirty;
  if (!d || !itemDirty(fmt, v)) return v;
  return (v & ~(d.clean.clear ?? 0n)) | (d.clean.set ?? 0n);
}

/** What a piece must keep from its entry: status bits ORed over the items, and whether any is dirty. */
export function carriedState(
  fmt: PtFormat<unknown>,
  items: readonly RawItem[],
): { status: bigint; dirty: boolean } {
  let status = 0n;
  let dirty = false;
  for (const it of items) {
    const v = word(it);
    dirty ||= itemDirty(fmt, v);
    status |= cleaned(fmt, v) & fmt.statusBits;
  }
  return { status, dirty };
}

/** The item value with its dirty state cleaned and its status bits cleared: what attributes encode. */
function attrsWord(fmt: PtFormat<unknown>, it: RawItem): bigint {
  return cleaned(fmt, word(it)) & ~fmt.statusBits;
}

/**
 * The attributes of leaf item `it` as the format reads them back (dirty state and status bits aside),
 * encoded as the item `at`: at its level, its entry's size and its own OA.
 */
function reencode(fmt: PtFormat<unknown>, it: RawItem, at: RawItem): bigint {
  const v = attrsWord(fmt, it);
  const attrs = fmt.attrsFromEntry(Number(v & 0xffff_ffffn), Number(v >> 32n), it.level);
  const levels = fmt.geometry.levels;
  const sizeLg2 = fmt.leafLg2(at.lo, at.hi, at.level);
  const k = 2 ** (sizeLg2 - levels[at.level]!.itemLg2);
  const unit = 2 ** (levels[at.level]!.itemLg2 - levels[0]!.itemLg2);
  const entryOa = fmt.leafOa(at.lo, at.hi, at.level);
  const oa = fmt.replicatedContig ? entryOa : entryOa + (at.index % k) * unit;
  const lo = fmt.leafLo(oa, sizeLg2, at.level, attrs);
  const hi = fmt.leafHi(oa, sizeLg2, at.level, attrs);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** True when leaf items `a` and `b` carry the same attributes, compared by encoding both as `b`. */
export function sameAttrs(fmt: PtFormat<unknown>, a: RawItem, b: RawItem): boolean {
  return reencode(fmt, a, b) === reencode(fmt, b, b);
}

/**
 * Bits of a leaf item that neither its attributes (re-encoded through attrsFromEntry) nor the format's
 * statusBits account for, its dirty state aside: a piece built from the attributes would lose them.
 */
export function undeclaredBits(fmt: PtFormat<unknown>, it: RawItem): bigint {
  return attrsWord(fmt, it) ^ reencode(fmt, it, it);
}

/** The 64-bit value of a raw item. */
export function itemWord(it: RawItem): bigint {
  return word(it);
}
