// Walk caches (paging-structure caches): the non-leaf entries a walk went through, kept so later walks
// skip reading them from memory. A cached entry goes on pointing at its old table after the CPU clears
// it, so a table freed (and reused) before the walk caches are invalidated is walked as whatever it now
// holds: the use-after-free the gather's ordering exists to prevent.
//
// Why cache entry values rather than resuming the walker at a lower level: resuming would re-run the
// walker's top-level checks (VA width, top index width, concatenated tops) against a table that is not
// the top. Instead each walk runs from the root as usual, through a WalkSession that answers the walker's
// reads of cached levels from the cache. So the walker sees exactly the values the hardware cached,
// permission bits included: the ANDed table permissions of AMD v1 and VT-d are modelled too.
//
// Entries are keyed by the path of entry offsets from the root, which is a function of the IOVA bits
// above the level alone, so no format knowledge is needed to key them. Invalidating by IOVA range needs
// the IOVA span an entry translates; that comes from the format's geometry when the Iommu has it.
// Without it an entry's span is unknown and every walk-cache invalidation drops it.
import type { WalkerMemory, WalkStep } from "@genpt/core";

/** One entry word read while walking a cached level: offset in its table, width and value. */
export interface CachedWord {
  readonly width: 4 | 8;
  value: bigint;
}

export interface WalkCacheEntry {
  readonly key: string;
  /** generic_pt level of the table holding the cached entry. */
  readonly level: number;
  /** The table the entry was read from, and the next table it pointed to at fill time. */
  readonly table: bigint;
  readonly next: bigint;
  /** The IOVA whose walk filled the entry. */
  readonly iova: bigint;
  /** IOVA span [start, end) the entry translates, when the geometry is known. */
  readonly span: { readonly start: bigint; readonly end: bigint } | undefined;
  /** Offset within `table` -> the word the walker read there. */
  readonly words: Map<bigint, CachedWord>;
}

export class WalkCache {
  private readonly map = new Map<string, WalkCacheEntry>();

  get(key: string): WalkCacheEntry | undefined {
    return this.map.get(key);
  }
  put(e: WalkCacheEntry): void {
    this.map.set(e.key, e);
  }
  /** Drops entries whose span meets [start, end), and every entry whose span is unknown. */
  invalidate(start: bigint, end: bigint): void {
    for (const [k, e] of this.map) {
      if (e.span === undefined || (e.span.start < end && e.span.end > start)) this.map.delete(k);
    }
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
  entries(): WalkCacheEntry[] {
    return [...this.map.values()];
  }
}

/** How one walk may use the walk cache and memory. */
export interface SessionOptions {
  /** Record the levels this walk went through into the cache. */
  readonly fill: boolean;
  /** Discard the walker's writes (a side-effect-free probe). */
  readonly readOnly: boolean;
  /** log2 bytes one entry of each level translates (geometry levels[].itemLg2), when known. */
  readonly itemLg2: readonly number[] | undefined;
}

interface StepState {
  key: string | undefined;
  hit: WalkCacheEntry | undefined;
  words: Map<bigint, CachedWord>;
}

/**
 * The memory one walk sees: the device view, with the levels the walk cache holds answered from it.
 * It relies on walkers pushing each WalkStep before reading that level's entry, which the contract's
 * `steps` order (every table read, top first) gives.
 */
export class WalkSession implements WalkerMemory {
  readonly steps: WalkStep[] = [];
  private readonly state: StepState[] = [];
  /** Addresses answered from the cache in this walk -> the cached word. */
  private readonly served = new Map<bigint, CachedWord>();
  /** Addresses read from memory in this walk -> the word as last read or written. */
  private readonly seen = new Map<bigint, CachedWord>();
  /** Levels answered from the cache. */
  hits = 0;

  constructor(
    private readonly base: WalkerMemory,
    private readonly cache: WalkCache,
    private readonly root: bigint,
    private readonly iova: bigint,
    private readonly opts: SessionOptions,
  ) {}

  readU32(pa: bigint): number {
    return Number(this.read(pa, 4));
  }
  readU64(pa: bigint): bigint {
    return this.read(pa, 8);
  }
  writeU32(pa: bigint, v: number): void {
    this.write(pa, 4, BigInt(v >>> 0));
  }
  writeU64(pa: bigint, v: bigint): void {
    this.write(pa, 8, v);
  }

  /** After the walk: cache every level the walk descended through and did not already take from the cache. */
  finish(): void {
    if (!this.opts.fill) return;
    for (let i = 0; i + 1 < this.steps.length; i++) {
      const st = this.state[i];
      if (st === undefined || st.key === undefined || st.hit !== undefined || st.words.size === 0) continue;
      const step = this.steps[i]!;
      const lg2 = this.opts.itemLg2?.[step.level];
      const span =
        lg2 === undefined
          ? undefined
          : {
              start: this.iova & ~((1n << BigInt(lg2)) - 1n),
              end: (this.iova | ((1n << BigInt(lg2)) - 1n)) + 1n,
            };
      this.cache.put({
        key: st.key,
        level: step.level,
        table: step.table,
        next: this.steps[i + 1]!.table,
        iova: this.iova,
        span,
        words: st.words,
      });
    }
  }

  private read(pa: bigint, width: 4 | 8): bigint {
    const served = this.served.get(pa);
    if (served !== undefined) return served.value;
    const seen = this.seen.get(pa);
    if (seen !== undefined) return seen.width === width ? seen.value : this.fromBase(pa, width);
    const i = this.steps.length - 1;
    const step = this.steps[i];
    if (step === undefined) return this.fromBase(pa, width);
    const st = this.stepState(i);
    const off = pa - step.table;
    if (st.key === undefined) {
      // The first read at a level names the entry: its offset, under the path of offsets above it.
      const above = i > 0 ? (this.state[i - 1]?.key ?? "?") : `${this.root.toString(16)}`;
      st.key = `${above}/${step.level}:${off.toString(16)}`;
      st.hit = this.cache.get(st.key);
      if (st.hit !== undefined) this.hits++;
    }
    const cached = st.hit?.words.get(off);
    if (cached !== undefined && cached.width === width) {
      this.served.set(pa, cached);
      return cached.value;
    }
    const value = this.fromBase(pa, width);
    const word: CachedWord = { width, value };
    st.words.set(off, word);
    this.seen.set(pa, word);
    return value;
  }

  private write(pa: bigint, width: 4 | 8, v: bigint): void {
    const served = this.served.get(pa);
    if (served !== undefined) {
      // The hardware skipped this level, so it writes nothing there; keep the cached copy current.
      if (!this.opts.readOnly) served.value = v;
      return;
    }
    const seen = this.seen.get(pa);
    if (seen !== undefined && seen.width === width) seen.value = v;
    if (this.opts.readOnly) return;
    if (width === 4) this.base.writeU32(pa, Number(v));
    else this.base.writeU64(pa, v);
  }

  private fromBase(pa: bigint, width: 4 | 8): bigint {
    return width === 4 ? BigInt(this.base.readU32(pa)) : this.base.readU64(pa);
  }

  private stepState(i: number): StepState {
    let st = this.state[i];
    if (st === undefined) {
      st = { key: undefined, hit: undefined, words: new Map() };
      this.state[i] = st;
    }
    return st;
  }
}
