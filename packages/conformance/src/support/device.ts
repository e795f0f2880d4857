// A case's page table behind the sim's device: an Iommu with the format's walker (coherent or not, with
// hardware A/D updates or not) receiving the table's flushes, and the sim checker run against a model.
import type { FlushRequest } from "@genpt/core";
import { type IntervalModel, Iommu, check as simCheck } from "@genpt/sim";
import { fail } from "./assert.js";
import type { CaseEnv, TableOptions } from "./env.js";
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
  /** Hardware A/D updates on DMA (default: when the format tracks dirty). */
  readonly dirtyTracking?: boolean;
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
    dirtyTracking: opts.dirtyTracking ?? env.format.dirty !== undefined,
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
