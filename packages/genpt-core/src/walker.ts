// The hardware-walker contract: how a format package's independent walker translates one device access
// by reading raw table memory as the IOMMU would. The sim drives it; the core never calls it.

/** What the device does. "exec" is an instruction fetch, for formats that model XN. */
export type Access = "read" | "write" | "exec";

/** Where a walker reads and writes table memory: the CPU's PhysMem, or the device's incoherent copy. */
export interface WalkerMemory {
  readU32(pa: bigint): number;
  writeU32(pa: bigint, v: number): void;
  readU64(pa: bigint): bigint;
  writeU64(pa: bigint, v: bigint): void;
}

/** The translation context the driver programs (DTE, context entry, CD/STE, TTBR). */
export interface WalkContext {
  /** Byte address of the top table. */
  readonly root: bigint;
  /** generic_pt level of the top table (info().topLevel). */
  readonly topLevel: number;
  /** The hardware may set access/dirty bits (AMD DTE HAD, VT-d SSADE, ARM HA/HD). */
  readonly accessDirty: boolean;
}

export type FaultKind =
  | "translation" // no valid entry, reserved encoding, or no table for the input range
  | "permission"
  | "access-flag"
  | "address-size" // output (or input) beyond the configured width
  | "reserved"; // reserved bits set in an entry

export interface WalkFault {
  readonly ok: false;
  readonly kind: FaultKind;
  /** generic_pt level at which the walk stopped. */
  readonly level: number;
  readonly iova: bigint;
  /** One line on why, naming the entry value where there was one. */
  readonly detail: string;
}

export interface WalkHit {
  readonly ok: true;
  /** Output address of the accessed byte. */
  readonly pa: bigint;
  /** log2 bytes of the translation the hardware may cache: the leaf's (whole contiguous) size. */
  readonly pageLg2: number;
  /** generic_pt level of the leaf. */
  readonly level: number;
  /** Effective permissions, ANDed down the walk. */
  readonly read: boolean;
  readonly write: boolean;
  /** The leaf is write-dirty after this access (so a cached write need not touch memory again). */
  readonly dirty: boolean;
  /** Byte address of the leaf entry the walker used. */
  readonly pteAddr: bigint;
}

export type WalkResult = WalkHit | WalkFault;

/** One table a walk passed through, for the sim's walk caches. */
export interface WalkStep {
  readonly level: number;
  /** Byte address of the table read at this level. */
  readonly table: bigint;
}

/**
 * A format's hardware walker. It shares no encoding helper with the format's software side.
 *
 * @example
 * const r = walker.translate(mem, { root, topLevel, accessDirty: true }, 0x1000n, "write");
 * if (r.ok) console.log(r.pa); else console.log(r.kind, r.level);
 */
export interface HardwareWalker {
  readonly format: string;
  /**
   * Translates one access at `iova`. With ctx.accessDirty, sets A/D bits in memory by the format's
   * hardware rules. `steps`, when given, receives every table read, top first.
   */
  translate(
    mem: WalkerMemory,
    ctx: WalkContext,
    iova: bigint,
    access: Access,
    steps?: WalkStep[],
  ): WalkResult;
}

/**
 * Builds the fault result every walker returns. A result constructor only: it knows nothing of any
 * entry encoding, so walkers that use it still share nothing with a format's software side.
 */
export function walkFault(iova: bigint, kind: FaultKind, level: number, detail: string): WalkFault {
  return { ok: false, kind, level, iova, detail };
}
