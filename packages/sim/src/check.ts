// The checker: after an operation and its gather sync, does the device translate exactly what the CPU
// side believes is mapped? It compares three opinions per IOVA (the model, pt.iovaToPhys and a
// side-effect-free device probe) over IOVAs chosen to find stale state: every mapped range (sampled when
// huge), the edges around it, everything the IOTLB and walk caches still hold, the caller's extra IOVAs
// and a few random ones. IOVAs are checked in ascending order and the first discrepancy is reported.

import { type PageTable, Prot, type WalkResult } from "@genpt/core";
import { compareBig } from "./bigint.js";
import { describeCpu, describeDevice, describeResult, hex } from "./describe.js";
import type { IntervalModel } from "./interval-model.js";
import type { Iommu } from "./iommu.js";
import { Rng } from "./rng.js";

export type CheckResult =
  | { ok: true; checked: number }
  | { ok: false; iova: bigint; level: number | undefined; cpu: string; device: string; message: string };

export interface CheckOptions {
  /** Pages checked per mapped range before sampling: first and last plus seeded samples. Default 64. */
  maxPagesPerRange?: number;
  /** Also checked: e.g. everything recently unmapped or gathered. */
  extraIovas?: bigint[];
  /** Seed of the samples; default 1. */
  seed?: number;
  /** Random IOVAs of the aperture also checked; default 8. */
  randomSamples?: number;
  /**
   * A check inside a flush window (from Iommu's onFlush): what this earlier model said is also accepted
   * (its translation, or a fault where it mapped nothing), because the hardware may go on seeing the old
   * state until the invalidation lands. Anything else is a bug.
   */
  previous?: IntervalModel;
  /**
   * A check inside a break-before-make window (format.resize "break-before-make", from Iommu's onFlush
   * while cut, splitBlocks or mergePages replaces a live leaf): where the model maps, a fault from the
   * device and an unmapped answer from pt.iovaToPhys are accepted (the entry is briefly absent); any
   * translation that is made must still be the model's (or `previous`'s). Anything else is a bug.
   */
  breakWindow?: boolean;
  /** Compare read/write permissions (default true); turn off for walkers that ignore them (v7s MediaTek). */
  permissions?: boolean;
}

type Mapping = { pa: bigint; prot: number };
const TWO64 = 1n << 64n;

/**
 * Checks the device against the model; see CheckOptions for what is sampled.
 *
 * @example
 * pt.map(0x1000n, 0x10_0000n, 0x1000n, Prot.READ);
 * model.map(0x1000n, 0x10_0000n, 0x1000n, Prot.READ);
 * check(pt, model, iommu); // { ok: true, checked: ... }
 */
export function check(
  pt: PageTable<unknown>,
  model: IntervalModel,
  iommu: Iommu,
  opts: CheckOptions = {},
): CheckResult {
  const perms = opts.permissions !== false;
  const iovas = [...candidates(pt, model, iommu, opts)].sort(compareBig);
  for (const iova of iovas) {
    const bad = checkOne(pt, model, iommu, iova, perms, opts.previous, opts.breakWindow === true);
    if (bad !== undefined) return bad;
  }
  return { ok: true, checked: iovas.length };
}

function checkOne(
  pt: PageTable<unknown>,
  model: IntervalModel,
  iommu: Iommu,
  iova: bigint,
  perms: boolean,
  previous: IntervalModel | undefined,
  breakWindow: boolean,
): CheckResult | undefined {
  const want = model.lookup(iova);
  const old = previous?.lookup(iova);
  const cpu = pt.iovaToPhys(iova);
  const fail = (device: string, level: number | undefined, message: string): CheckResult => ({
    ok: false,
    iova,
    level,
    cpu: describeCpu(want, cpu),
    device,
    message: `iova ${hex(iova)}: ${message}`,
  });
  // In a break-before-make window a mapped entry may be briefly absent, but never translate elsewhere.
  const absent = breakWindow && want !== undefined && cpu === undefined;
  if (cpu !== want?.pa && !absent) {
    const d = iommu.probeDetail(iova, "read");
    return fail(describeDevice(d), d.result.level, "pt.iovaToPhys disagrees with the model");
  }
  if (want !== undefined) {
    const d = iommu.probeDetail(iova, (want.prot & Prot.READ) !== 0 ? "read" : "write");
    const r = d.result;
    // In a flush window the old state is allowed too, and that includes not being mapped at all.
    const wasOk = previous !== undefined && (old === undefined ? !r.ok : agrees(r, old, perms));
    // In a break-before-make window the entry may be absent, so the device may fault; nothing more.
    const broken = breakWindow && !r.ok;
    if (!agrees(r, want, perms) && !wasOk && !broken) {
      const what = !r.ok
        ? "the device faults on a mapped iova"
        : r.pa !== want.pa
          ? "the device translates to another pa"
          : "the device grants other permissions";
      return fail(describeDevice(d), r.level, what);
    }
    // A translation cached as dirty over a clean PTE means the next DMA write will not set D again:
    // the dirty bits were cleared without flushing the IOTLB.
    if (d.from === "iotlb" && iommu.dirtyTracking && d.entry!.dirty && d.entry!.write) {
      const w = iommu.probeWalk(d.entry!.fillIova, "read");
      if (w.ok && !w.dirty)
        return fail(
          `${describeDevice(d)}; its PTE now reads ${describeResult(w)}`,
          r.level,
          "the IOTLB caches a dirty translation whose PTE is clean, so the next DMA write will not be recorded",
        );
    }
    return undefined;
  }
  for (const access of ["read", "write"] as const) {
    const d = iommu.probeDetail(iova, access);
    if (d.result.ok && !(old !== undefined && agrees(d.result, old, perms)))
      return fail(describeDevice(d), d.result.level, "the device still translates an unmapped iova");
  }
  return undefined;
}

function agrees(r: WalkResult, m: Mapping, perms: boolean): boolean {
  if (!r.ok || r.pa !== m.pa) return false;
  if (!perms) return true;
  // Write permission is compared exactly; read only where the model grants it, since some formats
  // cannot express write-only and grant read with write.
  if (((m.prot & Prot.WRITE) !== 0) !== r.write) return false;
  return (m.prot & Prot.READ) === 0 || r.read;
}

function candidates(
  pt: PageTable<unknown>,
  model: IntervalModel,
  iommu: Iommu,
  opts: CheckOptions,
): Set<bigint> {
  const rng = new Rng(opts.seed ?? 1);
  const maxPages = BigInt(Math.max(2, opts.maxPagesPerRange ?? 64));
  const page = 1n << BigInt(iommu.pageLg2);
  const out = new Set<bigint>();
  const add = (v: bigint) => {
    if (v >= 0n && v < TWO64) out.add(v);
  };
  const addRange = (start: bigint, size: bigint) => {
    const pages = (size + page - 1n) / page;
    if (pages <= maxPages) for (let k = 0n; k < pages; k++) add(start + k * page);
    else for (let k = 2n; k < maxPages; k++) add(start + rng.below(pages) * page + (rng.below(page) & ~7n));
    add(start);
    add(start + size - 1n);
    add(start - 1n);
    add(start + size);
  };
  for (const m of [model, opts.previous]) for (const r of m?.ranges() ?? []) addRange(r.iova, r.size);
  for (const e of iommu.iotlbEntries()) addRange(e.iova, 1n << BigInt(e.lg2));
  for (const e of iommu.walkCacheEntries()) {
    add(e.iova);
    if (e.span !== undefined) {
      add(e.span.start);
      add(e.span.end - 1n);
    }
  }
  for (const v of opts.extraIovas ?? []) add(v);
  for (const region of aperture(pt)) {
    for (let k = 0; k < (opts.randomSamples ?? 8); k++)
      add(region.start + rng.below(region.end - region.start));
  }
  return out;
}

/** The valid IOVA regions of `pt`, from its info and geometry. */
function aperture(pt: PageTable<unknown>): Array<{ start: bigint; end: bigint }> {
  const info = pt.info();
  const span = 1n << BigInt(info.vaBits);
  if (info.features.signExtend)
    return [
      { start: 0n, end: span >> 1n },
      { start: TWO64 - (span >> 1n), end: TWO64 },
    ];
  if (pt.format.geometry.vaPrefix === "ones") return [{ start: TWO64 - span, end: TWO64 }];
  return [{ start: 0n, end: span }];
}
