// IntervalModel: the reference the checker compares the device against. It knows only what the CPU side
// asked for (map and unmap calls), never how the page table encoded it, so it is an independent opinion.
// Ranges are half-open, kept sorted by IOVA and never overlapping; lookups are binary searches.
import { maxBig, minBig } from "./bigint.js";

/** One mapped range of the model: [iova, iova + size) -> [pa, pa + size) with `prot`. */
export interface ModelRange {
  readonly iova: bigint;
  readonly pa: bigint;
  readonly size: bigint;
  readonly prot: number;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/**
 * What the CPU side believes is mapped.
 *
 * @example
 * const m = new IntervalModel();
 * m.map(0x1000n, 0x8000_0000n, 0x2000n, Prot.READ);
 * m.lookup(0x2010n); // { pa: 0x8000_1010n, prot: 1 }
 * m.unmap(0x1000n, 0x1000n); // leaves [0x2000, 0x3000)
 */
export class IntervalModel {
  private list: ModelRange[] = [];

  /** Adds a mapping; throws an Error when any byte of it is already mapped. */
  map(iova: bigint, pa: bigint, size: bigint, prot: number): void {
    if (size <= 0n) throw new Error(`IntervalModel.map: size ${hex(size)} must be positive`);
    if (this.overlaps(iova, size))
      throw new Error(`IntervalModel.map: [${hex(iova)}, ${hex(iova + size)}) overlaps an existing mapping`);
    this.list.splice(this.firstEndingAfter(iova), 0, { iova, pa, size, prot });
  }

  /** Removes [iova, iova + size), splitting any range that straddles an edge; holes are fine. */
  unmap(iova: bigint, size: bigint): void {
    if (size <= 0n) return;
    const end = iova + size;
    const i = this.firstEndingAfter(iova);
    let j = i;
    const keep: ModelRange[] = [];
    for (; j < this.list.length && this.list[j]!.iova < end; j++) {
      const r = this.list[j]!;
      const rEnd = r.iova + r.size;
      if (r.iova < iova) keep.push({ ...r, size: iova - r.iova });
      if (rEnd > end) keep.push({ iova: end, pa: r.pa + (end - r.iova), size: rEnd - end, prot: r.prot });
    }
    this.list.splice(i, j - i, ...keep);
  }

  /** The translation of one IOVA, with the offset kept; undefined when unmapped. */
  lookup(iova: bigint): { pa: bigint; prot: number } | undefined {
    const r = this.list[this.firstEndingAfter(iova)];
    if (r === undefined || r.iova > iova) return undefined;
    return { pa: r.pa + (iova - r.iova), prot: r.prot };
  }

  /** True when any byte of [iova, iova + size) is mapped. */
  overlaps(iova: bigint, size: bigint): boolean {
    const r = this.list[this.firstEndingAfter(iova)];
    return r !== undefined && r.iova < iova + size;
  }

  /** Bytes mapped inside [iova, iova + size). */
  mappedBytes(iova: bigint, size: bigint): bigint {
    const end = iova + size;
    let n = 0n;
    for (let i = this.firstEndingAfter(iova); i < this.list.length && this.list[i]!.iova < end; i++) {
      const r = this.list[i]!;
      n += minBig(r.iova + r.size, end) - maxBig(r.iova, iova);
    }
    return n;
  }

  ranges(): ReadonlyArray<ModelRange> {
    return this.list;
  }

  clone(): IntervalModel {
    const m = new IntervalModel();
    m.list = this.list.slice();
    return m;
  }

  /** Index of the first range whose end lies above `iova` (where a range containing `iova` would be). */
  private firstEndingAfter(iova: bigint): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.list[mid]!;
      if (r.iova + r.size <= iova) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
