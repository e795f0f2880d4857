// Reads a page table's raw memory through the format contract alone (kind, tablePa, leafLg2), as an
// oracle independent of the core's walk: which slot translates an IOVA, and the items of its entry.
import { EMPTY, type EntryKind, LEAF, type PageTable, TABLE, vaBitsAtTop } from "@genpt/core";

/** One slot of one table, as read from memory. */
export interface RawItem {
  readonly level: number;
  readonly index: number;
  /** Byte address of the slot. */
  readonly addr: bigint;
  readonly lo: number;
  readonly hi: number;
  readonly kind: EntryKind;
}

function readSlot(pt: PageTable<unknown>, table: bigint, level: number, index: number): RawItem {
  const eb = pt.format.geometry.entryBytes;
  const addr = table + BigInt(index * eb);
  const lo = pt.mem.readU32(addr);
  const hi = eb === 8 ? pt.mem.readU32(addr + 4n) : 0;
  const kind = lo === 0 && hi === 0 ? EMPTY : pt.format.kind(lo, hi, level);
  return { level, index, addr, lo, hi, kind };
}

/**
 * The slot the walk for `iova` ends on: a LEAF item, or the EMPTY slot where it stops. Undefined when
 * `iova` lies beyond what the current top translates.
 */
export function locate(pt: PageTable<unknown>, iova: bigint): RawItem | undefined {
  const info = pt.info();
  const geo = pt.format.geometry;
  const v = iova & ((1n << BigInt(info.vaBits)) - 1n);
  const topBits = vaBitsAtTop(geo, info.topLevel);
  if (v >> BigInt(topBits) !== 0n) return undefined;
  let table = info.root;
  for (let level = info.topLevel; level >= 0; level--) {
    const lv = geo.levels[level]!;
    const idxBits =
      level === info.topLevel ? topBits - lv.itemLg2 : lv.tableLg2 - (geo.entryBytes === 8 ? 3 : 2);
    const index = Number((v >> BigInt(lv.itemLg2)) & ((1n << BigInt(idxBits)) - 1n));
    const slot = readSlot(pt, table, level, index);
    if (slot.kind !== TABLE || level === 0) return slot;
    table = BigInt(pt.format.tablePa(slot.lo, slot.hi, level));
  }
  return undefined;
}

/** Every item of the leaf entry `item` belongs to, first to last. */
export function entryItems(pt: PageTable<unknown>, item: RawItem): RawItem[] {
  if (item.kind !== LEAF) return [item];
  const fmt = pt.format;
  const eb = BigInt(fmt.geometry.entryBytes);
  const k = 2 ** (fmt.leafLg2(item.lo, item.hi, item.level) - fmt.geometry.levels[item.level]!.itemLg2);
  const first = item.index - (item.index % k);
  const table = item.addr - BigInt(item.index) * eb;
  const out: RawItem[] = [];
  for (let i = first; i < first + k; i++) out.push(readSlot(pt, table, item.level, i));
  return out;
}
