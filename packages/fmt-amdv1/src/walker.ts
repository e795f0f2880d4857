// The AMD IOMMU v1 hardware walker: translates one DMA access by reading raw table memory as the IOMMU
// does (AMD IOMMU spec §2.2.3; QEMU hw/i386/amd_iommu.c fetch_pte as a cross-check). It is written from
// the architecture rules alone and shares nothing with amdv1.ts, so that the two can disagree.
import {
  type Access,
  type HardwareWalker,
  type WalkContext,
  type WalkerMemory,
  type WalkFault,
  type WalkResult,
  type WalkStep,
  walkFault,
} from "@genpt/core";

// Raw 64-bit entry fields, as the spec's PDE/PTE figures give them.
const PRESENT = 1n; // bit 0
const ACCESSED = 1n << 5n;
const DIRTY = 1n << 6n;
const NEXT_LEVEL_SHIFT = 9n; // bits [11:9]
const ADDRESS = ((1n << 52n) - 1n) & ~0xfffn; // bits [51:12]
const READ_OK = 1n << 61n;
const WRITE_OK = 1n << 62n;

/** The DTE fields besides the root and Mode, which come from the WalkContext. */
export interface Amdv1WalkerConfig {
  /** DTE IR: reads allowed at the device level. Default true. */
  readonly ir?: boolean;
  /** DTE IW: writes allowed at the device level. Default true. */
  readonly iw?: boolean;
}

/**
 * A hardware walker for AMD v1 host tables. The WalkContext gives the DTE root and Mode (= topLevel + 1);
 * accessDirty is the DTE HAD = 11b setting, under which a read sets A and a write sets A and D, in the
 * one table slot the IOVA indexes (for a replicated page, one copy only, as the spec allows).
 *
 * @example
 * const hw = amdv1Walker();
 * const info = pt.info();
 * const r = hw.translate(mem, { root: info.root, topLevel: info.topLevel, accessDirty: true }, iova, "write");
 */
export function amdv1Walker(cfg: Amdv1WalkerConfig = {}): HardwareWalker {
  const dteRead = cfg.ir ?? true;
  const dteWrite = cfg.iw ?? true;
  return {
    format: "amdv1",
    translate(
      mem: WalkerMemory,
      ctx: WalkContext,
      iova: bigint,
      access: Access,
      steps?: WalkStep[],
    ): WalkResult {
      const mode = ctx.topLevel + 1;
      const fault = (kind: WalkFault["kind"], specLevel: number, detail: string): WalkFault =>
        walkFault(iova, kind, specLevel - 1, detail);
      if (mode < 1 || mode > 6) return fault("translation", mode, `DTE Mode ${mode} is not 1..6`);
      // Mode 6 covers all 64 bits; below that, the IOVA must fit in 12 + 9 * Mode bits.
      if (mode < 6 && iova >> BigInt(12 + 9 * mode) !== 0n)
        return fault(
          "address-size",
          mode,
          `iova 0x${iova.toString(16)} is beyond the ${12 + 9 * mode}-bit range of Mode ${mode}`,
        );
      const wantWrite = access === "write";
      let canRead = dteRead;
      let canWrite = dteWrite;
      let table = ctx.root & ADDRESS;
      let level = mode;
      const walked: bigint[] = [];
      for (;;) {
        steps?.push({ level: level - 1, table });
        const shift = BigInt(12 + 9 * (level - 1));
        const index = (iova >> shift) & (level === 6 ? 0x7fn : 0x1ffn);
        const at = table + index * 8n;
        const e = mem.readU64(at);
        if ((e & PRESENT) === 0n)
          return fault(
            "translation",
            level,
            `entry 0x${e.toString(16)} at 0x${at.toString(16)} is not present`,
          );
        canRead &&= (e & READ_OK) !== 0n;
        canWrite &&= (e & WRITE_OK) !== 0n;
        const nl = Number((e >> NEXT_LEVEL_SHIFT) & 7n);
        walked.push(at);
        if (nl === 0 || nl === 7) {
          if (level === 6)
            return fault("translation", level, `entry 0x${e.toString(16)}: a level-6 entry cannot translate`);
          const pageLg2 = nl === 0 ? 12 + 9 * (level - 1) : encodedSize(e);
          if (!(wantWrite ? canWrite : canRead))
            return fault(
              "permission",
              level,
              `${access} denied: IR/IW ANDed down the walk give ${canRead ? "R" : "-"}${canWrite ? "W" : "-"}`,
            );
          const mask = (1n << BigInt(pageLg2)) - 1n;
          const pa = (e & ADDRESS & ~mask) | (iova & mask);
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
            pa,
            pageLg2,
            level: level - 1,
            read: canRead,
            write: canWrite,
            dirty,
            pteAddr: at,
          };
        }
        // NextLevel names the level of the next table; a jump over levels needs their index bits zero.
        if (nl >= level)
          return fault(
            "translation",
            level,
            `entry 0x${e.toString(16)}: NextLevel ${nl} does not go down from level ${level}`,
          );
        if (nl < level - 1) {
          const lowShift = BigInt(12 + 9 * nl);
          const skipped = (iova >> lowShift) & ((1n << (shift - lowShift)) - 1n);
          if (skipped !== 0n)
            return fault(
              "translation",
              level,
              `iova bits [${Number(shift) - 1}:${Number(lowShift)}] of skipped levels are not zero`,
            );
        }
        table = e & ADDRESS;
        level = nl;
      }
    },
  };
}

/** NextLevel 7: bits [11:0] read as ones, and the page size is 2^(1 + the first zero bit's position). */
function encodedSize(e: bigint): number {
  let bit = 12;
  while (bit < 63 && ((e >> BigInt(bit)) & 1n) === 1n) bit++;
  return bit + 1;
}
