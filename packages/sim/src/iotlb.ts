// The IOTLB: leaf translations the device caches, keyed by their size, each with the permissions and the
// dirty state the walk saw when it filled the entry. Nothing here ever reads memory: a cached entry keeps
// translating until it is invalidated, which is exactly what makes a missing flush visible.
//
// Invalidation follows the contract, not a generous implementation: an invalidation only promises that
// the addresses it names stop translating. When it covers part of a large cached translation, the rest
// stays cached, as pieces. Hardware really behaves so when it splinters large pages (nested translation
// over smaller stage-2 pages, vIOMMUs, TLBI with a level hint), and it is why an unmap that removes a whole
// large entry must invalidate all of it (CVE-2026-31735).
import { compareBig, maxBig, minBig } from "./bigint.js";

/** One cached translation of [iova, iova + 2^lg2). */
export interface IotlbEntry {
  readonly iova: bigint;
  /** log2 bytes this entry translates: the leaf's size, or less for a piece left by an invalidation. */
  readonly lg2: number;
  /** Output address of `iova`. */
  readonly pa: bigint;
  /** log2 bytes of the leaf the walk found. */
  readonly leafLg2: number;
  /** generic_pt level of that leaf. */
  readonly level: number;
  readonly read: boolean;
  readonly write: boolean;
  /** The leaf was write-dirty at fill time: a write hitting this entry does not touch memory. */
  readonly dirty: boolean;
  readonly pteAddr: bigint;
  /** The IOVA whose walk filled the entry: where a re-walk reads the same item (replicated leaves differ per item). */
  readonly fillIova: bigint;
}

/** Splits [start, end) into naturally aligned power-of-two blocks, lowest first. */
export function alignedBlocks(start: bigint, end: bigint): Array<{ iova: bigint; lg2: number }> {
  const out: Array<{ iova: bigint; lg2: number }> = [];
  let a = start;
  while (a < end) {
    let lg2 = 0;
    const room = end - a;
    while (lg2 < 64 && ((a >> BigInt(lg2)) & 1n) === 0n && 1n << BigInt(lg2 + 1) <= room) lg2++;
    out.push({ iova: a, lg2 });
    a += 1n << BigInt(lg2);
  }
  return out;
}

export class Iotlb {
  /** lg2 -> (iova >> lg2) -> entry. */
  private readonly bySize = new Map<number, Map<bigint, IotlbEntry>>();
  /** The sizes present, ascending, so a lookup tries the few that exist. */
  private sizes: number[] = [];

  /** The entry translating `iova`; where buggy flushing left overlapping entries, the smallest wins. */
  lookup(iova: bigint): IotlbEntry | undefined {
    for (const lg2 of this.sizes) {
      const e = this.bySize.get(lg2)!.get(iova >> BigInt(lg2));
      if (e !== undefined) return e;
    }
    return undefined;
  }

  insert(e: IotlbEntry): void {
    let m = this.bySize.get(e.lg2);
    if (m === undefined) {
      m = new Map();
      this.bySize.set(e.lg2, m);
      this.sizes = [...this.bySize.keys()].sort((a, b) => a - b);
    }
    m.set(e.iova >> BigInt(e.lg2), e);
  }

  remove(e: IotlbEntry): void {
    this.bySize.get(e.lg2)?.delete(e.iova >> BigInt(e.lg2));
  }

  /**
   * Drops every translation of an address in [start, end). With `keepOutside`, what a partly covered
   * entry translates outside the range stays cached as aligned pieces; otherwise the whole entry goes.
   */
  invalidate(start: bigint, end: bigint, keepOutside: boolean): void {
    const hit: IotlbEntry[] = [];
    for (const [lg2, m] of this.bySize) {
      const sh = BigInt(lg2);
      const first = start >> sh;
      const last = (end - 1n) >> sh;
      if (last - first < BigInt(m.size)) {
        for (let k = first; k <= last; k++) {
          const e = m.get(k);
          if (e !== undefined) hit.push(e);
        }
      } else {
        for (const e of m.values()) if (e.iova < end && e.iova + (1n << sh) > start) hit.push(e);
      }
    }
    for (const e of hit) {
      this.remove(e);
      if (!keepOutside) continue;
      const eEnd = e.iova + (1n << BigInt(e.lg2));
      const pieces = [
        ...alignedBlocks(e.iova, minBig(start, eEnd)),
        ...alignedBlocks(maxBig(end, e.iova), eEnd),
      ];
      for (const p of pieces) this.insert({ ...e, iova: p.iova, lg2: p.lg2, pa: e.pa + (p.iova - e.iova) });
    }
  }

  clear(): void {
    this.bySize.clear();
    this.sizes = [];
  }

  get size(): number {
    let n = 0;
    for (const m of this.bySize.values()) n += m.size;
    return n;
  }

  /** Every cached translation, ascending by IOVA. */
  entries(): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (const m of this.bySize.values()) out.push(...m.values());
    return out.sort((a, b) => compareBig(a.iova, b.iova) || a.lg2 - b.lg2);
  }
}
