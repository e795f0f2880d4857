// The SMMUv3 translation table walk over raw memory, written from the architecture (Arm DDI0487 D8, the
// SMMUv3 HTTU rules) as formats.md §1.5 records QEMU's hw/arm/smmu-common.c checking it. It shares no
// constant or helper with armv8.ts, so that the two can disagree.
//
// Fault order at each descriptor: translation (invalid, reserved, no block here), address size (the
// next table or the output beyond oas), access flag, then permission. With ctx.accessDirty the walker is
// an SMMU with HTTU (CD.HA/HD or STE.S2HA/S2HD): it sets AF instead of faulting, and a write to a
// writable-clean leaf (DBM set) makes it writable-dirty in the one descriptor it read.
import {
  type Access,
  type HardwareWalker,
  type WalkContext,
  type WalkerMemory,
  type WalkResult,
  type WalkStep,
  walkFault,
} from "@genpt/core";

export interface Armv8WalkerConfig {
  readonly granule: 4096 | 16384 | 65536;
  readonly stage: 1 | 2;
  /** Input range bits (64 - T0SZ, or 64 - S2T0SZ). */
  readonly ias: number;
  /** Output range bits (CD.IPS or the effective STE.S2PS). */
  readonly oas: number;
  /** Stage 1 translating through TTBR1: the input is the top 2^ias bytes of the 64-bit space. */
  readonly ttbr1?: boolean;
}

const bit = (n: number) => 1n << BigInt(n);
const VALID = bit(0);
const NOT_BLOCK = bit(1); // with VALID: a table descriptor at L0..L2, a page descriptor at L3
const AP_RO = bit(7); // stage 1 AP[2]; AP[1] (EL0) is not checked: accesses count as privileged
const S2AP_R = bit(6);
const S2AP_W = bit(7);
const ACCESS_FLAG = bit(10);
const DIRTY_MODIFIER = bit(51);
const CONTIGUOUS = bit(52);
const PXN_OR_XN0 = bit(53);
const XN_OR_UXN = bit(54);
const PXN_TABLE = bit(59);
const AP_TABLE_RO = bit(62); // APTable[1]
const OA_47_0 = bit(48) - 1n;
const HIGH_NIBBLE_AT = 12n; // 64K granule, FEAT_LPA: OA[51:48] in descriptor bits [15:12]

/**
 * A hardware walker for one SMMU translation setup. root and topLevel come from the WalkContext
 * (pt.info().root / topLevel); the start level is 3 - topLevel.
 *
 * @example
 * const walker = armv8Walker({ granule: 4096, stage: 1, ias: 48, oas: 48 });
 * const { root, topLevel } = pt.info();
 * const r = walker.translate(mem, { root, topLevel, accessDirty: true }, 0x1000n, "write");
 */
export function armv8Walker(cfg: Armv8WalkerConfig): HardwareWalker {
  const granuleLg2 = cfg.granule === 4096 ? 12 : cfg.granule === 16384 ? 14 : 16;
  const stride = granuleLg2 - 3;
  const s2 = cfg.stage === 2;
  const oaLimit = bit(cfg.oas);
  const inputSpan = bit(cfg.ias);
  const granuleMask = bit(granuleLg2) - 1n;
  // Contiguous run length (log2 descriptors) per ARM level 3, 2, 1 (formats.md §1.2).
  const contLg2 = granuleLg2 === 12 ? [4, 4, 4] : granuleLg2 === 14 ? [7, 5, 0] : [5, 5, 0];

  /** Output address held by a descriptor, bits [47:granule] plus OA[51:48] with the 64K granule. */
  const outputAddress = (d: bigint): bigint => {
    const low = d & OA_47_0 & ~granuleMask;
    return granuleLg2 === 16 ? low | (((d >> HIGH_NIBBLE_AT) & 0xfn) << 48n) : low;
  };
  /** Block descriptors: L2 always; L1 with the 4K granule, or the 64K granule with 52-bit output (FEAT_LPA). */
  const blockAllowed = (armLevel: number): boolean =>
    armLevel === 2 || (armLevel === 1 && (granuleLg2 === 12 || (granuleLg2 === 16 && cfg.oas === 52)));

  return {
    format: "armv8",
    translate(
      mem: WalkerMemory,
      ctx: WalkContext,
      iova: bigint,
      access: Access,
      steps?: WalkStep[],
    ): WalkResult {
      const fault = (
        kind: "translation" | "permission" | "access-flag" | "address-size",
        armLevel: number,
        detail: string,
      ): WalkResult => walkFault(iova, kind, 3 - armLevel, detail);
      const hex = (v: bigint) => `0x${v.toString(16)}`;
      const startLevel = 3 - ctx.topLevel;
      // The initial lookup resolves the bits above the start level's shift; at stage 2 up to 4 more
      // bits index up to 16 concatenated tables.
      const topBits = cfg.ias - (granuleLg2 + stride * (3 - startLevel));
      if (startLevel < 0 || startLevel > 3 || topBits < 1 || topBits > stride + (s2 ? 4 : 0))
        return fault(
          "translation",
          startLevel,
          `start level ${startLevel} is not valid for a ${cfg.ias}-bit input`,
        );

      let va = iova;
      if (cfg.ttbr1) {
        if (iova >> BigInt(cfg.ias) !== bit(64 - cfg.ias) - 1n)
          return fault("translation", startLevel, `iova ${hex(iova)} is outside the TTBR1 range`);
        va = iova & (inputSpan - 1n);
      } else if (s2 && iova >= oaLimit) {
        // Stage 2 alone: the input is an IPA, checked against the SMMU's output size first.
        return fault(
          "address-size",
          startLevel,
          `input ${hex(iova)} is beyond the ${cfg.oas}-bit address size`,
        );
      } else if (iova >= inputSpan) {
        return fault("translation", startLevel, `iova ${hex(iova)} is beyond the ${cfg.ias}-bit input range`);
      }

      let table = ctx.root;
      let tableReadOnly = false;
      let tableNoExec = false;
      for (let armLevel = startLevel; armLevel <= 3; armLevel++) {
        const shift = granuleLg2 + stride * (3 - armLevel);
        const bits = armLevel === startLevel ? topBits : stride;
        const index = (va >> BigInt(shift)) & (bit(bits) - 1n);
        const pteAddr = table + index * 8n;
        steps?.push({ level: 3 - armLevel, table });
        let d = mem.readU64(pteAddr);
        if ((d & VALID) === 0n)
          return fault("translation", armLevel, `descriptor ${hex(d)} at L${armLevel} is invalid`);

        if (armLevel < 3 && (d & NOT_BLOCK) !== 0n) {
          const next = outputAddress(d);
          if (next >= oaLimit)
            return fault(
              "address-size",
              armLevel,
              `table address ${hex(next)} in ${hex(d)} is beyond ${cfg.oas} bits`,
            );
          if (!s2) {
            tableReadOnly ||= (d & AP_TABLE_RO) !== 0n;
            tableNoExec ||= (d & PXN_TABLE) !== 0n;
          }
          table = next;
          continue;
        }
        if (armLevel === 3 && (d & NOT_BLOCK) === 0n)
          return fault("translation", armLevel, `descriptor ${hex(d)} has the reserved type 01 at L3`);
        if (armLevel < 3 && !blockAllowed(armLevel))
          return fault("translation", armLevel, `block descriptor ${hex(d)} is not allowed at L${armLevel}`);

        const sizeMask = bit(shift) - 1n;
        const oa = outputAddress(d) & ~sizeMask;
        if (oa >= oaLimit)
          return fault("address-size", armLevel, `output ${hex(oa)} in ${hex(d)} is beyond ${cfg.oas} bits`);
        const before = d;
        if ((d & ACCESS_FLAG) === 0n) {
          if (!ctx.accessDirty) return fault("access-flag", armLevel, `AF is clear in ${hex(d)}`);
          d |= ACCESS_FLAG;
        }

        const modifier = (d & DIRTY_MODIFIER) !== 0n;
        let canRead: boolean;
        let canWrite: boolean;
        let canExec: boolean;
        if (s2) {
          canRead = (d & S2AP_R) !== 0n;
          canWrite = (d & S2AP_W) !== 0n;
          canExec = (d & XN_OR_UXN) === 0n;
        } else {
          canRead = true;
          canWrite = (d & AP_RO) === 0n && !tableReadOnly;
          canExec = (d & PXN_OR_XN0) === 0n && !tableNoExec;
        }
        // HTTU: DBM marks a read-only-looking leaf as writable-clean; the first write dirties it.
        const writableClean = !canWrite && modifier && !tableReadOnly;
        if (access === "write" && !canWrite) {
          if (!(writableClean && ctx.accessDirty))
            return fault(
              "permission",
              armLevel,
              `write denied by ${hex(d)}${tableReadOnly ? " (APTable)" : ""}`,
            );
          d = s2 ? d | S2AP_W : d & ~AP_RO;
          canWrite = true;
        }
        if (access === "read" && !canRead) return fault("permission", armLevel, `read denied by ${hex(d)}`);
        if (access === "exec" && !canExec)
          return fault("permission", armLevel, `execute denied by ${hex(d)}`);
        if (d !== before) mem.writeU64(pteAddr, d);

        const cont = (d & CONTIGUOUS) !== 0n ? contLg2[3 - armLevel]! : 0;
        return {
          ok: true,
          pa: oa | (va & sizeMask),
          pageLg2: shift + cont,
          level: 3 - armLevel,
          read: canRead,
          write: canWrite || (writableClean && ctx.accessDirty),
          // Whether a write needs no further descriptor update (AP[2] clear, or S2AP[1] set).
          dirty: s2 ? (d & S2AP_W) !== 0n : (d & AP_RO) === 0n,
          pteAddr,
        };
      }
      return fault("translation", 3, "walk ran past L3");
    },
  };
}
