// Buddy: naturally aligned power-of-two blocks over [base, end), with all state in typed side arrays.
//
// Slots are 64-byte units counted from base. Free blocks sit on doubly linked per-order lists whose links
// live in `link`/`prev` (a live table reuses `link` for its TableList link: a slot is never both).
// Memory above `frontier` has never been handed out; it is carved lazily, one maximal aligned block at a
// time and lowest address first, so the arrays only grow up to the highest address used.
// The last block freed at each order is parked in a one-entry hot cache and handed out first, so a
// steady alloc/free cycle does no split or merge; parked blocks merge when an allocation would fail,
// and the parked pieces of a sub-page frame merge as soon as its last piece is freed.
// Every write goes through a setter that logs the old value while a transaction is open.

import { hex, PtError } from "./errors.js";
import type { Journal } from "./journal.js";
import * as JournalKinds from "./journal.js";
import * as Meta from "./meta.js";

// Local copies: some loaders compile imports into getters, which the hot paths must not pay for.
const { J_FRAME, J_FRONTIER, J_HEAD, J_HOT, J_LINK, J_META, J_OWNER, J_PREV } = JournalKinds;
const { FRAME_LG2, M_FREE, M_HOT, SLOT_LG2 } = Meta;

const POW2: number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);
/** Metadata is capped at 2^30 slots (64 GiB of handed-out space), far above what a simulation holds. */
const MAX_SLOTS = 2 ** 30;

export class Buddy {
  meta: Uint16Array;
  owner: Int32Array;
  link: Int32Array;
  prev: Int32Array;
  /** Live sub-page tables per 4 KiB frame. */
  frameUse: Uint16Array;
  /** Head slot of the free list of each order, -1 when empty. */
  readonly heads: Int32Array;
  /** One parked free block per order (-1: none), reused before the lists. */
  private readonly hot: Int32Array;
  /** First byte never handed to a free list. */
  frontier: number;
  /** Capacity of the side arrays, in slots. */
  cap: number;

  readonly base: number;
  readonly end: number;
  readonly maxOrder: number;
  private readonly minTop: number;

  constructor(
    base: number,
    end: number,
    maxOrder: number,
    private readonly j: Journal,
  ) {
    this.base = base;
    this.end = end;
    this.maxOrder = maxOrder;
    this.minTop = Math.min(maxOrder, FRAME_LG2);
    this.frontier = base;
    this.heads = new Int32Array(maxOrder + 1).fill(-1);
    this.hot = new Int32Array(maxOrder + 1).fill(-1);
    this.cap = 0;
    this.meta = new Uint16Array(0);
    this.owner = new Int32Array(0);
    this.link = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.frameUse = new Uint16Array(0);
  }

  paOf(slot: number): number {
    return this.base + slot * 64;
  }

  /**
   * Takes a free block of order `o` whose end is at or below `limit`; returns its slot or -1 (nothing
   * observable changes then). Throws ENOMEM only if the side arrays cannot grow.
   */
  take(o: number, limit: number): number {
    const h = this.hot[o]!;
    if (h !== -1 && (limit >= this.end || this.paOf(h) + POW2[o]! <= limit)) {
      this.setHot(o, -1);
      this.setMeta(h, 0);
      return h;
    }
    const s = this.takeFree(o, limit);
    if (s !== -1 || !this.flushHot()) return s;
    return this.takeFree(o, limit);
  }

  /**
   * Returns the block (slot, order) to the allocator. Its meta must be clear, and for a sub-page block
   * frameUse must already count it out.
   */
  release(slot: number, o: number): void {
    let s = slot;
    let k = o;
    if (k < FRAME_LG2 && this.maxOrder >= FRAME_LG2 && this.frameUse[s >>> 6] === 0) {
      // The last piece of a frame: every piece is free, so they join into the whole frame, which is
      // then released like any 4 KiB block (parked, so the next sub-page table splits it cheaply).
      this.unparkFrame(s >>> 6);
      const r = this.climb(s, k, FRAME_LG2);
      k = r % 32;
      s = (r - k) / 32;
    }
    // Park it in the hot cache when that is empty: an alloc/free cycle then costs no split or merge.
    if (this.hot[k] === -1) {
      this.setMeta(s, M_HOT | k);
      this.setHot(k, s);
      return;
    }
    this.merge(s, k);
  }

  private takeFree(o: number, limit: number): number {
    const heads = this.heads;
    const any = limit >= this.end;
    for (let k = o; k <= this.maxOrder; k++) {
      // A parked whole frame serves sub-page requests before larger free blocks are split.
      if (k === FRAME_LG2 && o < FRAME_LG2) {
        const h = this.hot[k]!;
        if (h !== -1 && (any || this.paOf(h) + POW2[o]! <= limit)) {
          this.setHot(k, -1);
          this.setMeta(h, 0);
          this.split(h, k, o);
          return h;
        }
      }
      if (any) {
        const s = heads[k]!;
        if (s === -1) continue;
        this.unlinkFree(s, k);
        this.split(s, k, o);
        return s;
      }
      // Constrained (below 4 GiB): first fit along the list, keeping the low part of the block.
      for (let s = heads[k]!; s !== -1; s = this.link[s]!) {
        if (this.paOf(s) + POW2[o]! <= limit) {
          this.unlinkFree(s, k);
          this.split(s, k, o);
          return s;
        }
      }
    }
    return this.carve(o, limit);
  }

  // Merges the parked sub-page pieces of frame f back into the free lists. They cannot climb past the
  // frame: the piece being freed is in it and not on a list yet.
  private unparkFrame(f: number): void {
    for (let k = 0; k < FRAME_LG2; k++) {
      const s = this.hot[k]!;
      if (s === -1 || s >>> 6 !== f) continue;
      this.setHot(k, -1);
      this.setMeta(s, 0);
      this.merge(s, k);
    }
  }

  // Merges every parked block back into the free lists; true if there was any.
  private flushHot(): boolean {
    let any = false;
    for (let k = 0; k <= this.maxOrder; k++) {
      const s = this.hot[k]!;
      if (s === -1) continue;
      this.setHot(k, -1);
      this.setMeta(s, 0);
      this.merge(s, k);
      any = true;
    }
    return any;
  }

  // Buddy merge: joins the block with its free buddies as far as it goes and lists the result.
  private merge(slot: number, o: number): void {
    const r = this.climb(slot, o, this.maxOrder);
    const k = r % 32;
    this.pushFree((r - k) / 32, k);
  }

  // Joins (slot, o) with free buddies up to order `top`, unlisting them; returns slot * 32 + order of
  // the result (below 2^35, exact), which the caller must list or use.
  private climb(slot: number, o: number, top: number): number {
    let pa = this.paOf(slot);
    let k = o;
    while (k < top) {
      const size = POW2[k]!;
      // pa / size < 2^47, and & keeps its low bit exactly.
      const low = ((pa / size) & 1) === 0;
      const parent = low ? pa : pa - size;
      if (parent < this.base || parent + 2 * size > this.end) break;
      const bs = ((low ? pa + size : parent) - this.base) / 64;
      if (this.meta[bs] !== (M_FREE | k)) break;
      this.unlinkFree(bs, k);
      pa = parent;
      k++;
    }
    return ((pa - this.base) / 64) * 32 + k;
  }

  // Splits block (slot, from) down to order `to`, keeping the low half each time.
  private split(slot: number, from: number, to: number): void {
    for (let k = from - 1; k >= to; k--) this.pushFree(slot + POW2[k - SLOT_LG2]!, k);
  }

  private carve(o: number, limit: number): number {
    const size = POW2[o]!;
    let p = this.frontier;
    let ob = 0;
    for (;;) {
      if (p >= this.end || p + size > limit) return -1;
      ob = this.topOrderAt(p);
      if (ob >= o) break;
      p += POW2[ob]!;
    }
    const blockEnd = p + POW2[ob]!;
    this.ensureCapacity((blockEnd - this.base) / 64);
    // Blocks skipped on the way are too small for this request but free all the same.
    for (let q = this.frontier; q < p; ) {
      const oq = this.topOrderAt(q);
      this.pushFree((q - this.base) / 64, oq);
      q += POW2[oq]!;
    }
    this.setFrontier(blockEnd);
    const s = (p - this.base) / 64;
    this.split(s, ob, o);
    return s;
  }

  // The largest aligned block (capped at maxOrder) that starts at p and fits before end.
  private topOrderAt(p: number): number {
    let k = this.maxOrder;
    while (k > this.minTop && (p % POW2[k]! !== 0 || p + POW2[k]! > this.end)) k--;
    return k;
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.cap) return;
    if (slots > MAX_SLOTS) {
      throw new PtError(
        "ENOMEM",
        `allocator metadata limit: cannot hand out memory beyond ${hex(this.base + MAX_SLOTS * 64)}`,
      );
    }
    let cap = Math.max(this.cap * 2, 4096);
    while (cap < slots) cap *= 2;
    cap = Math.min(cap, MAX_SLOTS);
    this.meta = grow(this.meta, new Uint16Array(cap));
    this.owner = grow(this.owner, new Int32Array(cap));
    this.link = grow(this.link, new Int32Array(cap));
    this.prev = grow(this.prev, new Int32Array(cap));
    this.frameUse = grow(this.frameUse, new Uint16Array(Math.ceil(cap / 64)));
    this.cap = cap;
  }

  private pushFree(s: number, k: number): void {
    const h = this.heads[k]!;
    this.setMeta(s, M_FREE | k);
    this.setLink(s, h);
    this.setPrev(s, -1);
    if (h !== -1) this.setPrev(h, s);
    this.setHead(k, s);
  }

  private unlinkFree(s: number, k: number): void {
    const p = this.prev[s]!;
    const n = this.link[s]!;
    if (p === -1) this.setHead(k, n);
    else this.setLink(p, n);
    if (n !== -1) this.setPrev(n, p);
    this.setMeta(s, 0);
  }

  // Journaled setters. The branch is all they cost outside a transaction.
  setMeta(s: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_META, s, this.meta[s]!);
    this.meta[s] = v;
  }
  setOwner(s: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_OWNER, s, this.owner[s]!);
    this.owner[s] = v;
  }
  setLink(s: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_LINK, s, this.link[s]!);
    this.link[s] = v;
  }
  setPrev(s: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_PREV, s, this.prev[s]!);
    this.prev[s] = v;
  }
  setFrameUse(f: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_FRAME, f, this.frameUse[f]!);
    this.frameUse[f] = v;
  }
  private setHead(k: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_HEAD, k, this.heads[k]!);
    this.heads[k] = v;
  }
  private setHot(k: number, v: number): void {
    if (this.j.depth !== 0) this.j.push(J_HOT, k, this.hot[k]!);
    this.hot[k] = v;
  }
  private setFrontier(v: number): void {
    if (this.j.depth !== 0) this.j.push(J_FRONTIER, 0, this.frontier);
    this.frontier = v;
  }

  /** Restores one journaled write (rollback). */
  undo(kind: number, i: number, old: number): void {
    switch (kind) {
      case J_META:
        this.meta[i] = old;
        break;
      case J_OWNER:
        this.owner[i] = old;
        break;
      case J_LINK:
        this.link[i] = old;
        break;
      case J_PREV:
        this.prev[i] = old;
        break;
      case J_FRAME:
        this.frameUse[i] = old;
        break;
      case J_HEAD:
        this.heads[i] = old;
        break;
      case J_HOT:
        this.hot[i] = old;
        break;
      case J_FRONTIER:
        this.frontier = old;
        break;
    }
  }
}

function grow<T extends Uint16Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
