// What the device's table walker reads: the CPU's memory itself (a coherent, snooping IOMMU) or a copy of
// its own that only cache writebacks update (an incoherent one). Either way a read outside physical memory
// is a bus error, which the Iommu turns into a walk fault instead of letting it escape as an exception.
import type { PhysMem } from "@genpt/alloc";
import type { WalkerMemory } from "@genpt/core";

/**
 * Every 32-bit word of the incoherent view that was never written back reads as this. It stands for
 * whatever DRAM held before the CPU's cached writes reached it; the pattern has the present bit of every
 * format set, so an unflushed table is walked as garbage (and usually faults on a wild pointer) rather
 * than quietly reading as empty.
 */
export const STALE_WORD = 0xa5a5a5a5;

/** A walker read or write outside physical memory: the Iommu reports it as a translation fault. */
export class BusError extends Error {
  constructor(readonly pa: bigint) {
    super(`bus error: table access at 0x${pa.toString(16)} is outside physical memory`);
    this.name = "BusError";
  }
}

/** Table memory as the device sees it. */
export interface DeviceView extends WalkerMemory {
  readonly coherent: boolean;
  /** A CPU cache writeback of [pa, pa + len): what the core's driver.cacheFlush asks for. */
  writeBack(pa: bigint, len: number): void;
}

function checkRange(mem: PhysMem, pa: bigint, bytes: number): void {
  if (pa < mem.base || pa + BigInt(bytes) > mem.end) throw new BusError(pa);
}

/** A snooping device: it reads and writes the CPU's memory directly, so writebacks change nothing. */
export class CoherentView implements DeviceView {
  readonly coherent = true;
  constructor(private readonly mem: PhysMem) {}

  readU32(pa: bigint): number {
    checkRange(this.mem, pa, 4);
    return this.mem.readU32(pa);
  }
  writeU32(pa: bigint, v: number): void {
    checkRange(this.mem, pa, 4);
    this.mem.writeU32(pa, v);
  }
  readU64(pa: bigint): bigint {
    checkRange(this.mem, pa, 8);
    return this.mem.readU64(pa);
  }
  writeU64(pa: bigint, v: bigint): void {
    checkRange(this.mem, pa, 8);
    this.mem.writeU64(pa, v);
  }
  writeBack(_pa: bigint, _len: number): void {}
}

const PAGE_WORDS = 1024;

/**
 * A device that does not snoop CPU caches. It holds its own copy of memory as sparse 4 KiB pages; a
 * word changes there only when the CPU writes it back (writeBack, from driver.cacheFlush) or when the
 * walker itself writes it. Words never written back read as STALE_WORD.
 *
 * Walker writes (A/D bits) are DMA writes: they land in the device's copy and also in the CPU's memory,
 * overwriting whatever the CPU had there. That lost-update hazard is real, and is why Linux never
 * combines dirty tracking with an incoherent walker.
 */
export class IncoherentView implements DeviceView {
  readonly coherent = false;
  private readonly pages = new Map<number, Uint32Array>();
  constructor(private readonly mem: PhysMem) {}

  readU32(pa: bigint): number {
    checkRange(this.mem, pa, 4);
    const page = this.pages.get(Number(pa >> 12n));
    return page === undefined ? STALE_WORD : page[Number(pa & 0xfffn) >> 2]!;
  }
  writeU32(pa: bigint, v: number): void {
    checkRange(this.mem, pa, 4);
    this.page(pa)[Number(pa & 0xfffn) >> 2] = v >>> 0;
    this.mem.writeU32(pa, v);
  }
  readU64(pa: bigint): bigint {
    return (BigInt(this.readU32(pa + 4n)) << 32n) | BigInt(this.readU32(pa));
  }
  writeU64(pa: bigint, v: bigint): void {
    checkRange(this.mem, pa, 8);
    const page = this.page(pa);
    const i = Number(pa & 0xfffn) >> 2;
    page[i] = Number(v & 0xffff_ffffn);
    page[i + 1] = Number(v >> 32n);
    this.mem.writeU64(pa, v);
  }

  /** Copies the CPU's words covering [pa, pa + len) into the device's copy. */
  writeBack(pa: bigint, len: number): void {
    if (len <= 0) return;
    let p = Number(pa) - (Number(pa) % 4);
    const end = Number(pa) + len;
    if (p < this.mem.baseNum || end > this.mem.endNum) throw new BusError(BigInt(p));
    while (p < end) {
      const page = this.pageAt(Math.floor(p / 4096));
      const stop = Math.min(end, (Math.floor(p / 4096) + 1) * 4096);
      for (; p < stop; p += 4) page[(p % 4096) >> 2] = this.mem.read32(p);
    }
  }

  /** How many 4 KiB pages the device holds a copy of. */
  get pagesHeld(): number {
    return this.pages.size;
  }

  private page(pa: bigint): Uint32Array {
    return this.pageAt(Number(pa >> 12n));
  }

  private pageAt(n: number): Uint32Array {
    let page = this.pages.get(n);
    if (page === undefined) {
      page = new Uint32Array(PAGE_WORDS).fill(STALE_WORD);
      this.pages.set(n, page);
    }
    return page;
  }
}
