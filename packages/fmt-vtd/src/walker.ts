// The VT-d second-stage hardware walker: translates one DMA access by reading raw table memory as the
// remapping hardware does (VT-d spec §3.7, §9.8; QEMU hw/i386/intel_iommu.c vtd_iova_to_slpte as a
// cross-check). Written from the architecture rules alone; it shares nothing with vtdss.ts.
import {
  type Access,
  type HardwareWalker,
  PtError,
  type WalkContext,
  type WalkerMemory,
  type WalkFault,
  type WalkResult,
  type WalkStep,
  walkFault,
} from "@genpt/core";

// Raw 64-bit entry fields, with the spec's level numbers (1 = SS-PTE ... 5 = SS-PML5E).
const READ = 1n; // bit 0
const WRITE = 2n; // bit 1
const PAGE_SIZE = 1n << 7n;
const ACCESSED = 1n << 8n;
const DIRTY = 1n << 9n;
const SNOOP = 1n << 11n;
const TRANSIENT = 1n << 62n;
const ADDRESS = ((1n << 52n) - 1n) & ~0xfffn; // bits [51:12]

export interface VtdssWalkerConfig {
  /** Host address width: entry address bits [51:haw] are reserved. Default 52 (none reserved). */
  readonly haw?: number;
  /**
   * Scalable mode (the default): bit 11 of a leaf is SNP. In legacy mode it is reserved there too. SSAD,
   * and so WalkContext.accessDirty, exists only in scalable mode.
   */
  readonly scalable?: boolean;
}

/**
 * A hardware walker for VT-d second-stage tables. The WalkContext gives SSPTPTR (root) and the depth
 * (topLevel + 1 levels, AW = topLevel - 1); accessDirty is the PASID entry's SSADE.
 *
 * @example
 * const hw = vtdssWalker({ haw: 46 });
 * const info = pt.info();
 * const r = hw.translate(mem, { root: info.root, topLevel: info.topLevel, accessDirty: true }, iova, "read");
 */
export function vtdssWalker(cfg: VtdssWalkerConfig = {}): HardwareWalker {
  const haw = cfg.haw ?? 52;
  if (!Number.isInteger(haw) || haw < 32 || haw > 52)
    throw new PtError("EINVAL", `vtdssWalker: haw ${String(haw)} is not in 32..52`);
  const scalable = cfg.scalable ?? true;
  const aboveHaw = ((1n << 52n) - 1n) & ~((1n << BigInt(haw)) - 1n);

  /** The reserved bits of a present entry at spec `level`, given whether it is a leaf. */
  function reserved(level: number, leaf: boolean): bigint {
    let r = aboveHaw | TRANSIENT;
    if (!leaf || !scalable) r |= SNOOP;
    if (level >= 4) r |= PAGE_SIZE;
    // A superpage's address must be aligned to its size: the bits below it are reserved.
    if (leaf && level > 1) r |= ((1n << BigInt(12 + 9 * (level - 1))) - 1n) & ~0xfffn;
    return r;
  }

  return {
    format: "vtdss",
    translate(
      mem: WalkerMemory,
      ctx: WalkContext,
      iova: bigint,
      access: Access,
      steps?: WalkStep[],
    ): WalkResult {
      const depth = ctx.topLevel + 1;
      const fault = (kind: WalkFault["kind"], specLevel: number, detail: string): WalkFault =>
        walkFault(iova, kind, specLevel - 1, detail);
      if (depth < 3 || depth > 5)
        return fault("translation", depth, `AW ${depth - 2} (${depth} levels) is not 1..3`);
      const width = 12 + 9 * depth;
      if (iova < 0n || iova >> BigInt(width) !== 0n)
        return fault(
          "address-size",
          depth,
          `iova 0x${iova.toString(16)} is beyond the ${width}-bit address width`,
        );
      const wantWrite = access === "write";
      let canRead = true;
      let canWrite = true;
      let table = ctx.root & ~0xfffn;
      const walked: bigint[] = [];
      for (let level = depth; level >= 1; level--) {
        steps?.push({ level: level - 1, table });
        const shift = BigInt(12 + 9 * (level - 1));
        const at = table + ((iova >> shift) & 0x1ffn) * 8n;
        const e = mem.readU64(at);
        const where = `entry 0x${e.toString(16)} at 0x${at.toString(16)}`;
        if ((e & (READ | WRITE)) === 0n)
          return fault("translation", level, `${where} is not present (neither R nor W)`);
        const leaf = level === 1 || ((level === 2 || level === 3) && (e & PAGE_SIZE) !== 0n);
        const bad = e & reserved(level, leaf);
        if (bad !== 0n) return fault("reserved", level, `${where} sets reserved bits 0x${bad.toString(16)}`);
        canRead &&= (e & READ) !== 0n;
        canWrite &&= (e & WRITE) !== 0n;
        if (!(wantWrite ? canWrite : canRead))
          return fault(
            "permission",
            level,
            `${access} denied: R/W ANDed down the walk give ${canRead ? "R" : "-"}${canWrite ? "W" : "-"}`,
          );
        walked.push(at);
        if (!leaf) {
          table = e & ADDRESS;
          continue;
        }
        const pageLg2 = 12 + 9 * (level - 1);
        const mask = (1n << BigInt(pageLg2)) - 1n;
        let dirty = (e & DIRTY) !== 0n;
        if (ctx.accessDirty) {
          for (const p of walked) mem.writeU64(p, mem.readU64(p) | ACCESSED);
          if (wantWrite) {
            mem.writeU64(at, mem.readU64(at) | DIRTY);
            dirty = true;
          }
        }
        return {
          ok: true,
          pa: (e & ADDRESS & ~mask) | (iova & mask),
          pageLg2,
          level: level - 1,
          read: canRead,
          write: canWrite,
          dirty,
          pteAddr: at,
        };
      }
      return fault("translation", 1, "walk ended without a leaf");
    },
  };
}
