// Shared fixtures: a PhysMem, an Iommu and a page table wired to it (the Iommu is made first, since the
// page table's driver is the Iommu's, then attached to the table's root).
import { LevelAllocator, PhysMem } from "@genpt/alloc";
import {
  type CreateOptions,
  createPageTable,
  type HardwareWalker,
  type PageTable,
  type PtFormat,
} from "@genpt/core";
import { IntervalModel, Iommu, type IommuOptions } from "../src/index.js";

export interface Rig<A = unknown> {
  mem: PhysMem;
  iommu: Iommu;
  pt: PageTable<A>;
  model: IntervalModel;
}

export interface RigOptions {
  coherent?: boolean;
  dirtyTracking?: boolean;
  memSize?: bigint;
  /** Poison freed table memory (0xDEADBEEF words), so a walk through a freed table translates garbage. */
  poison?: boolean;
  create?: Partial<CreateOptions>;
  iommu?: Partial<IommuOptions>;
}

export function rig<A>(format: PtFormat<A>, walker: HardwareWalker, opts: RigOptions = {}): Rig<A> {
  const mem = new PhysMem({ base: 0x4000_0000n, size: opts.memSize ?? 16n << 20n });
  if (opts.poison) LevelAllocator.for(mem, { debug: true });
  const coherent = opts.coherent ?? true;
  const iommu = new Iommu({
    mem,
    walker,
    root: 0n,
    topLevel: 0,
    coherent,
    dirtyTracking: opts.dirtyTracking ?? false,
    ...opts.iommu,
  });
  const pt = createPageTable(format, {
    mem,
    driver: iommu.driver,
    ...opts.create,
    features: { incoherent: !coherent, ...opts.create?.features },
  });
  iommu.attach(pt);
  return { mem, iommu, pt, model: new IntervalModel() };
}

/** Destroys the table and asserts its allocator owes nothing. */
export function finish(r: Rig): void {
  r.pt.destroy();
  r.pt.allocator.assertNoLeaks(r.pt.owner);
}
