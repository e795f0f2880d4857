// The v7s hardware walker: translates one device access by reading raw L1/L2 descriptors the way an
// ARMv7 short-descriptor walker does (TTBCR.N = 0, TEX remap, simplified AP model with the access flag
// enabled). Written from the architecture rules with its own constants: it shares nothing with armv7s.ts,
// so the two can disagree. Levels are reported as generic_pt numbers (L1 = 1, L2 = 0).
import type {
  Access,
  FaultKind,
  HardwareWalker,
  WalkContext,
  WalkerMemory,
  WalkResult,
  WalkStep,
} from "@genpt/core";
import { PtError, walkFault } from "@genpt/core";

/** What the driver set up around the tables, beyond the TTBR. */
export interface Armv7sWalkerConfig {
  /** MediaTek: PA bits 32-34 come from descriptor bits 9, 4, 5; permissions are not checked; ias 34, oas 35. */
  readonly mtkExt?: boolean;
  /** MediaTek TTBR_EXT: L1 table descriptors carry their L2 table's PA bits 32-34 the same way. */
  readonly ttbrExt?: boolean;
  /** The IOMMU ignores AF/AP/XN (tables built with Linux's NO_PERMS quirk). Implied by mtkExt. */
  readonly noPerms?: boolean;
  /** Accesses are unprivileged (PL0), so AP1 = 0 denies them. Default: privileged. */
  readonly unprivileged?: boolean;
}

// Descriptor kinds in bits [1:0].
const KIND = 3n;
const L1_FAULT = 0n;
const L1_COARSE = 1n; // points to a second-level table
const L2_FAULT = 0n;
const L2_LARGE = 1n;

// First-level fields.
const L1_SUPER = 1n << 18n;
const L1_TABLE_BASE = 0xfffffc00n;
const L1_SECTION_BASE = 0xfff00000n;
const L1_SUPER_BASE = 0xff000000n;
const L1_XN = 1n << 4n;
const L1_AP0 = 1n << 10n;
const L1_AP1 = 1n << 11n;
const L1_AP2 = 1n << 15n;

// Second-level fields.
const L2_SMALL_BASE = 0xfffff000n;
const L2_LARGE_BASE = 0xffff0000n;
const L2_SMALL_XN = 1n;
const L2_LARGE_XN = 1n << 15n;
const L2_AP0 = 1n << 4n;
const L2_AP1 = 1n << 5n;
const L2_AP2 = 1n << 9n;

/** PA[34:32] of a MediaTek descriptor: bit 9 -> 32, bit 4 -> 33, bit 5 -> 34. */
function mediatekHigh(d: bigint): bigint {
  return (((d >> 9n) & 1n) << 32n) | (((d >> 4n) & 1n) << 33n) | (((d >> 5n) & 1n) << 34n);
}

/** Supersection extended base: bits [23:20] are PA[35:32] and bits [8:5] are PA[39:36]. */
function supersectionHigh(d: bigint): bigint {
  return (((d >> 20n) & 0xfn) << 32n) | (((d >> 5n) & 0xfn) << 36n);
}

interface Leaf {
  readonly d: bigint;
  readonly level: number;
  readonly pageLg2: number;
  readonly base: bigint;
  readonly xn: boolean;
  readonly ap0: boolean;
  readonly ap1: boolean;
  readonly ap2: boolean;
  readonly pteAddr: bigint;
}

/**
 * A hardware walker for v7s tables. The TTBR base is ctx.root; ctx.topLevel must be 1.
 *
 * @example
 * const w = armv7sWalker();
 * const r = w.translate(mem, { root: pt.info().root, topLevel: 1, accessDirty: false }, 0x1234n, "read");
 */
export function armv7sWalker(config: Armv7sWalkerConfig = {}): HardwareWalker {
  const mtk = config.mtkExt === true;
  const ttbrExt = config.ttbrExt === true;
  const checkPerms = !mtk && config.noPerms !== true;
  const unpriv = config.unprivileged === true;
  const ias = mtk ? 34n : 32n;
  const oas = mtk ? 35n : 32n;

  function translate(
    mem: WalkerMemory,
    ctx: WalkContext,
    iova: bigint,
    access: Access,
    steps?: WalkStep[],
  ): WalkResult {
    if (ctx.topLevel !== 1)
      throw new PtError("EINVAL", `armv7sWalker: topLevel ${ctx.topLevel} is not 1 (v7s walks L1 then L2)`);
    const fault = (kind: FaultKind, level: number, detail: string) => walkFault(iova, kind, level, detail);
    if (iova < 0n || iova >> ias !== 0n)
      return fault("address-size", 1, `iova 0x${iova.toString(16)} is beyond the ${ias}-bit input range`);

    steps?.push({ level: 1, table: ctx.root });
    const l1Addr = ctx.root + ((iova >> 20n) << 2n);
    const d1 = BigInt(mem.readU32(l1Addr));
    let leaf: Leaf;
    if ((d1 & KIND) === L1_FAULT)
      return fault(
        "translation",
        1,
        `L1 descriptor 0x${d1.toString(16)} at 0x${l1Addr.toString(16)} is a fault entry`,
      );
    if ((d1 & KIND) === L1_COARSE) {
      const l2 = (d1 & L1_TABLE_BASE) | (ttbrExt ? mediatekHigh(d1) : 0n);
      steps?.push({ level: 0, table: l2 });
      const l2Addr = l2 + (((iova >> 12n) & 0xffn) << 2n);
      const d2 = BigInt(mem.readU32(l2Addr));
      const kind2 = d2 & KIND;
      if (kind2 === L2_FAULT)
        return fault(
          "translation",
          0,
          `L2 descriptor 0x${d2.toString(16)} at 0x${l2Addr.toString(16)} is a fault entry`,
        );
      const large = kind2 === L2_LARGE;
      leaf = {
        d: d2,
        level: 0,
        pageLg2: large ? 16 : 12,
        base: d2 & (large ? L2_LARGE_BASE : L2_SMALL_BASE),
        xn: (d2 & (large ? L2_LARGE_XN : L2_SMALL_XN)) !== 0n,
        ap0: (d2 & L2_AP0) !== 0n,
        ap1: (d2 & L2_AP1) !== 0n,
        ap2: (d2 & L2_AP2) !== 0n,
        pteAddr: l2Addr,
      };
    } else {
      // 10 or 11: section or supersection (bit 0 would be PXN, which an IOMMU access never checks).
      const sup = (d1 & L1_SUPER) !== 0n;
      leaf = {
        d: d1,
        level: 1,
        pageLg2: sup ? 24 : 20,
        base: sup ? (d1 & L1_SUPER_BASE) | (mtk ? 0n : supersectionHigh(d1)) : d1 & L1_SECTION_BASE,
        xn: (d1 & L1_XN) !== 0n,
        ap0: (d1 & L1_AP0) !== 0n,
        ap1: (d1 & L1_AP1) !== 0n,
        ap2: (d1 & L1_AP2) !== 0n,
        pteAddr: l1Addr,
      };
    }

    const pa = (leaf.base | (mtk ? mediatekHigh(leaf.d) : 0n)) + (iova & ((1n << BigInt(leaf.pageLg2)) - 1n));
    const what = () => `leaf 0x${leaf.d.toString(16)} at 0x${leaf.pteAddr.toString(16)}`;
    if (pa >> oas !== 0n)
      return fault("address-size", leaf.level, `${what()} outputs 0x${pa.toString(16)}, beyond ${oas} bits`);
    let write = true;
    if (checkPerms) {
      // The simplified model: AP0 is the access flag, AP1 allows PL0, AP2 makes the page read-only.
      if (!leaf.ap0) return fault("access-flag", leaf.level, `${what()} has AF (AP0) clear`);
      if (unpriv && !leaf.ap1)
        return fault("permission", leaf.level, `${what()} is privileged-only (AP1 clear)`);
      write = !leaf.ap2;
      if (access === "write" && !write)
        return fault("permission", leaf.level, `${what()} is read-only (AP2 set)`);
      if (access === "exec" && leaf.xn)
        return fault("permission", leaf.level, `${what()} is execute-never (XN set)`);
    }
    // No dirty state exists in this format, so ctx.accessDirty has nothing to set.
    return {
      ok: true,
      pa,
      pageLg2: leaf.pageLg2,
      level: leaf.level,
      read: true,
      write,
      dirty: false,
      pteAddr: leaf.pteAddr,
    };
  }

  return { format: "armv7s", translate };
}
