// Gather: what an operation changed and still owes the hardware. One half-open IOVA range (in granules,
// like Linux's iotlb_gather) plus the tables to free once the IOTLB no longer references them.
import type { LevelAllocator, TableList } from "@genpt/alloc";
import type { Aperture } from "./aperture.js";
import type { FlushRequest, IovaRange, PtDriver, TestBreaks } from "./driver.js";

export interface GatherOwner {
  readonly alloc: LevelAllocator;
  readonly aperture: Aperture;
  readonly driver: PtDriver;
  readonly noGaps: boolean;
  readonly rcuFree: boolean;
  readonly breaks: TestBreaks;
  readonly incoherent: boolean;
}

/**
 * The IOTLB gather of one or more operations. Pass one to map/unmap/readAndClearDirty to batch, then
 * call `sync()`; without one, each call syncs its own.
 *
 * @example
 * const g = pt.newGather();
 * pt.unmap(0n, 0x20_0000n, { gather: g });
 * pt.unmap(0x40_0000n, 0x20_0000n, { gather: g });
 * g.sync(); // one flush covering both, then the emptied tables are freed
 */
export class Gather {
  /** Half-open granule range; start >= end means empty. */
  private start = Number.POSITIVE_INFINITY;
  private end = 0;
  private freed = false;
  /** Tables unlinked by the gathered operations, freed after the flush. */
  readonly tables: TableList;

  constructor(private readonly owner: GatherOwner) {
    this.tables = owner.alloc.newList();
  }

  isEmpty(): boolean {
    return this.start >= this.end && this.tables.isEmpty();
  }

  /** Adds the granule range [start, end). In no-gaps mode a disjoint range first syncs what is held. */
  addRange(start: number, end: number): void {
    if (start >= end) return;
    if (this.start < this.end) {
      if (this.owner.noGaps && (end < this.start || start > this.end)) this.sync();
    }
    if (start < this.start) this.start = start;
    if (end > this.end) this.end = end;
  }

  /** Queues a table unlinked from the tree; its span must also be added as a range. */
  addTable(pa: number): void {
    if (this.owner.incoherent && this.owner.alloc.isIncoherent(pa)) this.owner.alloc.stopIncoherent(pa);
    this.tables.add(pa);
    this.freed = true;
  }

  /** Records that a table pointer was replaced in the gathered range, so the flush must cover walk caches. */
  noteTableUnlinked(): void {
    this.freed = true;
  }

  /** The ranges a flush would cover now, as IOVAs (split where a sign-extended range crosses the hole). */
  get ranges(): IovaRange[] {
    if (this.start >= this.end) return [];
    const ap = this.owner.aperture;
    const first = ap.toIova(this.start);
    const lastEnd = ap.toIova(this.end - 1) + (1n << BigInt(ap.g));
    if (lastEnd > first) return [{ iova: first, size: lastEnd - first }];
    // The vpn range crosses from the lower to the upper canonical half: report both pieces.
    const half = 2 ** (ap.vaBits - 1 - ap.g);
    const lowEnd = ap.toIova(half - 1) + (1n << BigInt(ap.g));
    const highStart = ap.toIova(half);
    return [
      { iova: first, size: lowEnd - first },
      { iova: highStart, size: lastEnd - highStart },
    ];
  }

  /** True when a flush is owed for a table change (walk caches). */
  get tablesFreed(): boolean {
    return this.freed;
  }

  /** Flushes the IOTLB for what was gathered, then frees the gathered tables (directly or via RCU). */
  sync(): void {
    const { alloc, driver, breaks, rcuFree } = this.owner;
    if (breaks.freeBeforeFlush) this.freeTables(alloc, rcuFree);
    if (this.start < this.end) {
      // Building the bigint ranges costs more than the rest of a one-page unmap: only for a listener.
      if (driver.flush) {
        const req: FlushRequest = { ranges: this.ranges, tablesFreed: this.freed };
        driver.flush(req);
      }
    }
    if (!breaks.freeBeforeFlush) this.freeTables(alloc, rcuFree);
    this.start = Number.POSITIVE_INFINITY;
    this.end = 0;
    this.freed = false;
  }

  private freeTables(alloc: LevelAllocator, rcu: boolean): void {
    if (this.tables.isEmpty()) return;
    if (rcu) alloc.freeListRcu(this.tables);
    else alloc.freeList(this.tables);
  }
}
