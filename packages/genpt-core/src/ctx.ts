// Ctx: the private state of one page table that every algorithm works on: the format, its derived
// layout, memory and allocator, the published top, features, the driver, and one PtState per level.
import type { LevelAllocator, PhysMem } from "@genpt/alloc";
import type { Aperture } from "./aperture.js";
import { hi32, lo32 } from "./bits.js";
import type { PtDriver, TestBreaks } from "./driver.js";
import type { PtFormat } from "./format.js";
import type { Gather } from "./gather.js";
import { type Layout, makeLayout, topTableLg2, vaBitsAtTop } from "./layout.js";
import { PtState } from "./state.js";

/** The top table and its level, published together as one value (genpt-upstream §1.2, §6.8). */
export interface Top {
  readonly pa: number;
  readonly level: number;
}

/** Dirty bits compiled into 32-bit halves for the scan loops. */
export interface DirtyWords {
  readonly maskLo: number;
  readonly maskHi: number;
  readonly valLo: number;
  readonly valHi: number;
  readonly cleanSetLo: number;
  readonly cleanSetHi: number;
  readonly cleanKeepLo: number;
  readonly cleanKeepHi: number;
  readonly dirtySetLo: number;
  readonly dirtySetHi: number;
  readonly dirtyKeepLo: number;
  readonly dirtyKeepHi: number;
  readonly trackMaskLo: number;
  readonly trackMaskHi: number;
  readonly trackValLo: number;
  readonly trackValHi: number;
}

export class Ctx<A = unknown> {
  top: Top;
  readonly states: PtState[] = [];
  readonly dirty: DirtyWords | undefined;
  readonly incoherent: boolean;
  readonly dynamicTop: boolean;
  /** Options of every table allocation: the owner, and the format's table-address limit. */
  private readonly allocOpts: { readonly owner: number; readonly limit?: number };
  /** coverageAt[level]: granules the tree covers with its top at that level. */
  readonly coverageAt: Float64Array;
  /** Level 0 holds only single-item leaves (no contiguous sizes), so its loops need no size decoding. */
  readonly singleItemLevel0: boolean;
  /** topEntries[level]: slots of the top table when the top is at that level. */
  readonly topEntries: Float64Array;
  destroyed = false;
  /** The format's hardware status bits (PtFormat.statusBits) as 32-bit halves. */
  readonly statusLo: number;
  readonly statusHi: number;
  /**
   * The gather a break-before-make resize syncs between clearing an entry and writing its replacement;
   * set by the PageTable, which owns the flush features.
   */
  breakGather: Gather | undefined;
  private splitLayout: Layout | undefined;

  constructor(
    readonly fmt: PtFormat<A>,
    readonly lay: Layout,
    readonly mem: PhysMem,
    readonly alloc: LevelAllocator,
    readonly owner: number,
    readonly aperture: Aperture,
    readonly driver: PtDriver,
    readonly breaks: TestBreaks,
    flags: { incoherent: boolean; dynamicTop: boolean },
    top: Top,
  ) {
    this.top = top;
    this.incoherent = flags.incoherent;
    this.dynamicTop = flags.dynamicTop;
    for (let l = 0; l <= lay.maxTopLevel; l++) this.states.push(new PtState(this as Ctx, l));
    this.dirty = fmt.dirty ? compileDirty(fmt.dirty) : undefined;
    const bits = fmt.geometry.tableAddressBits;
    this.allocOpts = bits === undefined ? { owner } : { owner, limit: 2 ** bits };
    this.coverageAt = new Float64Array(lay.maxTopLevel + 1);
    this.singleItemLevel0 = fmt.geometry.levels[0]!.leafLg2.length === 1;
    this.topEntries = new Float64Array(lay.maxTopLevel + 1);
    this.statusLo = lo32(fmt.statusBits);
    this.statusHi = hi32(fmt.statusBits);
    for (let l = 0; l <= lay.maxTopLevel; l++) {
      const bits = vaBitsAtTop(fmt.geometry, l);
      this.coverageAt[l] = 2 ** (bits - lay.g);
      this.topEntries[l] = 2 ** (bits - fmt.geometry.levels[l]!.itemLg2);
    }
  }

  /** The layout with only the smallest page size, which splitBlocks places everywhere. */
  get splitLay(): Layout {
    if (!this.splitLayout) this.splitLayout = makeLayout(this.fmt, [this.lay.sizes[0]! + this.lay.g]);
    return this.splitLayout;
  }

  /** Entries in the table at `level`, which is the top table when `level` is the top's level. */
  entriesAt(level: number, isTop: boolean): number {
    return isTop ? this.topEntries[level]! : this.lay.entries[level]!;
  }

  /** Granules the tree covers with its top at `level`. */
  coverage(level: number): number {
    return this.coverageAt[level]!;
  }

  /** log2 bytes of the table allocated for `level` as a top or not. */
  tableLg2(level: number, isTop: boolean): number {
    return isTop ? topTableLg2(this.fmt.geometry, level) : this.lay.tableLg2[level]!;
  }

  allocTable(lg2: number): number {
    return this.alloc.alloc(lg2, this.allocOpts);
  }

  /** Incoherent walker: write back [pa, pa + bytes) of table memory and record it. */
  flushTableMemory(pa: number, bytes: number): void {
    this.alloc.recordFlush(pa, bytes);
    this.driver.cacheFlush?.(BigInt(pa), bytes);
  }

  /** Incoherent walker: write back `count` entries from slot `index` of the table at `pa`. */
  flushEntries(pa: number, index: number, count: number): void {
    const eb = this.lay.wpe * 4;
    this.flushTableMemory(pa + index * eb, count * eb);
  }

  /**
   * Links a child table into slot `index` of `st`'s table. In incoherent mode the child is written
   * back first and carries the still-flushing flag until the parent entry itself has been written back.
   */
  linkTable(st: PtState, index: number, child: number, childLg2: number): void {
    const fmt = this.fmt;
    if (this.incoherent) {
      if (!this.breaks.skipNewTableFlush) this.flushTableMemory(child, 2 ** childLg2);
      this.alloc.setStillFlushing(child);
    }
    const i = st.off + index * this.lay.wpe;
    st.w[i] = fmt.tableLo(child, st.level);
    if (this.lay.wpe === 2) st.w[i + 1] = fmt.tableHi(child, st.level);
    if (this.incoherent) {
      // A private copy of slots (st.pa < 0, see mapEntries) is written back when it is installed.
      if (st.pa >= 0) this.flushEntries(st.pa, index, 1);
      this.alloc.doneFlush(child);
    }
  }

  /** Before descending into an existing child: honour a still-flushing flag left by another installer. */
  settleChild(st: PtState, index: number, child: number): void {
    if (this.incoherent && this.alloc.isStillFlushing(child)) {
      this.flushEntries(st.pa, index, 1);
      this.alloc.doneFlush(child);
    }
  }

  /** Zeroes `count` entries from slot `index` and writes them back when incoherent. */
  clearEntries(st: PtState, index: number, count: number): void {
    const wpe = this.lay.wpe;
    st.w.fill(0, st.off + index * wpe, st.off + (index + count) * wpe);
    if (this.incoherent) this.flushEntries(st.pa, index, count);
  }
}

function compileDirty(d: NonNullable<PtFormat["dirty"]>): DirtyWords {
  const cs = d.clean.set ?? 0n;
  const cc = d.clean.clear ?? 0n;
  const ds = d.makeDirty.set ?? 0n;
  const dc = d.makeDirty.clear ?? 0n;
  return {
    maskLo: lo32(d.dirtyMask),
    maskHi: hi32(d.dirtyMask),
    valLo: lo32(d.dirtyValue),
    valHi: hi32(d.dirtyValue),
    cleanSetLo: lo32(cs),
    cleanSetHi: hi32(cs),
    cleanKeepLo: ~lo32(cc),
    cleanKeepHi: ~hi32(cc),
    dirtySetLo: lo32(ds),
    dirtySetHi: hi32(ds),
    dirtyKeepLo: ~lo32(dc),
    dirtyKeepHi: ~hi32(dc),
    trackMaskLo: lo32(d.trackMask),
    trackMaskHi: hi32(d.trackMask),
    trackValLo: lo32(d.trackValue),
    trackValHi: hi32(d.trackValue),
  };
}
