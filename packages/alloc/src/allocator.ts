// LevelAllocator: zeroed, naturally aligned page-table memory carved out of a PhysMem.
//
// The buddy engine (buddy.ts) decides addresses; this file adds the table-level rules on top: input
// checks, accounting, sub-page frame sharing, TableLists, RCU frees, incoherent-walker flags, fault
// injection and transactions. Per-table state lives in the buddy's side arrays (meta.ts has the bits):
// no JS object exists per table.

import { Buddy } from "./buddy.js";
import { hex, PtError } from "./errors.js";
import { FlushLog } from "./flush-log.js";
import * as Incoherent from "./incoherent.js";
import { Journal } from "./journal.js";
import { leakReport } from "./leaks.js";
import * as Meta from "./meta.js";
import type { PhysMem } from "./physmem.js";
import { Rcu } from "./rcu.js";
import { fmtPa, liveSlot, slotIfLive } from "./slots.js";
import type { AllocStats } from "./stats.js";
import * as Counters from "./stats.js";
import { type ListHost, TableList } from "./table-list.js";

/** Options of a {@link LevelAllocator}. */
export interface AllocatorOptions {
  /** Poison freed memory with 0xDEADBEEF words so a read after free shows; default false (zero-filled). */
  debug?: boolean;
  /** lg2 of the smallest table, default 6 (64 B); at least 6. */
  minLg2?: number;
  /** lg2 of the largest table, default 20 (1 MiB: 16 x 64 KiB, the largest stage-2 concatenated top). */
  maxLg2?: number;
}

/** Options of one {@link LevelAllocator.alloc} call. */
export interface AllocOptions {
  /** The table must end at or below this byte address (a walker that holds table pointers in few bits). */
  limit?: number;
  /** Shorthand for `limit: 2^32` (ARMv7s without TTBR_EXT). */
  below4G?: boolean;
  /** Page-table id the table belongs to, an int32; default 0. */
  owner?: number;
}

// Local copies: some loaders compile imports into getters, which the hot paths must not pay for.
const { FRAME_LG2, M_LG2, M_LIVE, M_ONLIST, M_RCU, POISON } = Meta;
const { C_ALLOCS, C_BYSIZE, C_BYTES, C_FRAMES, C_FREES, C_HIGH, C_LIVE, C_RCU, newCounters, statsOf } =
  Counters;

const FOUR_G = 2 ** 32;
const POW2: number[] = Array.from({ length: 32 }, (_, i) => 2 ** i);
const shared = new WeakMap<PhysMem, LevelAllocator>();

/**
 * Allocates page tables of 2^6 .. 2^20 bytes in a {@link PhysMem}: zeroed, aligned to their size, lowest
 * addresses first. Sub-page tables share 4 KiB frames. Every failing call throws a PtError and changes
 * nothing.
 *
 * Memory the allocator holds free is zero (or poison in debug mode); nobody else may write it.
 *
 * @example
 * const mem = new PhysMem({ size: 1n << 20n });
 * const alloc = LevelAllocator.for(mem);
 * const pa = alloc.alloc(12);       // a zeroed 4 KiB table
 * mem.write32(pa, 0x1003);
 * alloc.free(pa);                   // zero-filled again
 * alloc.assertNoLeaks();
 */
export class LevelAllocator implements ListHost {
  readonly mem: PhysMem;
  readonly rcu: Rcu;
  readonly debug: boolean;
  readonly minLg2: number;
  readonly maxLg2: number;

  private readonly b: Buddy;
  private readonly j = new Journal();
  private readonly c = newCounters();
  private calls = 0;
  private failTarget = 0;
  private readonly marks: number[] = [];
  private readonly snaps: Float64Array[] = [];
  private readonly flushes = new FlushLog();

  /**
   * Makes the allocator of `mem`. A PhysMem has at most one: use {@link LevelAllocator.for} to share it.
   */
  constructor(mem: PhysMem, opts?: AllocatorOptions) {
    if (mem === null || typeof mem !== "object" || typeof mem.chunk !== "function") {
      throw new PtError("EINVAL", "LevelAllocator needs a PhysMem");
    }
    if (shared.has(mem)) {
      throw new PtError(
        "EINVAL",
        `${mem.describe()} already has an allocator; share it with LevelAllocator.for(mem)`,
      );
    }
    const debug = opts?.debug ?? false;
    const minLg2 = opts?.minLg2 ?? 6;
    const maxLg2 = opts?.maxLg2 ?? 20;
    if (typeof debug !== "boolean")
      throw new PtError("EINVAL", `debug option ${String(debug)} is not a boolean`);
    if (!Number.isInteger(minLg2) || minLg2 < 6 || minLg2 > 20) {
      throw new PtError("EINVAL", `minLg2 ${String(minLg2)} must be an integer in [6, 20]`);
    }
    if (!Number.isInteger(maxLg2) || maxLg2 < minLg2 || maxLg2 > 20) {
      throw new PtError("EINVAL", `maxLg2 ${String(maxLg2)} must be an integer in [minLg2=${minLg2}, 20]`);
    }
    this.mem = mem;
    this.debug = debug;
    this.minLg2 = minLg2;
    this.maxLg2 = maxLg2;
    this.rcu = new Rcu();
    const spaceLg2 = Math.log2(mem.sizeNum);
    this.b = new Buddy(mem.baseNum, mem.endNum, Math.min(maxLg2, spaceLg2), this.j);
    shared.set(mem, this);
  }

  /**
   * The one allocator of `mem`, made on first call. Options only apply then; conflicting ones later are EINVAL.
   *
   * @example
   * LevelAllocator.for(mem) === LevelAllocator.for(mem); // true
   */
  static for(mem: PhysMem, opts?: AllocatorOptions): LevelAllocator {
    const a = shared.get(mem);
    if (a === undefined) return new LevelAllocator(mem, opts);
    if (opts !== undefined) {
      const clash =
        (opts.debug !== undefined && opts.debug !== a.debug) ||
        (opts.minLg2 !== undefined && opts.minLg2 !== a.minLg2) ||
        (opts.maxLg2 !== undefined && opts.maxLg2 !== a.maxLg2);
      if (clash) {
        throw new PtError("EINVAL", `${mem.describe()} already has an allocator with other options`);
      }
    }
    return a;
  }

  /**
   * A zeroed table of 2^sizeLg2 bytes aligned to its size; returns its PA.
   *
   * @example
   * const top = alloc.alloc(14, { below4G: true, owner: 7 }); // a 16 KiB v7s L1 table under 4 GiB
   */
  alloc(sizeLg2: number, opts?: AllocOptions): number {
    const call = ++this.calls;
    if (call === this.failTarget) {
      this.failTarget = 0;
      throw new PtError(
        "ENOMEM",
        `injected failure (failAt): alloc call #${call} of 2^${String(sizeLg2)} bytes`,
      );
    }
    if (!Number.isInteger(sizeLg2) || sizeLg2 < this.minLg2 || sizeLg2 > this.maxLg2) {
      throw new PtError(
        "EINVAL",
        `table size 2^${String(sizeLg2)} is not supported: sizeLg2 must be an integer in [${this.minLg2}, ${this.maxLg2}]`,
      );
    }
    const b = this.b;
    let owner = 0;
    let limit = b.end;
    if (opts !== undefined) {
      if (opts.owner !== undefined) {
        owner = opts.owner;
        if (!Number.isInteger(owner) || owner < -0x80000000 || owner > 0x7fffffff) {
          throw new PtError("EINVAL", `owner ${String(owner)} must be an int32`);
        }
      }
      if (opts.below4G === true && limit > FOUR_G) limit = FOUR_G;
      if (opts.limit !== undefined) {
        if (!(opts.limit > 0))
          throw new PtError("EINVAL", `limit ${String(opts.limit)} must be a positive address`);
        if (opts.limit < limit) limit = opts.limit;
      }
    }
    if (sizeLg2 > b.maxOrder) {
      throw new PtError("ENOMEM", `a table of 2^${sizeLg2} bytes is larger than ${this.mem.describe()}`);
    }
    const s = b.take(sizeLg2, limit);
    if (s < 0) throw this.noMemory(sizeLg2, limit);

    const pa = b.paOf(s);
    const bytes = POW2[sizeLg2]!;
    const c = this.c;
    b.setMeta(s, M_LIVE | sizeLg2);
    b.setOwner(s, owner);
    if (sizeLg2 < FRAME_LG2) {
      const f = s >>> 6;
      const used = b.frameUse[f]!;
      b.setFrameUse(f, used + 1);
      if (used === 0) c[C_FRAMES]!++;
    } else {
      c[C_FRAMES]!++;
    }
    // Free memory is already zero unless poisoned; inside a transaction remember what to put back.
    if (this.debug) {
      if (this.j.depth !== 0) this.saveMemory(pa, bytes);
      this.mem.fill32(pa, bytes, 0);
    } else if (this.j.depth !== 0) {
      this.j.pushUndo(() => this.mem.fill32(pa, bytes, 0));
    }
    c[C_LIVE]!++;
    const live = c[C_BYTES]! + bytes;
    c[C_BYTES] = live;
    if (live > c[C_HIGH]!) c[C_HIGH] = live;
    c[C_BYSIZE + sizeLg2]!++;
    c[C_ALLOCS]!++;
    return pa;
  }

  /**
   * Frees a live table: its memory is zero-filled (poisoned in debug mode) and may be reused at once.
   * A table on a TableList or queued for RCU cannot be freed this way.
   */
  free(pa: number): void {
    const s = liveSlot(this.b, pa, "free");
    const m = this.b.meta[s]!;
    if ((m & M_RCU) !== 0) {
      throw new PtError("EINVAL", `free(${fmtPa(pa)}): the table is queued for an RCU free already`);
    }
    if ((m & M_ONLIST) !== 0) {
      throw new PtError("EINVAL", `free(${fmtPa(pa)}): the table is on a TableList; free it with freeList()`);
    }
    this.dispose(s, m & M_LG2);
  }

  /** lg2 of the size of a live table. */
  sizeLg2Of(pa: number): number {
    return this.b.meta[liveSlot(this.b, pa, "sizeLg2Of")]! & M_LG2;
  }

  /** True when `pa` is the start of a live table (RCU-pending tables are live). */
  isLive(pa: number): boolean {
    return slotIfLive(this.b, pa) >= 0;
  }

  /** Owner id given at allocation of a live table. */
  ownerOf(pa: number): number {
    return this.b.owner[liveSlot(this.b, pa, "ownerOf")]!;
  }

  /** A new empty {@link TableList} of this allocator. */
  newList(): TableList {
    return new TableList(this);
  }

  /** Frees every table on `list` now and empties it. */
  freeList(list: TableList): void {
    this.checkList(list, "freeList");
    const b = this.b;
    const n = list.count;
    let pa = list.head;
    if (this.j.depth !== 0) this.saveList(list);
    list.setState(-1, -1, 0);
    for (let i = 0; i < n; i++) {
      const s = (pa - b.base) / 64;
      const next = b.paOf(b.link[s]!); // read before dispose reuses the link for the free list
      this.dispose(s, b.meta[s]! & M_LG2);
      pa = next;
    }
  }

  /**
   * Frees every table on `list` after an RCU grace period, with one callback for the whole list.
   * Until then the tables stay intact, live and unusable; `stats().rcuPending` counts them.
   *
   * @example
   * const r = alloc.rcu.readLock();
   * alloc.freeListRcu(list);      // a reader may still walk these tables
   * alloc.rcu.readUnlock(r);
   * alloc.rcu.quiescent();        // now they are freed
   */
  freeListRcu(list: TableList): void {
    this.checkList(list, "freeListRcu");
    const n = list.count;
    if (n === 0) return;
    const b = this.b;
    const held = new TableList(this);
    if (this.j.depth !== 0) this.saveList(list);
    held.setState(list.head, list.tail, n);
    list.setState(-1, -1, 0);
    let pa = held.head;
    for (let i = 0; i < n; i++) {
      const s = (pa - b.base) / 64;
      b.setMeta(s, b.meta[s]! | M_RCU);
      pa = b.paOf(b.link[s]!);
    }
    this.c[C_RCU]! += n;
    const handle = { id: 0 };
    const run = (): void => this.finishRcu(held, handle, run);
    handle.id = this.rcu.enqueue(run);
    if (this.j.depth !== 0) this.j.pushUndo(() => this.rcu.cancel(handle.id));
  }

  /** Marks a live table DMA-mapped for a walker that does not snoop the CPU cache. */
  startIncoherent(pa: number): void {
    Incoherent.startIncoherent(this.b, pa);
  }

  /** Ends incoherent tracking of a table that {@link startIncoherent} began. */
  stopIncoherent(pa: number): void {
    Incoherent.stopIncoherent(this.b, pa);
  }

  /** startIncoherent on every table of the list; all or nothing. */
  startIncoherentList(list: TableList): void {
    this.checkList(list, "startIncoherentList");
    Incoherent.setIncoherentAll(this.b, list, true, "startIncoherentList");
  }

  /** stopIncoherent on every table of the list; all or nothing. */
  stopIncoherentList(list: TableList): void {
    this.checkList(list, "stopIncoherentList");
    Incoherent.setIncoherentAll(this.b, list, false, "stopIncoherentList");
  }

  /** True for a live table under incoherent tracking; false otherwise (including freed addresses). */
  isIncoherent(pa: number): boolean {
    return Incoherent.isIncoherent(this.b, pa);
  }

  /**
   * Publishes "this table's contents are not flushed yet" (release); a thread that then sees
   * {@link isStillFlushing} true (acquire) must flush the table itself before the hardware may use it.
   */
  setStillFlushing(pa: number): void {
    Incoherent.setStillFlushing(this.b, pa);
  }

  /** Clears the still-flushing state once the flush has completed (release). EINVAL when it was not set. */
  doneFlush(pa: number): void {
    Incoherent.doneFlush(this.b, pa);
  }

  /** Acquire side of {@link setStillFlushing}; false for anything that is not a live table. */
  isStillFlushing(pa: number): boolean {
    return Incoherent.isStillFlushing(this.b, pa);
  }

  /**
   * Logs that the half-open range [pa, pa+len) was written back for the walker.
   *
   * @example
   * alloc.recordFlush(table + 8 * idx, 8); // one 64-bit entry
   */
  recordFlush(pa: number, len: number): void {
    this.flushes.record(this.mem, pa, len);
  }

  /** Every range recorded since the last {@link clearFlushLog}, oldest first. */
  flushLog(): ReadonlyArray<{ pa: number; len: number }> {
    return this.flushes.entries();
  }

  clearFlushLog(): void {
    this.flushes.clear();
  }

  /** Accounting: a fresh object on every call. */
  stats(): AllocStats {
    return statsOf(this.c);
  }

  /**
   * Throws an Error naming up to 10 live tables (of `owner`, or of anyone) if any remain. Tables still
   * waiting for an RCU grace period count as leaks.
   */
  assertNoLeaks(owner?: number): void {
    if (owner === undefined && this.c[C_LIVE] === 0) return;
    const report = leakReport(this.b, owner);
    if (report !== undefined) throw new Error(report);
  }

  /**
   * Makes the n-th alloc() call from now (1-based) throw PtError ENOMEM; undefined disables. Fires once.
   *
   * @example
   * alloc.failAt(2);
   * alloc.alloc(12);            // fine
   * alloc.alloc(12);            // throws ENOMEM "injected"
   */
  failAt(n: number | undefined): void {
    if (n === undefined) {
      this.failTarget = 0;
      return;
    }
    if (!Number.isInteger(n) || n < 1)
      throw new PtError("EINVAL", `failAt(${String(n)}): need an integer >= 1`);
    this.failTarget = this.calls + n;
  }

  /** alloc() calls since construction, failed ones included; rollback does not rewind it. */
  allocCount(): number {
    return this.calls;
  }

  /**
   * Opens a transaction (they nest) and returns its token. {@link rollback} undoes everything the
   * allocator did since: tables allocated are freed with their memory restored, tables freed come back,
   * stats() and the free lists are exactly as before.
   *
   * @example
   * const t = alloc.checkpoint();
   * try { buildTables(); alloc.commit(t); } catch (e) { alloc.rollback(t); throw e; }
   */
  checkpoint(): number {
    this.marks.push(this.j.length);
    this.snaps.push(this.c.slice());
    return ++this.j.depth;
  }

  /** Undoes the innermost open transaction, which `token` must name. */
  rollback(token: number): void {
    this.checkToken(token, "rollback");
    const b = this.b;
    this.j.rewind(this.marks.pop()!, (kind, i, old) => b.undo(kind, i, old));
    this.c.set(this.snaps.pop()!);
    this.j.depth--;
  }

  /** Closes the innermost open transaction keeping its effects (an outer one can still undo them). */
  commit(token: number): void {
    this.checkToken(token, "commit");
    this.marks.pop();
    this.snaps.pop();
    if (--this.j.depth === 0) this.j.clear();
  }

  // ListHost: the list operations, kept here so they can be validated and journaled.

  /** @internal */
  listAdd(list: TableList, pa: number): void {
    this.checkList(list, "TableList.add");
    const b = this.b;
    const s = liveSlot(this.b, pa, "TableList.add");
    const m = b.meta[s]!;
    if ((m & (M_ONLIST | M_RCU)) !== 0) {
      throw new PtError("EINVAL", `TableList.add(${fmtPa(pa)}): the table is on a list already`);
    }
    if (this.j.depth !== 0) this.saveList(list);
    b.setMeta(s, m | M_ONLIST);
    b.setLink(s, -1);
    // Link the node for real: the old tail points at it and it becomes the tail (genpt-upstream §6.1).
    if (list.count === 0) {
      list.setState(pa, pa, 1);
    } else {
      b.setLink((list.tail - b.base) / 64, s);
      list.setState(list.head, pa, list.count + 1);
    }
  }

  /** @internal */
  listSplice(dst: TableList, src: TableList): void {
    this.checkList(dst, "TableList.splice");
    this.checkList(src, "TableList.splice");
    if (dst === src) throw new PtError("EINVAL", "TableList.splice: cannot splice a list into itself");
    if (src.count === 0) return;
    const b = this.b;
    if (this.j.depth !== 0) {
      this.saveList(dst);
      this.saveList(src);
    }
    if (dst.count === 0) {
      dst.setState(src.head, src.tail, src.count);
    } else {
      b.setLink((dst.tail - b.base) / 64, (src.head - b.base) / 64);
      dst.setState(dst.head, src.tail, dst.count + src.count);
    }
    src.setState(-1, -1, 0);
  }

  /** @internal */
  listNext(pa: number): number {
    const b = this.b;
    return b.paOf(b.link[(pa - b.base) / 64]!);
  }

  // Frees the live table at slot s: memory, flags, counters, then the buddy.
  private dispose(s: number, lg2: number): void {
    const b = this.b;
    const pa = b.paOf(s);
    const bytes = POW2[lg2]!;
    if (this.j.depth !== 0) this.saveMemory(pa, bytes);
    this.mem.fill32(pa, bytes, this.debug ? POISON : 0);
    b.setMeta(s, 0);
    const c = this.c;
    if (lg2 < FRAME_LG2) {
      const f = s >>> 6;
      const used = b.frameUse[f]!;
      b.setFrameUse(f, used - 1);
      if (used === 1) c[C_FRAMES]!--;
    } else {
      c[C_FRAMES]!--;
    }
    c[C_LIVE]!--;
    c[C_BYTES]! -= bytes;
    c[C_BYSIZE + lg2]!--;
    c[C_FREES]!++;
    b.release(s, lg2);
  }

  private finishRcu(held: TableList, handle: { id: number }, run: () => void): void {
    // A grace period that ends inside a transaction is pushed to the next one, so rollback never has
    // to bring freed tables back from the RCU queue.
    if (this.j.depth !== 0) {
      handle.id = this.rcu.enqueue(run);
      return;
    }
    const b = this.b;
    const n = held.count;
    let pa = held.head;
    held.setState(-1, -1, 0);
    for (let i = 0; i < n; i++) {
      const s = (pa - b.base) / 64;
      const next = b.paOf(b.link[s]!);
      this.dispose(s, b.meta[s]! & M_LG2);
      pa = next;
    }
    this.c[C_RCU]! -= n;
  }

  private saveMemory(pa: number, bytes: number): void {
    const mem = this.mem;
    const i = mem.wordIndex(pa);
    const copy = mem.chunk(pa).slice(i, i + bytes / 4);
    this.j.pushUndo(() => mem.chunk(pa).set(copy, i));
  }

  private saveList(list: TableList): void {
    const head = list.head;
    const tail = list.tail;
    const count = list.count;
    this.j.pushUndo(() => list.setState(head, tail, count));
  }

  private checkList(list: TableList, what: string): void {
    if (!(list instanceof TableList) || list.host !== this) {
      throw new PtError("EINVAL", `${what}: the list was not made by this allocator's newList()`);
    }
  }

  private checkToken(token: number, what: string): void {
    if (this.j.depth === 0 || token !== this.j.depth) {
      throw new PtError(
        "EINVAL",
        `${what}(${String(token)}): not the innermost open transaction (open: ${this.j.depth})`,
      );
    }
  }

  private noMemory(lg2: number, limit: number): PtError {
    const live = this.c[C_BYTES]!;
    if (limit < this.b.end) {
      const what = limit === FOUR_G ? "4 GiB" : `${hex(limit)} (2^${Math.log2(limit)})`;
      return new PtError(
        "ENOMEM",
        `no free 2^${lg2}-byte table below ${what}: the table must end at or below ${hex(limit)} in ${this.mem.describe()}`,
      );
    }
    return new PtError(
      "ENOMEM",
      `out of memory: no free 2^${lg2}-byte table in ${this.mem.describe()} (${live} bytes in live tables)`,
    );
  }
}
