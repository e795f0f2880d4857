// PtState: the walk state, as Linux's pt_state is for a page table what xa_state is for an xarray.
// It holds the table being walked (its address, words and VA), the current index, the exclusive end
// index and the loaded entry. Every algorithm is a short loop over one of these per level.

import type { Ctx } from "./ctx.js";
import type { EntryKind } from "./format.js";

export class PtState {
  /** Byte address of the table. */
  pa = 0;
  /** The memory chunk holding the table, and the word index of slot 0 in it. */
  w: Uint32Array = new Uint32Array(0);
  off = 0;
  /** VA (granules) translated by slot 0. */
  tableVpn = 0;
  index = 0;
  /** Exclusive. */
  endIndex = 0;
  lo = 0;
  hi = 0;
  kind: EntryKind = 0;

  constructor(
    private readonly ctx: Ctx,
    readonly level: number,
  ) {}

  /** Points at table `pa` (slot 0 translating `tableVpn`, `entries` slots) for the range [start, end). */
  enter(pa: number, tableVpn: number, entries: number, start: number, end: number): void {
    const mem = this.ctx.mem;
    this.pa = pa;
    this.w = mem.chunk(pa);
    this.off = mem.wordIndex(pa);
    this.tableVpn = tableVpn;
    this.aim(entries, start, end);
  }

  /**
   * Points at a private copy `w` of `count` slots from `first` of a table translating `tableVpn`, which is
   * not in memory yet (pa < 0): split and cut build an entry's replacement here, then install it.
   */
  enterCopy(w: Uint32Array, first: number, tableVpn: number): void {
    this.pa = -1;
    this.w = w;
    this.off = -first * this.ctx.lay.wpe;
    this.tableVpn = tableVpn;
  }

  /** Sets index and endIndex to the slots of [start, end), within the table's `entries`. */
  aim(entries: number, start: number, end: number): void {
    const unit = this.ctx.lay.itemUnits[this.level]!;
    const tableVpn = this.tableVpn;
    this.index = start > tableVpn ? Math.floor((start - tableVpn) / unit) : 0;
    const last = Math.ceil((end - tableVpn) / unit);
    this.endIndex = Math.min(last, entries);
  }

  /** Reads and classifies the entry at `index`. */
  load(): EntryKind {
    const i = this.off + this.index * this.ctx.lay.wpe;
    this.lo = this.w[i]!;
    this.hi = this.ctx.lay.wpe === 2 ? this.w[i + 1]! : 0;
    this.kind = this.ctx.fmt.kind(this.lo, this.hi, this.level);
    return this.kind;
  }

  /** VA (granules) translated by slot `i`. */
  slotVpn(i: number): number {
    return this.tableVpn + i * this.ctx.lay.itemUnits[this.level]!;
  }

  /** log2 of the items in the loaded leaf entry (0 for a single item). */
  contigLg2(): number {
    const ctx = this.ctx;
    return ctx.fmt.leafLg2(this.lo, this.hi, this.level) - ctx.lay.g - ctx.lay.itemShift[this.level]!;
  }
}
