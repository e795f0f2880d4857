// Seeded random sequences of map, unmap (alone and batched), DMA and dirty harvests against one page
// table and its device, with the IntervalModel as the reference. After every operation and its sync:
// the checker must pass, DMA must return exactly what the model predicts, and every harvest must
// contain every page DMA wrote since. Inside every flush that frees tables the checker also runs, with
// the model from before the operation allowed: freed memory is poisoned, so a walk through a table
// freed too early translates garbage. Shared by the mock-format and real-format random tests.

import {
  type HardwareWalker,
  type PageTable,
  Prot,
  type PtFormat,
  type TestBreaks,
  type WalkContext,
} from "@genpt/core";
import fc from "fast-check";
import { expect } from "vitest";
import { maxBig, minBig } from "../src/bigint.js";
import { type CheckResult, check, checkDirty, type IntervalModel, type IommuOptions } from "../src/index.js";
import { finish, type Rig, rig } from "./helpers.js";

export interface RandomConfig {
  readonly name: string;
  readonly format: () => PtFormat<unknown>;
  readonly walker: () => HardwareWalker;
  readonly coherent: boolean;
  /** Exercise dirty tracking (the format must support it). */
  readonly dirty: boolean;
  /** Output = input + this; a large power of two keeps big pages possible. */
  readonly paOffset?: bigint;
  /** Lowest IOVA of the first window (default 0; the top of the space for ARM TTBR1). */
  readonly lowBase?: bigint;
  /** Lowest IOVA of the second window (forces top growth or reaches high levels), if the VA allows. */
  readonly highBase?: bigint;
  /** The prots map may use (default RW and R). */
  readonly prots?: readonly number[];
  readonly iommu?: Partial<IommuOptions>;
  /** Compare permissions in the checker (default true). */
  readonly permissions?: boolean;
  readonly memSize?: bigint;
  /** Test-only core switches (to prove these sequences catch them). */
  readonly breaks?: TestBreaks;
}

const WINDOW_LG2 = 26n; // each window is 64 MiB, so operations collide often

const opArb = fc.record({
  kind: fc.constantFrom("map", "map", "map", "unmap", "unmap2", "dma", "dma", "dirty"),
  high: fc.boolean(),
  page: fc.nat(),
  page2: fc.nat(),
  alignLg2: fc.constantFrom(0, 4, 8, 9, 12),
  pages: fc.oneof(
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 0, max: 13 }).map((k) => 2 ** k),
  ),
  prot: fc.nat(),
  write: fc.boolean(),
  noClear: fc.boolean(),
});
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs `numRuns` seeded sequences of `steps` operations on fresh rigs. */
export function runRandom(cfg: RandomConfig, seed: number, numRuns: number, steps: number): void {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: steps, maxLength: steps }), (ops) => {
      let run: Run | undefined;
      const r = rig(cfg.format(), cfg.walker(), {
        coherent: cfg.coherent,
        dirtyTracking: cfg.dirty,
        poison: true,
        iommu: { ...cfg.iommu, onFlush: (req) => run?.inWindow(req.tablesFreed) },
        memSize: cfg.memSize ?? 64n << 20n,
        create: { testBreaks: cfg.breaks ?? {} },
      });
      run = new Run(cfg, r);
      for (const [i, op] of ops.entries()) run.step(op, i);
      finish(r);
    }),
    { seed, numRuns, endOnFailure: true },
  );
}

class Run {
  private readonly g: bigint;
  private readonly paOffset: bigint;
  private pending: Array<{ iova: bigint; size: bigint }> = [];
  /**
   * For checks inside flush windows: the model before the current operation, the model the operation
   * is making when it is not `r.model` already (a map flushes before it returns), and what is being done.
   */
  private before: IntervalModel | undefined;
  private during: IntervalModel | undefined;
  private doing = "";

  constructor(
    private readonly cfg: RandomConfig,
    private readonly r: Rig,
  ) {
    this.g = r.pt.info().granule;
    this.paOffset = cfg.paOffset ?? 0x8000_0000n;
  }

  step(op: Op, i: number): void {
    this.before = this.r.model.clone();
    this.during = undefined;
    this.doing = `step ${i}: ${op.kind}`;
    const what =
      op.kind === "map"
        ? this.map(op)
        : op.kind === "unmap"
          ? this.unmap(op)
          : op.kind === "unmap2"
            ? this.unmapBatch(op)
            : op.kind === "dma"
              ? this.dma(op)
              : this.dirty(op);
    const permissions = this.cfg.permissions !== false;
    this.expectCheck(
      check(this.r.pt, this.r.model, this.r.iommu, { seed: i + 1, permissions }),
      `step ${i}: ${what}`,
    );
  }

  /** In the window between a table change and its invalidation: only old or new translations. */
  inWindow(tablesFreed: boolean): void {
    if (!tablesFreed || this.before === undefined) return;
    const permissions = this.cfg.permissions !== false;
    const res = check(this.r.pt, this.during ?? this.r.model, this.r.iommu, {
      previous: this.before,
      permissions,
    });
    this.expectCheck(res, `${this.doing}, inside the flush window`);
  }

  private base(op: Op): bigint {
    return op.high && this.cfg.highBase !== undefined ? this.cfg.highBase : (this.cfg.lowBase ?? 0n);
  }

  /** An aligned IOVA of the op's window and a size in granules. */
  private place(op: Op, page: number): { iova: bigint; size: bigint } {
    const windowPages = (1n << WINDOW_LG2) / this.g;
    const align = 1n << BigInt(op.alignLg2);
    const idx = (BigInt(page) % windowPages) & ~(align - 1n);
    return { iova: this.base(op) + idx * this.g, size: BigInt(op.pages) * this.g };
  }

  map(op: Op): string {
    const { iova, size } = this.place(op, op.page);
    const prots = this.cfg.prots ?? [Prot.READ | Prot.WRITE, Prot.READ];
    const prot = prots[op.prot % prots.length]!;
    const pa = iova - this.base(op) + this.paOffset;
    const what = `map [0x${iova.toString(16)}, +0x${size.toString(16)}) prot ${prot}`;
    // A map that replaces emptied tables with a leaf flushes (and frees them) before it returns.
    if (!this.r.model.overlaps(iova, size)) {
      this.during = this.r.model.clone();
      this.during.map(iova, pa, size, prot);
    }
    try {
      this.r.pt.map(iova, pa, size, prot);
    } catch (e) {
      if ((e as { code?: string }).code !== "EADDRINUSE") throw e;
      expect(this.r.model.overlaps(iova, size), `${what}: EADDRINUSE over a free range`).toBe(true);
      return `${what} -> EADDRINUSE`;
    }
    this.r.model.map(iova, pa, size, prot);
    return what;
  }

  unmap(op: Op): string {
    const g = this.r.pt.newGather();
    const what = this.unmapOne(op, op.page, g);
    g.sync();
    return what;
  }

  /** Two unmaps batched into one gather, synced once. */
  unmapBatch(op: Op): string {
    const g = this.r.pt.newGather();
    const a = this.unmapOne(op, op.page, g);
    const b = this.unmapOne(op, op.page2, g);
    g.sync();
    return `${a}; ${b}; one sync`;
  }

  private unmapOne(op: Op, page: number, gather: ReturnType<PageTable["newGather"]>): string {
    const { iova, size } = this.unmapTarget(op, page);
    const what = `unmap [0x${iova.toString(16)}, +0x${size.toString(16)})`;
    // Where the entries at either end reach, read by the walker from the CPU's memory before the unmap.
    const first = this.leafAt(iova);
    const last = this.leafAt(iova + size - 1n);
    let removed: bigint;
    try {
      removed = this.r.pt.unmap(iova, size, { gather });
    } catch (e) {
      if ((e as { code?: string }).code !== "EINVAL") throw e;
      expect(
        first !== undefined && first.start < iova,
        `${what}: EINVAL but it does not start inside an entry`,
      ).toBe(true);
      return `${what} -> EINVAL`;
    }
    expect(first === undefined || first.start === iova, `${what}: succeeded from inside an entry`).toBe(true);
    const end = last !== undefined && last.end > iova + size ? last.end : iova + size;
    expect(removed, `${what}: bytes removed`).toBe(this.r.model.mappedBytes(iova, end - iova));
    this.r.model.unmap(iova, end - iova);
    this.dropPending(iova, end);
    return `${what} -> 0x${removed.toString(16)}`;
  }

  dma(op: Op): string {
    const { iova } = this.dmaTarget(op);
    const length = BigInt(Math.min(op.pages, 64)) * 0x1000n;
    const access = op.write ? "write" : "read";
    const what = `dma ${access} [0x${iova.toString(16)}, +0x${length.toString(16)})`;
    const res = this.r.iommu.dma(iova, length, access);
    // What the model predicts: every 4K page translated, or a fault at the first page it forbids.
    const want: Array<{ iova: bigint; pa: bigint; size: bigint }> = [];
    let faultAt: bigint | undefined;
    for (let p = iova; p < iova + length; p += 0x1000n) {
      const m = this.r.model.lookup(p);
      const writable = m !== undefined && ((m.prot & Prot.WRITE) !== 0 || this.cfg.permissions === false);
      const allowed = m !== undefined && (access === "read" || writable);
      if (!allowed || m === undefined) {
        faultAt = p;
        break;
      }
      const last = want[want.length - 1];
      if (last !== undefined && last.iova + last.size === p && last.pa + last.size === m.pa)
        last.size += 0x1000n;
      else want.push({ iova: p, pa: m.pa, size: 0x1000n });
    }
    if (faultAt === undefined) expect(res, what).toEqual({ ok: true, segments: want });
    else expect(res.ok ? "ok" : res.fault.iova, what).toBe(faultAt);
    this.pending.push(...this.r.iommu.takeWrites());
    return what;
  }

  /** Half the unmaps start inside a mapped range (on a granule, so sometimes inside an entry). */
  private unmapTarget(op: Op, page: number): { iova: bigint; size: bigint } {
    const ranges = this.r.model.ranges();
    if (ranges.length === 0 || op.prot % 2 === 0) return this.place(op, page);
    const r = ranges[page % ranges.length]!;
    const offset = op.write ? 0n : (BigInt(op.page2) * this.g) % r.size;
    return { iova: r.iova + offset, size: BigInt(op.pages) * this.g };
  }

  /** Three DMAs in four go to a mapped range (a page inside it), the rest anywhere in the window. */
  private dmaTarget(op: Op): { iova: bigint } {
    const ranges = this.r.model.ranges();
    if (ranges.length === 0 || op.prot % 4 === 0) return this.place(op, op.page);
    const r = ranges[op.page % ranges.length]!;
    return { iova: r.iova + ((BigInt(op.page2) * 0x1000n) % r.size) };
  }

  dirty(op: Op): string {
    if (!this.cfg.dirty) return this.dma(op);
    // Often the whole window, so harvests meet earlier writes.
    const { iova, size } =
      op.alignLg2 >= 9 ? { iova: this.base(op), size: 1n << WINDOW_LG2 } : this.place(op, op.page);
    const what = `readAndClearDirty [0x${iova.toString(16)}, +0x${size.toString(16)})${op.noClear ? " noClear" : ""}`;
    const harvest = this.r.pt.readAndClearDirty(iova, size, { noClear: op.noClear });
    const asked = this.pending.flatMap((w) => clip(w, iova, iova + size));
    this.expectCheck(checkDirty(harvest, asked), what);
    // Whole entries are reported and cleaned, so any write inside a harvested range is accounted for.
    if (!op.noClear) for (const h of harvest) this.dropPending(h.iova, h.iova + h.size);
    return what;
  }

  private dropPending(start: bigint, end: bigint): void {
    this.pending = this.pending.flatMap((w) => [...clip(w, w.iova, start), ...clip(w, end, w.iova + w.size)]);
  }

  /** The leaf translating `iova` in the CPU's memory, by the format's own walker; undefined if none. */
  private leafAt(iova: bigint): { start: bigint; end: bigint } | undefined {
    const ctx: WalkContext = { root: this.r.iommu.root, topLevel: this.r.iommu.topLevel, accessDirty: false };
    const hit = this.cfg.walker().translate(readOnly(this.r.pt), ctx, iova, "read");
    if (!hit.ok) return undefined;
    const mask = (1n << BigInt(hit.pageLg2)) - 1n;
    return { start: iova & ~mask, end: (iova | mask) + 1n };
  }

  private expectCheck(res: CheckResult, what: string): void {
    if (!res.ok)
      expect.fail(
        `${what}\n  ${res.message}\n  level ${res.level}\n  cpu:    ${res.cpu}\n  device: ${res.device}`,
      );
  }
}

function clip(
  w: { iova: bigint; size: bigint },
  start: bigint,
  end: bigint,
): Array<{ iova: bigint; size: bigint }> {
  const lo = maxBig(w.iova, start);
  const hi = minBig(w.iova + w.size, end);
  return lo < hi ? [{ iova: lo, size: hi - lo }] : [];
}

/** The CPU's memory for a walk that must not change it. */
function readOnly(pt: PageTable<unknown>) {
  const mem = pt.mem;
  return {
    readU32: (pa: bigint) => mem.readU32(pa),
    readU64: (pa: bigint) => mem.readU64(pa),
    writeU32: () => {},
    writeU64: () => {},
  };
}
