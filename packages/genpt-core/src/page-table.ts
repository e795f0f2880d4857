// createPageTable and the PageTable it returns: the public, bigint-speaking API. Each method checks
// its input (DESIGN "Errors"), converts once to granule numbers, and hands the work to one algorithm.
import { hex, LevelAllocator, type PhysMem, PtError } from "@genpt/alloc";
import { Aperture, needAligned, needBigint, type VaMode } from "./aperture.js";
import { type Census, takeCensus } from "./census.js";
import { Ctx } from "./ctx.js";
import { destroyTree } from "./destroy.js";
import { readAndClearDirtyRange, setDirtyAt } from "./dirty.js";
import { setBitmap } from "./dirty-bitmap.js";
import { type DumpOptions, dumpTree } from "./dump.js";
import { resolveFeatures, sizeToLg2 } from "./features.js";
import type { PtFormat } from "./format.js";
import { Gather } from "./gather.js";
import { makeLayout, vaBitsAtTop } from "./layout.js";
import { findLeaf, translate } from "./lookup.js";
import { mapRange } from "./map.js";
import { type MergeResult, mergeRange } from "./merge.js";
import type {
  CreateOptions,
  DirtyLogStartOptions,
  DirtyLogStopOptions,
  DirtyOptions,
  MapOptions,
  MergeOptions,
  PtFeatures,
  PtInfo,
} from "./options.js";
import { checkProt } from "./prot.js";
import { snapshotTree, type TableSnapshot } from "./snapshot.js";
import { cutAt, type SplitResult, splitRange } from "./split.js";
import { unmapRange } from "./unmap.js";

let nextOwner = 1;

/** A page table of one format in simulated physical memory. Create it with createPageTable. */
export class PageTable<A = unknown> {
  readonly format: PtFormat<A>;
  readonly mem: PhysMem;
  readonly allocator: LevelAllocator;
  /** The allocator's owner id of this table's memory. */
  readonly owner: number;
  private readonly ctx: Ctx<A>;
  private readonly gather: Gather;
  private readonly feats: Required<PtFeatures>;
  private readonly minPageLg2: number;
  /** Precomputed for the per-call checks: BigInt arithmetic costs tens of ns per operation. */
  private readonly minPageMask: bigint;
  private readonly granuleMask: bigint;
  private readonly oaLimit: bigint;
  private readonly gBig: bigint;
  private readonly gNum: number;
  private readonly vaLimitNum: number;
  private readonly oaLimitNum: number;
  private readonly minPageNum: number;
  /** protToAttrs per prot value (prot < 64): attributes are immutable, and a map should not allocate them. */
  private readonly attrsByProt: Array<A | undefined> = [];

  /** @internal Use createPageTable. */
  constructor(format: PtFormat<A>, opts: CreateOptions) {
    if (!opts || typeof opts !== "object" || !opts.mem)
      throw new PtError("EINVAL", "createPageTable: options.mem (a PhysMem) is required");
    this.format = format;
    this.mem = opts.mem;
    this.allocator = opts.allocator ?? LevelAllocator.for(opts.mem);
    this.owner = nextOwner++;
    const geo = format.geometry;
    const narrow = opts.pgsizes?.map((s) => sizeToLg2(s));
    const lay = makeLayout(format, narrow);
    this.feats = resolveFeatures(format, opts.features ?? {});
    const mode: VaMode = this.feats.signExtend ? "sign" : (geo.vaPrefix ?? "zero");
    const vaBits = this.feats.dynamicTop ? geo.vaBits : vaBitsAtTop(geo, geo.topLevel);
    const aperture = new Aperture(mode, vaBits, lay.g);
    this.minPageLg2 = lay.sizes[0]! + lay.g;
    this.minPageMask = (1n << BigInt(this.minPageLg2)) - 1n;
    this.granuleMask = (1n << BigInt(lay.g)) - 1n;
    this.oaLimit = 1n << BigInt(lay.oaBits);
    this.gBig = BigInt(lay.g);
    this.gNum = 2 ** lay.g;
    this.vaLimitNum = mode === "zero" ? Math.min(2 ** vaBits, 2 ** 53) : 0;
    this.oaLimitNum = 2 ** lay.oaBits;
    this.minPageNum = 2 ** this.minPageLg2;
    const flags = { incoherent: this.feats.incoherent, dynamicTop: this.feats.dynamicTop };
    const ctx = new Ctx(
      format,
      lay,
      this.mem,
      this.allocator,
      this.owner,
      aperture,
      opts.driver ?? {},
      opts.testBreaks ?? {},
      flags,
      {
        pa: 0,
        level: geo.topLevel,
      },
    );
    const lg2 = ctx.tableLg2(geo.topLevel, true);
    const pa = ctx.allocTable(lg2);
    if (this.feats.incoherent) {
      this.allocator.startIncoherent(pa);
      ctx.flushTableMemory(pa, 2 ** lg2);
    }
    ctx.top = { pa, level: geo.topLevel };
    this.ctx = ctx;
    this.gather = this.newGather();
    ctx.breakGather = this.newGather();
  }

  /** A fresh gather for batching IOTLB work across calls. */
  newGather(): Gather {
    const { feats, ctx } = this;
    return new Gather({
      alloc: this.allocator,
      aperture: ctx.aperture,
      driver: ctx.driver,
      noGaps: feats.flushNoGaps,
      rcuFree: feats.rcuFree,
      breaks: ctx.breaks,
      incoherent: feats.incoherent,
    });
  }

  /**
   * Maps [iova, iova + size) to [pa, pa + size) with the best page size at every step. Throws PtError;
   * on any error, nothing has changed.
   */
  map(iova: bigint, pa: bigint, size: bigint, prot: number, opts: MapOptions = {}): void {
    // Fast path: everything below 2^53 and plainly valid is checked in doubles; anything else takes the
    // full bigint checks below, which also word the error.
    if (
      typeof iova === "bigint" &&
      typeof pa === "bigint" &&
      typeof size === "bigint" &&
      iova >= 0n &&
      pa >= 0n &&
      size > 0n &&
      iova < 9007199254740992n &&
      pa < 9007199254740992n &&
      size < 9007199254740992n &&
      !this.ctx.destroyed
    ) {
      const i = Number(iova);
      const p = Number(pa);
      const n = Number(size);
      const mp = this.minPageNum;
      const attrs = typeof prot === "number" ? this.attrsByProt[prot] : undefined;
      if (
        attrs !== undefined &&
        i % mp === 0 &&
        p % mp === 0 &&
        n % mp === 0 &&
        i + n <= this.vaLimitNum &&
        p + n <= this.oaLimitNum
      ) {
        const ctx = this.ctx;
        const gather = opts.gather ?? this.gather;
        mapRange(ctx, i / this.gNum, p / this.gNum, n / this.gNum, attrs, gather);
        if (!opts.gather && !gather.isEmpty()) gather.sync();
        return;
      }
    }
    this.mapChecked(iova, pa, size, prot, opts);
  }

  private mapChecked(iova: bigint, pa: bigint, size: bigint, prot: number, opts: MapOptions): void {
    const ctx = this.live("map");
    needBigint("map", "iova", iova);
    needBigint("map", "pa", pa);
    needBigint("map", "size", size);
    checkProt(prot);
    this.checkSize("map", size);
    const m = this.minPageMask;
    if ((iova & m) !== 0n) needAligned("map", "iova", iova, this.minPageLg2);
    if ((pa & m) !== 0n) needAligned("map", "pa", pa, this.minPageLg2);
    if ((size & m) !== 0n) needAligned("map", "size", size, this.minPageLg2);
    ctx.aperture.checkRange("map", iova, size);
    if (pa < 0n) throw new PtError("EINVAL", `map: pa ${hex(pa)} is negative`);
    if (pa + size > this.oaLimit)
      throw new PtError(
        "ERANGE",
        `map: pa range [${hex(pa)}, ${hex(pa + size)}) exceeds the ${ctx.lay.oaBits}-bit output address space`,
      );
    const attrs = this.format.protToAttrs(prot);
    this.attrsByProt[prot] = attrs;
    const gather = opts.gather ?? this.gather;
    mapRange(ctx, ctx.aperture.toVpn(iova), this.toUnits(pa), this.toUnits(size), attrs, gather);
    if (!opts.gather && !gather.isEmpty()) gather.sync();
  }

  /**
   * Unmaps every leaf in [iova, iova + size) and returns the bytes removed, which exceed `size` when the
   * range ends inside a large entry. A start inside an entry is EINVAL.
   */
  unmap(iova: bigint, size: bigint, opts: MapOptions = {}): bigint {
    if (
      typeof iova === "bigint" &&
      typeof size === "bigint" &&
      iova >= 0n &&
      size > 0n &&
      iova < 9007199254740992n &&
      size < 9007199254740992n &&
      !this.ctx.destroyed
    ) {
      const i = Number(iova);
      const n = Number(size);
      const g = this.gNum;
      if (i % g === 0 && n % g === 0 && i + n <= this.vaLimitNum) {
        const gather = opts.gather ?? this.gather;
        const removed = unmapRange(this.ctx, i / g, (i + n) / g, gather);
        if (!opts.gather && !gather.isEmpty()) gather.sync();
        const bytes = removed * g;
        return bytes < 9007199254740992 ? BigInt(bytes) : BigInt(removed) << this.gBig;
      }
    }
    return this.unmapChecked(iova, size, opts);
  }

  private unmapChecked(iova: bigint, size: bigint, opts: MapOptions): bigint {
    const ctx = this.live("unmap");
    needBigint("unmap", "iova", iova);
    needBigint("unmap", "size", size);
    this.checkSize("unmap", size);
    if (((iova | size) & this.granuleMask) !== 0n) {
      needAligned("unmap", "iova", iova, ctx.lay.g);
      needAligned("unmap", "size", size, ctx.lay.g);
    }
    ctx.aperture.checkRange("unmap", iova, size);
    const vpn = ctx.aperture.toVpn(iova);
    const gather = opts.gather ?? this.gather;
    const n = unmapRange(ctx, vpn, vpn + this.toUnits(size), gather);
    if (!opts.gather && !gather.isEmpty()) gather.sync();
    const bytes = n * this.gNum;
    return bytes < 9007199254740992 ? BigInt(bytes) : BigInt(n) << this.gBig;
  }

  /** The physical address `iova` translates to, keeping the offset in the page; undefined when unmapped. */
  iovaToPhys(iova: bigint): bigint | undefined {
    const ctx = this.live("iovaToPhys");
    needBigint("iovaToPhys", "iova", iova);
    const g = ctx.lay.g;
    if (iova >= 0n && iova < 9007199254740992n && this.vaLimitNum > 0) {
      // The common case stays in doubles: one conversion in, one out.
      const n = Number(iova);
      if (n >= this.vaLimitNum) return undefined;
      const gNum = this.gNum;
      const vpn = Math.floor(n / gNum);
      const oa = translate(ctx, vpn);
      if (oa < 0) return undefined;
      const off = n - vpn * gNum;
      const pa = oa * gNum + off;
      return pa < 9007199254740992 ? BigInt(pa) : (BigInt(oa) << this.gBig) + BigInt(off);
    }
    if (!inAperture(ctx.aperture, iova)) return undefined;
    const oa = translate(ctx, ctx.aperture.toVpn(iova));
    if (oa < 0) return undefined;
    return (BigInt(oa) << BigInt(g)) | (iova & ((1n << BigInt(g)) - 1n));
  }

  /**
   * Reports dirty leaves in [iova, iova + size) as merged ranges of whole entries, and cleans them
   * (unless noClear), adding what it cleaned to the gather. EOPNOTSUPP without dirty tracking.
   */
  readAndClearDirty(
    iova: bigint,
    size: bigint,
    opts: DirtyOptions = {},
  ): Array<{ iova: bigint; size: bigint }> {
    const ctx = this.live("readAndClearDirty");
    this.needDirty("readAndClearDirty");
    const [vpn, end] = this.rangeArgs("readAndClearDirty", iova, size, ctx.lay.g);
    const gather = opts.gather ?? this.gather;
    const flat = readAndClearDirtyRange(ctx, vpn, end, opts.noClear === true, gather);
    if (!opts.gather && !gather.isEmpty()) gather.sync();
    const g = BigInt(ctx.lay.g);
    const out: Array<{ iova: bigint; size: bigint }> = [];
    for (let i = 0; i < flat.length; i += 2) {
      out.push({ iova: ctx.aperture.toIova(flat[i]!), size: BigInt(flat[i + 1]! - flat[i]!) << g });
    }
    if (opts.bitmap) setBitmap(opts.bitmap, out);
    return out;
  }

  /**
   * Splits whichever large or contiguous entry spans `iova` so that [start, iova) and [iova, end) can be
   * unmapped separately, keeping the largest entries that fit on each side and every attribute bit.
   * Returns false when `iova` already is an entry boundary or is unmapped. ENOMEM changes nothing.
   */
  cut(iova: bigint, opts: MapOptions = {}): boolean {
    const ctx = this.live("cut");
    needBigint("cut", "iova", iova);
    needAligned("cut", "iova", iova, this.minPageLg2);
    ctx.aperture.checkRange("cut", iova, 1n << BigInt(this.minPageLg2));
    return this.synced(opts.gather, (g) => cutAt(ctx, ctx.aperture.toVpn(iova), g));
  }

  /**
   * Turns every leaf larger than the smallest page that meets [iova, iova + size) into smallest pages,
   * with the same OAs, attributes and dirty state. All or nothing: ENOMEM changes nothing.
   */
  splitBlocks(iova: bigint, size: bigint, opts: MapOptions = {}): SplitResult {
    const ctx = this.live("splitBlocks");
    const [vpn, end] = this.rangeArgs("splitBlocks", iova, size, this.minPageLg2);
    return this.synced(opts.gather, (g) => splitRange(ctx, vpn, end, g));
  }

  /**
   * Replaces tables and runs of entries inside [iova, iova + size) that one larger leaf can express
   * (contiguous OA aligned to the leaf, identical attributes, no hole) with that leaf, and gathers the
   * tables for freeing. Dirty leaves are left alone unless `dirty: "carry"`.
   */
  mergePages(iova: bigint, size: bigint, opts: MergeOptions = {}): MergeResult {
    const ctx = this.live("mergePages");
    const dirty = opts.dirty ?? "refuse";
    if (dirty !== "refuse" && dirty !== "carry")
      throw new PtError("EINVAL", `mergePages: dirty ${String(dirty)} is not "refuse" or "carry"`);
    const [vpn, end] = this.rangeArgs("mergePages", iova, size, this.minPageLg2);
    return this.synced(opts.gather, (g) => mergeRange(ctx, vpn, end, dirty === "carry", g));
  }

  /**
   * Begins dirty logging of [iova, iova + size): optionally splits blocks into smallest pages, then cleans
   * every leaf (writable leaves may be created dirty, as with Arm's DBM) and flushes, so that the first
   * readAndClearDirty reports only writes made after this call. The page table keeps no session state:
   * enabling tracking in the IOMMU is the driver's part. EOPNOTSUPP without dirty tracking.
   */
  startDirtyLog(iova: bigint, size: bigint, opts: DirtyLogStartOptions = {}): SplitResult {
    const ctx = this.live("startDirtyLog");
    this.needDirty("startDirtyLog");
    const [vpn, end] = this.rangeArgs("startDirtyLog", iova, size, this.minPageLg2);
    return this.synced(opts.gather, (g) => {
      const split = opts.split ? splitRange(ctx, vpn, end, g) : { entries: 0, tables: 0 };
      readAndClearDirtyRange(ctx, vpn, end, false, g);
      return split;
    });
  }

  /**
   * Ends dirty logging of [iova, iova + size): with `merge`, merges the range back into the largest
   * leaves it can hold, leaving any leaf still dirty (not yet harvested) as it is. EOPNOTSUPP without
   * dirty tracking.
   */
  stopDirtyLog(iova: bigint, size: bigint, opts: DirtyLogStopOptions = {}): MergeResult {
    const ctx = this.live("stopDirtyLog");
    this.needDirty("stopDirtyLog");
    const [vpn, end] = this.rangeArgs("stopDirtyLog", iova, size, this.minPageLg2);
    if (!opts.merge) return { entries: 0, tables: 0 };
    return this.synced(opts.gather, (g) => mergeRange(ctx, vpn, end, false, g));
  }

  /** Test hook: dirties the item translating `iova` as a DMA write would. False when unmapped or untracked. */
  setDirty(iova: bigint): boolean {
    const ctx = this.live("setDirty");
    this.needDirty("setDirty");
    needBigint("setDirty", "iova", iova);
    if (!inAperture(ctx.aperture, iova)) return false;
    const st = findLeaf(ctx, ctx.aperture.toVpn(iova));
    return st ? setDirtyAt(ctx, st) : false;
  }

  info(): PtInfo {
    const ctx = this.live("info");
    const root = BigInt(ctx.top.pa);
    const hw = this.format.hwInfo(root, ctx.top.level);
    return {
      ...hw,
      format: this.format.name,
      config: this.format.config,
      root,
      topLevel: ctx.top.level,
      maxTopLevel: this.feats.dynamicTop ? ctx.lay.maxTopLevel : ctx.top.level,
      pgsizes: ctx.lay.sizes.map((s) => 1n << BigInt(s + ctx.lay.g)),
      vaBits: ctx.aperture.vaBits,
      oaBits: ctx.lay.oaBits,
      granule: 1n << BigInt(ctx.lay.g),
      entryBytes: this.format.geometry.entryBytes,
      dirtyTracking: ctx.dirty !== undefined,
      features: { ...this.feats },
      hw,
    };
  }

  /** The table as a readable text tree. */
  dump(opts?: DumpOptions): string {
    return dumpTree(this.live("dump"), opts);
  }

  /** The tree as plain data: tables, occupied slots and leaf sizes. */
  tree(): TableSnapshot {
    return snapshotTree(this.live("tree"));
  }

  /** Leaves by size and tables by level. */
  census(): Census {
    return takeCensus(this.live("census"));
  }

  /** Syncs the internal gather, then frees every table. The page table cannot be used afterwards. */
  destroy(): void {
    const ctx = this.live("destroy");
    if (!this.gather.isEmpty()) this.gather.sync();
    destroyTree(ctx);
    ctx.destroyed = true;
  }

  /** @internal For sibling modules of the core (cut, split, merge) and white-box tests. */
  get internals(): Ctx<A> {
    return this.ctx;
  }

  private live(what: string): Ctx<A> {
    if (this.ctx.destroyed) throw new PtError("EINVAL", `${what}: the page table was destroyed`);
    return this.ctx;
  }

  /** A granule-aligned bigint in granules; exact because every address here is below 2^64. */
  private toUnits(v: bigint): number {
    return v < 9007199254740992n ? Number(v) / this.gNum : Number(v >> this.gBig);
  }

  private needDirty(what: string): void {
    if (!this.ctx.dirty)
      throw new PtError(
        "EOPNOTSUPP",
        `${what}: format ${this.format.name} (${this.format.config}) has no dirty tracking`,
      );
  }

  /** Checks a range argument (bigints, nonzero, aligned to 2^lg2, in the aperture); returns [vpn, end). */
  private rangeArgs(what: string, iova: bigint, size: bigint, lg2: number): [number, number] {
    const ctx = this.ctx;
    needBigint(what, "iova", iova);
    needBigint(what, "size", size);
    this.checkSize(what, size);
    needAligned(what, "iova", iova, lg2);
    needAligned(what, "size", size, lg2);
    ctx.aperture.checkRange(what, iova, size);
    const vpn = ctx.aperture.toVpn(iova);
    return [vpn, vpn + this.toUnits(size)];
  }

  /** Runs `op` with the caller's gather, or with the internal one and syncs it before returning. */
  private synced<R>(gather: Gather | undefined, op: (g: Gather) => R): R {
    const g = gather ?? this.gather;
    try {
      return op(g);
    } finally {
      if (!gather && !g.isEmpty()) g.sync();
    }
  }

  private checkSize(what: string, size: bigint): void {
    if (size <= 0n) throw new PtError("EINVAL", `${what}: size ${hex(size)} must be greater than zero`);
  }
}

/**
 * Creates an empty page table of `format` in `mem`.
 *
 * @example
 * const mem = new PhysMem({ base: 0x8000_0000n, size: 256n << 20n });
 * const pt = createPageTable(amdv1(), { mem });
 * pt.map(0x10_0000n, 0x4000_0000n, 0x20_0000n, Prot.READ | Prot.WRITE);
 */
export function createPageTable<A>(format: PtFormat<A>, opts: CreateOptions): PageTable<A> {
  return new PageTable(format, opts);
}

function inAperture(ap: Aperture, iova: bigint): boolean {
  return ap.regions.some((r) => iova >= r.start && iova < r.end);
}
