// Iommu: the device side of a page table. DMA goes page by page through the IOTLB, then the walk caches,
// then the format's own hardware walker over the device's view of memory; the core reaches it only
// through `driver` (flush, cacheFlush, changeTop), just as a real driver would program the hardware.

import type { PhysMem } from "@genpt/alloc";
import {
  type Access,
  type FlushRequest,
  type Geometry,
  type HardwareWalker,
  type PageTable,
  type PtDriver,
  PtError,
  type WalkFault,
  type WalkHit,
  type WalkResult,
} from "@genpt/core";
import { compareBig, minBig } from "./bigint.js";
import { BusError, CoherentView, type DeviceView, IncoherentView } from "./device-view.js";
import { applyModel, type InvalidationModel } from "./invalidation.js";
import { Iotlb, type IotlbEntry } from "./iotlb.js";
import { copyStats, type IommuStats, newStats } from "./stats.js";
import { WalkCache, type WalkCacheEntry, WalkSession } from "./walk-cache.js";

export interface IommuOptions {
  /** The CPU's memory. */
  mem: PhysMem;
  walker: HardwareWalker;
  /** From pt.info(). An Iommu made before its page table can start at 0n/0 and `attach(pt)` later. */
  root: bigint;
  topLevel: number;
  /** Default true. False: the device reads its own copy of memory, updated only by driver.cacheFlush. */
  coherent?: boolean;
  /** Hardware A/D updates (WalkContext.accessDirty); default false. */
  dirtyTracking?: boolean;
  /** DMA page step and invalidation granule (log2 bytes); default 12. */
  pageLg2?: number;
  /** The format's geometry (pt.format.geometry): gives the IOVA span of walk-cache entries. */
  geometry?: Pick<Geometry, "levels">;
  /** How range invalidations widen; default INVALIDATION.exact. */
  invalidation?: InvalidationModel;
  /**
   * What an invalidation does to a cached translation it covers only in part: "keep-outside" (default)
   * keeps translating the addresses it did not name; "drop-entry" drops the whole entry, as hardware
   * that never splinters large pages does.
   */
  partialInvalidation?: "keep-outside" | "drop-entry";
  /**
   * Runs when the core's flush arrives, before it takes effect. Tests use it to act in the window between
   * a table change and its invalidation, as a concurrent DMA or another CPU could.
   */
  onFlush?: (req: FlushRequest) => void;
}

export type DmaResult =
  | { ok: true; segments: Array<{ iova: bigint; pa: bigint; size: bigint }> }
  | { ok: false; fault: WalkFault };

/** Where a probe's answer came from: a cached translation or a walk of the device's memory. */
export interface ProbeDetail {
  readonly result: WalkResult;
  readonly from: "iotlb" | "walk";
  /** The IOTLB entry that answered, when it was one. */
  readonly entry: IotlbEntry | undefined;
}

const TWO64 = 1n << 64n;

/**
 * A device behind an IOMMU that walks one page table.
 *
 * @example
 * const iommu = new Iommu({ mem, walker: mock64Walker(), root: 0n, topLevel: 0, dirtyTracking: true });
 * const pt = createPageTable(mock64(), { mem, driver: iommu.driver });
 * iommu.attach(pt);
 * pt.map(0x1000n, 0x10_0000n, 0x1000n, Prot.READ | Prot.WRITE);
 * iommu.dma(0x1000n, 0x1000n, "write"); // { ok: true, segments: [{ iova: 0x1000n, pa: 0x10_0000n, size: 0x1000n }] }
 */
export class Iommu {
  readonly mem: PhysMem;
  readonly walker: HardwareWalker;
  readonly coherent: boolean;
  readonly dirtyTracking: boolean;
  readonly pageLg2: number;
  /** The PtDriver to pass to createPageTable. */
  readonly driver: PtDriver;
  private readonly view: DeviceView;
  private readonly iotlb = new Iotlb();
  private readonly walkCache = new WalkCache();
  private readonly invalidation: InvalidationModel;
  private readonly keepOutside: boolean;
  private readonly onFlush: ((req: FlushRequest) => void) | undefined;
  private itemLg2: number[] | undefined;
  private rootPa: bigint;
  private top: number;
  private counters = newStats();
  private writes: Array<{ iova: bigint; size: bigint }> = [];

  constructor(opts: IommuOptions) {
    if (!opts || typeof opts !== "object" || !opts.mem || !opts.walker)
      throw new PtError("EINVAL", "Iommu: options { mem, walker, root, topLevel } are required");
    const pageLg2 = opts.pageLg2 ?? 12;
    if (!Number.isInteger(pageLg2) || pageLg2 < 2 || pageLg2 > 30)
      throw new PtError("EINVAL", `Iommu: pageLg2 ${String(pageLg2)} is not an integer in 2..30`);
    this.mem = opts.mem;
    this.walker = opts.walker;
    this.coherent = opts.coherent ?? true;
    this.dirtyTracking = opts.dirtyTracking ?? false;
    this.pageLg2 = pageLg2;
    this.view = this.coherent ? new CoherentView(opts.mem) : new IncoherentView(opts.mem);
    this.invalidation = opts.invalidation ?? { kind: "exact" };
    this.keepOutside = (opts.partialInvalidation ?? "keep-outside") === "keep-outside";
    this.onFlush = opts.onFlush;
    this.itemLg2 = opts.geometry?.levels.map((l) => l.itemLg2);
    this.rootPa = opts.root;
    this.top = opts.topLevel;
    this.driver = {
      flush: (req) => {
        this.onFlush?.(req);
        for (const r of req.ranges) this.invalidateRange(r.iova, r.size, { leafOnly: !req.tablesFreed });
      },
      cacheFlush: (pa, len) => {
        this.counters.bytesFlushed += len;
        this.view.writeBack(pa, len);
      },
      changeTop: (root, topLevel) => {
        this.setTop(root, topLevel);
        this.invalidateAll();
      },
    };
  }

  /** Points the device at `pt` (its root and top level) and learns its geometry for the walk caches. */
  attach(pt: PageTable<unknown>): void {
    const info = pt.info();
    this.itemLg2 = pt.format.geometry.levels.map((l) => l.itemLg2);
    this.setTop(info.root, info.topLevel);
  }

  get root(): bigint {
    return this.rootPa;
  }
  get topLevel(): number {
    return this.top;
  }

  /**
   * Translates every page of [iova, iova + length). Stops at the first fault, as a device's DMA would;
   * the pages before it were transferred (and, for writes, may have been marked dirty).
   */
  dma(iova: bigint, length: bigint, access: Access): DmaResult {
    checkAccess("dma", access);
    if (
      typeof iova !== "bigint" ||
      typeof length !== "bigint" ||
      iova < 0n ||
      length < 0n ||
      iova + length > TWO64
    )
      throw new PtError(
        "EINVAL",
        `dma: [${String(iova)}, +${String(length)}) is not a range of the 64-bit IOVA space`,
      );
    const segments: Array<{ iova: bigint; pa: bigint; size: bigint }> = [];
    const end = iova + length;
    const g = BigInt(this.pageLg2);
    let cur = iova;
    while (cur < end) {
      const { result, spanEnd } = this.access1(cur, access);
      if (!result.ok) {
        this.countBytes(access, cur - iova);
        return { ok: false, fault: result };
      }
      const next = minBig(spanEnd, end);
      // One lookup per DMA page: the pages after the first in this translation hit the IOTLB.
      this.counters.iotlbHits += Number(((next - 1n) >> g) - (cur >> g));
      const last = segments[segments.length - 1];
      if (last !== undefined && last.iova + last.size === cur && last.pa + last.size === result.pa)
        last.size += next - cur;
      else segments.push({ iova: cur, pa: result.pa, size: next - cur });
      cur = next;
    }
    this.countBytes(access, length);
    if (access === "write") for (const s of segments) this.writes.push({ iova: s.iova, size: s.size });
    return { ok: true, segments };
  }

  /** One access through the IOTLB, filling it on a miss. */
  translate(iova: bigint, access: Access): WalkResult {
    checkAccess("translate", access);
    checkIova("translate", iova);
    return this.access1(iova, access).result;
  }

  /** A side-effect-free look: the IOTLB first (a stale entry shows), else a walk that writes nothing and fills nothing. */
  probe(iova: bigint, access: Access = "read"): WalkResult {
    return this.probeDetail(iova, access).result;
  }

  /** probe(), saying where the answer came from. */
  probeDetail(iova: bigint, access: Access = "read"): ProbeDetail {
    checkAccess("probe", access);
    checkIova("probe", iova);
    const e = this.iotlb.lookup(iova);
    if (e !== undefined && permits(e, access)) return { result: hitFrom(e, iova), from: "iotlb", entry: e };
    return { result: this.walk(iova, access, false), from: "walk", entry: undefined };
  }

  /** A side-effect-free walk that bypasses the IOTLB (walk caches still apply): what a re-walk would find. */
  probeWalk(iova: bigint, access: Access = "read"): WalkResult {
    checkAccess("probeWalk", access);
    checkIova("probeWalk", iova);
    return this.walk(iova, access, false);
  }

  /** Invalidates [iova, iova + size) under the invalidation model; with leafOnly the walk caches stay. */
  invalidateRange(iova: bigint, size: bigint, opts: { leafOnly?: boolean } = {}): void {
    checkIova("invalidateRange", iova);
    if (typeof size !== "bigint" || size <= 0n)
      throw new PtError("EINVAL", `invalidateRange: size ${String(size)} must be a positive bigint`);
    const leafOnly = opts.leafOnly === true;
    if (leafOnly) this.counters.invalidations.leaf++;
    else this.counters.invalidations.walk++;
    const inv = applyModel(this.invalidation, iova, size, this.pageLg2);
    if (inv.all) {
      this.iotlb.clear();
      this.walkCache.clear();
      return;
    }
    this.iotlb.invalidate(inv.start, inv.end, this.keepOutside);
    if (!leafOnly) this.walkCache.invalidate(inv.start, inv.end);
  }

  invalidateAll(): void {
    this.counters.invalidations.all++;
    this.iotlb.clear();
    this.walkCache.clear();
  }

  /** Points the device at a new top. The walk caches belong to the old one and are dropped; the IOTLB stays. */
  setTop(root: bigint, topLevel: number): void {
    if (typeof root !== "bigint" || !Number.isInteger(topLevel) || topLevel < 0)
      throw new PtError(
        "EINVAL",
        `setTop: root ${String(root)} / topLevel ${String(topLevel)} are not valid`,
      );
    this.rootPa = root;
    this.top = topLevel;
    this.walkCache.clear();
  }

  stats(): IommuStats {
    return copyStats(this.counters);
  }

  resetStats(): void {
    this.counters = newStats();
  }

  /** The cached translations, ascending by IOVA (a snapshot). */
  iotlbEntries(): IotlbEntry[] {
    return this.iotlb.entries();
  }

  /** The walk-cache entries (a snapshot). */
  walkCacheEntries(): WalkCacheEntry[] {
    return this.walkCache.entries();
  }

  /** The IOVA ranges DMA wrote since the last call, merged and ascending; for checking dirty harvests. */
  takeWrites(): Array<{ iova: bigint; size: bigint }> {
    const w = this.writes.sort((a, b) => compareBig(a.iova, b.iova));
    this.writes = [];
    const out: Array<{ iova: bigint; size: bigint }> = [];
    for (const r of w) {
      const last = out[out.length - 1];
      if (last !== undefined && r.iova <= last.iova + last.size) {
        const end = r.iova + r.size;
        if (end > last.iova + last.size) last.size = end - last.iova;
      } else out.push({ ...r });
    }
    return out;
  }

  /** One translation through the IOTLB; also returns where the translation used ends, for DMA stepping. */
  private access1(iova: bigint, access: Access): { result: WalkResult; spanEnd: bigint } {
    const e = this.iotlb.lookup(iova);
    if (e !== undefined) {
      // A write to a clean cached translation must walk again so the hardware can set D; so must an
      // access the cached permissions do not allow (the hardware re-checks memory before faulting).
      const stale = !permits(e, access) || (access === "write" && this.dirtyTracking && !e.dirty);
      if (!stale) {
        this.counters.iotlbHits++;
        return { result: hitFrom(e, iova), spanEnd: e.iova + (1n << BigInt(e.lg2)) };
      }
      this.iotlb.remove(e);
    }
    this.counters.iotlbMisses++;
    const r = this.walk(iova, access, true);
    if (!r.ok) return { result: r, spanEnd: iova };
    const mask = (1n << BigInt(r.pageLg2)) - 1n;
    const base = iova & ~mask;
    this.iotlb.insert({
      iova: base,
      lg2: r.pageLg2,
      pa: r.pa - (iova - base),
      leafLg2: r.pageLg2,
      level: r.level,
      read: r.read,
      write: r.write,
      dirty: r.dirty,
      pteAddr: r.pteAddr,
      fillIova: iova,
    });
    return { result: r, spanEnd: base + mask + 1n };
  }

  /** Runs the walker over the device view through the walk caches; `live` walks update A/D and fill caches. */
  private walk(iova: bigint, access: Access, live: boolean): WalkResult {
    const s = new WalkSession(this.view, this.walkCache, this.rootPa, iova, {
      fill: live,
      readOnly: !live,
      itemLg2: this.itemLg2,
    });
    const ctx = { root: this.rootPa, topLevel: this.top, accessDirty: this.dirtyTracking };
    let r: WalkResult;
    try {
      r = this.walker.translate(s, ctx, iova, access, s.steps);
    } catch (e) {
      if (!(e instanceof BusError)) throw e;
      const level = s.steps[s.steps.length - 1]?.level ?? this.top;
      r = { ok: false, kind: "translation", level, iova, detail: e.message };
    }
    s.finish();
    if (live) {
      this.counters.walks++;
      if (s.hits > 0) this.counters.walkCacheHits++;
    }
    return r;
  }

  private countBytes(access: Access, n: bigint): void {
    if (access === "write") this.counters.dmaBytes.write += Number(n);
    else this.counters.dmaBytes.read += Number(n);
  }
}

function permits(e: IotlbEntry, access: Access): boolean {
  // The IOTLB keeps no execute permission, so instruction fetches always walk.
  return access === "write" ? e.write : access === "read" ? e.read : false;
}

function hitFrom(e: IotlbEntry, iova: bigint): WalkHit {
  return {
    ok: true,
    pa: e.pa + (iova - e.iova),
    pageLg2: e.lg2,
    level: e.level,
    read: e.read,
    write: e.write,
    dirty: e.dirty,
    pteAddr: e.pteAddr,
  };
}

function checkAccess(what: string, access: Access): void {
  if (access !== "read" && access !== "write" && access !== "exec")
    throw new PtError("EINVAL", `${what}: access ${String(access)} is not "read", "write" or "exec"`);
}

function checkIova(what: string, iova: bigint): void {
  if (typeof iova !== "bigint" || iova < 0n || iova >= TWO64)
    throw new PtError("EINVAL", `${what}: iova ${String(iova)} is not a bigint in [0, 2^64)`);
}
