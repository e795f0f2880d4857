// What the cut, split and merge cases share: a table behind the sim's device (when there is a walker),
// the raw leaf entries of a range, and the format-level view of a leaf with its dirty state and status
// bits set aside, so a piece can be compared with the entry it came from.
import type { FlushRequest, PageTable, PtFormat } from "@genpt/core";
import { LEAF } from "@genpt/core";
import { type IntervalModel, Iommu, check as simCheck } from "@genpt/sim";
import { fail } from "./assert.js";
import type { CaseEnv, TableOptions } from "./env.js";
import { entryItems, locate, type RawItem } from "./raw.js";
import type { TestTable } from "./table.js";

export interface DeviceTable {
  readonly t: TestTable;
  /** The device in front of the walker; undefined without one. */
  readonly iommu: Iommu | undefined;
}

export interface DeviceOptions {
  /** Runs in the window before each invalidation lands. */
  readonly onFlush?: (req: FlushRequest) => void;
  /** False: an incoherent walker, which sees only what the core writes back (default true). */
  readonly coherent?: boolean;
}

/**
 * A table whose flushes reach a sim Iommu (with hardware A/D updates when the format tracks dirty), or a
 * plain table when the format has no walker.
 */
export function deviceTable(env: CaseEnv, opts: DeviceOptions = {}): DeviceTable {
  const coherent = opts.coherent !== false;
  const table: TableOptions = coherent ? {} : { features: { incoherent: true } };
  if (!env.walker) return { t: env.table(table), iommu: undefined };
  const iommu = new Iommu({
    mem: env.mem,
    walker: env.walker,
    root: 0n,
    topLevel: 0,
    coherent,
    dirtyTracking: env.format.dirty !== undefined,
    geometry: env.format.geometry,
    pageLg2: env.format.geometry.levels[0]!.itemLg2,
    ...(opts.onFlush ? { onFlush: opts.onFlush } : {}),
  });
  const t = env.table({ ...table, driver: iommu.driver });
  iommu.attach(t.pt);
  return { t, iommu };
}

/** The sim checker (when there is a device): model, iovaToPhys and the device agree. */
export function deviceAgrees(
  env: CaseEnv,
  d: DeviceTable,
  model: IntervalModel,
  what: string,
  extra: bigint[] = [],
): void {
  if (!d.iommu) return;
  const r = simCheck(d.t.pt, model, d.iommu, {
    extraIovas: extra,
    seed: env.seed,
    maxPagesPerRange: 16,
    randomSamples: 4,
    permissions: env.subject.quirks?.walkerIgnoresPermissions !== true,
  });
  if (!r.ok) fail(`${what}: ${r.message} (cpu: ${r.cpu}; device: ${r.device})`, r.iova);
}

/** One leaf entry as raw memory holds it: where it starts and every item. */
export interface RawEntry {
  readonly iova: bigint;
  readonly size: bigint;
  readonly items: RawItem[];
}

/** Every leaf entry meeting [iova, iova + size), ascending; holes are skipped a smallest page at a time. */
export function leafEntries(pt: PageTable<unknown>, iova: bigint, size: bigint): RawEntry[] {
  const out: RawEntry[] = [];
  const step = pt.info().pgsizes[0]!;
  const end = iova + size;
  for (let a = iova; a < end; ) {
    const slot = locate(pt, a);
    if (!slot || slot.kind !== LEAF) {
      a += step;
      continue;
    }
    const esize = 1n << BigInt(pt.format.leafLg2(slot.lo, slot.hi, slot.level));
    const start = a - (a % esize);
    out.push({ iova: start, size: esize, items: entryItems(pt, slot) });
    a = start + esize;
  }
  return out;
}

const word = (it: { lo: number; hi: number }) => (BigInt(it.hi) << 32n) | BigInt(it.lo);

/** True when the 64-bit item value reads as write-dirty. */
export function itemDirty(fmt: PtFormat<unknown>, v: bigint): boolean {
  const d = fmt.dirty;
  return d !== undefined && (v & d.dirtyMask) === d.dirtyValue;
}

/** The item value with the format's clean transform applied when it is dirty. */
export function cleaned(fmt: PtFormat<unknown>, v: bigint): bigint {
  const d = fmt.dirty;
  if (!d || !itemDirty(fmt, v)) return v;
  return (v & ~(d.clean.clear ?? 0n)) | (d.clean.set ?? 0n);
}

/** What a piece must keep from its entry: status bits ORed over the items, and whether any is dirty. */
export function carriedState(
  fmt: PtFormat<unknown>,
  items: readonly RawItem[],
): { status: bigint; dirty: boolean } {
  let status = 0n;
  let dirty = false;
  for (const it of items) {
    const v = word(it);
    dirty ||= itemDirty(fmt, v);
    status |= cleaned(fmt, v) & fmt.statusBits;
  }
  return { status, dirty };
}

/**
 * The attributes of a leaf item as the format reads them back (dirty state and status bits aside),
 * encoded at one fixed place so that two leaves of any size and level can be compared.
 */
export function attrsKey(fmt: PtFormat<unknown>, it: RawItem, at: RawItem): string {
  const v = cleaned(fmt, word(it)) & ~fmt.statusBits;
  const attrs = fmt.attrsFromEntry(Number(v & 0xffff_ffffn), Number(v >> 32n), it.level);
  const sizeLg2 = fmt.leafLg2(at.lo, at.hi, at.level);
  const oa = fmt.leafOa(at.lo, at.hi, at.level);
  return `${fmt.leafLo(oa, sizeLg2, at.level, attrs)}:${fmt.leafHi(oa, sizeLg2, at.level, attrs)}`;
}

/**
 * Bits of a leaf item that neither its attributes (re-encoded through attrsFromEntry) nor the format's
 * statusBits account for, its dirty state aside: a piece built from the attributes would lose them.
 */
export function undeclaredBits(fmt: PtFormat<unknown>, it: RawItem): bigint {
  const v = cleaned(fmt, word(it)) & ~fmt.statusBits;
  const attrs = fmt.attrsFromEntry(Number(v & 0xffff_ffffn), Number(v >> 32n), it.level);
  const sizeLg2 = fmt.leafLg2(it.lo, it.hi, it.level);
  const oa = fmt.leafOa(it.lo, it.hi, it.level);
  const k = 2 ** (sizeLg2 - fmt.geometry.levels[it.level]!.itemLg2);
  const itemOa = fmt.replicatedContig
    ? oa
    : oa + (it.index % k) * 2 ** (fmt.geometry.levels[it.level]!.itemLg2 - fmt.geometry.levels[0]!.itemLg2);
  const lo = fmt.leafLo(itemOa, sizeLg2, it.level, attrs);
  const hi = fmt.leafHi(itemOa, sizeLg2, it.level, attrs);
  return v ^ ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** The 64-bit value of a raw item. */
export function itemWord(it: RawItem): bigint {
  return word(it);
}
