// The check the random sequences run after every op: the hardware walker over raw memory, pt.iovaToPhys
// and the IntervalModel agree at six points inside every mapping, just outside each of its ends, and on
// an optional grid across a window; every access is allowed or refused as the prot says; the leaf the
// walker used lies inside its mapping, aligned; and the census maps exactly the model's bytes.
import {
  type Access,
  type HardwareWalker,
  type PageTable,
  Prot,
  protName,
  type WalkContext,
} from "@genpt/core";
import type { IntervalModel, ModelRange } from "@genpt/sim";
import { check, eq, fail, show } from "../support/assert.js";
import { type Region, regionsOf } from "../support/shape.js";
import { walkCtx } from "./walk.js";

/** What the walker must permit through a mapping; where nothing is mapped it must give a translation fault. */
export interface AgreementOptions {
  /** The accesses tried at every probe: ["read", "write"], or with "exec" for formats that model XN. */
  readonly accesses: readonly Access[];
  /** Whether the walker lets `access` through a mapping of `prot` (default: plainAllows). */
  readonly allows?: (prot: number, access: Access) => boolean;
  /** Also probe every `step` bytes of [base, base + size), at an odd offset, mapped or not. */
  readonly grid?: { readonly base: bigint; readonly size: bigint; readonly step: bigint };
}

/** READ allows reads, WRITE writes, and anything without NOEXEC instruction fetches. */
export function plainAllows(prot: number, access: Access): boolean {
  if (access === "read") return (prot & Prot.READ) !== 0;
  if (access === "write") return (prot & Prot.WRITE) !== 0;
  return (prot & Prot.NOEXEC) === 0;
}

const GRID_OFFSET = 0x5_4321n;

/** Offsets inside a mapping of `size`: its first, middle and last granules (+0x18), and its first, middle and last bytes. */
function insideOffsets(size: bigint, granule: bigint): bigint[] {
  const mid = (size / 2n) & ~(granule - 1n);
  return [...new Set([0n, 0x18n, mid + 0x18n, size / 2n + 7n, size - granule + 0x18n, size - 1n])];
}

class Agreement {
  private readonly ctx: WalkContext;
  private readonly regions: Region[];
  private readonly allows: (prot: number, access: Access) => boolean;

  constructor(
    private readonly pt: PageTable<unknown>,
    private readonly walker: HardwareWalker,
    private readonly model: IntervalModel,
    private readonly opts: AgreementOptions,
    private readonly seen: Set<number>,
  ) {
    this.ctx = walkCtx(pt);
    this.regions = regionsOf(pt.info(), pt.format);
    this.allows = opts.allows ?? plainAllows;
  }

  run(): void {
    const { granule } = this.pt.info();
    let bytes = 0n;
    for (const m of this.model.ranges()) {
      bytes += m.size;
      for (const off of insideOffsets(m.size, granule)) this.mapped(m.iova + off, m);
      for (const iova of [m.iova - granule, m.iova + m.size, m.iova + m.size + 0x10n]) this.probe(iova);
    }
    const grid = this.opts.grid;
    if (grid) for (let a = 0n; a < grid.size; a += grid.step) this.probe(grid.base + a + GRID_OFFSET);
    eq(this.pt.census().mappedBytes, bytes, "bytes mapped (census) against the model");
  }

  /** Any IOVA of the aperture: checked as the model says. */
  private probe(iova: bigint): void {
    if (!this.regions.some((r) => iova >= r.start && iova < r.end)) return;
    const m = this.model.ranges().find((r) => iova >= r.iova && iova < r.iova + r.size);
    if (m) this.mapped(iova, m);
    else this.unmapped(iova);
  }

  private mapped(iova: bigint, m: ModelRange): void {
    const pa = m.pa + (iova - m.iova);
    // Messages are built only on failure: this runs for every probe after every op.
    const at = () => `${show(iova)} in [${show(m.iova)}, ${show(m.iova + m.size)}) ${protName(m.prot)}`;
    const phys = this.pt.iovaToPhys(iova);
    check(phys === pa, () => `iovaToPhys(${at()}) = ${show(phys)}, expected ${show(pa)}`, iova);
    for (const access of this.opts.accesses) {
      const r = this.walker.translate(this.pt.mem, this.ctx, iova, access);
      if (!this.allows(m.prot, access)) {
        check(
          !r.ok && r.kind === "permission",
          () => `walker ${access} at ${at()}: ${show(r)}, expected a permission fault`,
          iova,
        );
        continue;
      }
      if (!r.ok) fail(`walker ${access} at ${at()} faults: ${r.kind} at level ${r.level}: ${r.detail}`, iova);
      const read = this.allows(m.prot, "read");
      const write = this.allows(m.prot, "write");
      check(
        r.pa === pa && r.read === read && r.write === write,
        () =>
          `walker ${access} at ${at()}: ${show(r)}, expected pa ${show(pa)}, read ${read}, write ${write}`,
        iova,
      );
      // The leaf the walker used lies inside the mapping, and its output is aligned to its size.
      const page = 1n << BigInt(r.pageLg2);
      const start = iova & ~(page - 1n);
      check(
        start >= m.iova && start + page <= m.iova + m.size && (pa - (iova - start)) % page === 0n,
        () =>
          `walker ${access} at ${at()} used a 2^${r.pageLg2} leaf at ${show(start)} outside it or misaligned`,
        iova,
      );
      this.seen.add(r.pageLg2);
    }
  }

  private unmapped(iova: bigint): void {
    const phys = this.pt.iovaToPhys(iova);
    check(
      phys === undefined,
      () => `iovaToPhys(${show(iova)}) = ${show(phys)} where nothing is mapped`,
      iova,
    );
    for (const access of this.opts.accesses) {
      const r = this.walker.translate(this.pt.mem, this.ctx, iova, access);
      check(
        !r.ok && r.kind === "translation",
        () => `walker ${access} at unmapped ${show(iova)}: ${show(r)}, expected a translation fault`,
        iova,
      );
    }
  }
}

/**
 * Walker, iovaToPhys and `model` agree on `pt` (see the top of this file); the size of every leaf the
 * walker used is added to `seen`.
 */
export function checkAgreement(
  pt: PageTable<unknown>,
  walker: HardwareWalker,
  model: IntervalModel,
  opts: AgreementOptions,
  seen: Set<number> = new Set(),
): void {
  new Agreement(pt, walker, model, opts, seen).run();
}
