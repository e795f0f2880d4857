// The format contract: what a page-table format supplies to the core (after generic_pt's pt_common.h).
// A format has two halves: its geometry (levels, table sizes, widths) and its entry operations, each a
// small function over one entry held as two 32-bit words (lo, hi). 4-byte formats always see hi = 0.
//
// Units: the core speaks to formats in two units only. Output addresses (`oa`) are in granules (the
// level-0 item size, 2^geometry.granuleLg2 bytes); table addresses (`pa`) are in bytes. Both are plain
// numbers, exact below 2^53, so no BigInt reaches the hot paths.

/** See PtFormat.resize. */
export type ResizeDiscipline = "break-before-make" | "replace";

/** An entry's kind, as `kind()` classifies it. An all-zero entry must always be EMPTY. */
export const EMPTY = 0;
export const TABLE = 1;
export const LEAF = 2;
export type EntryKind = typeof EMPTY | typeof TABLE | typeof LEAF;

/** One level of the radix tree. Level 0 holds the smallest pages. */
export interface LevelGeometry {
  /** log2 of the bytes one item (one slot) at this level translates. */
  readonly itemLg2: number;
  /** log2 of the bytes of a table at this level, when it is not the top. */
  readonly tableLg2: number;
  /**
   * log2 sizes of the leaves this level can hold, ascending: the item size and every contiguous or
   * replicated size. Empty when the level cannot hold a leaf. Never the size of a whole table.
   */
  readonly leafLg2: readonly number[];
}

export interface Geometry {
  /** 4 or 8 bytes per entry. */
  readonly entryBytes: 4 | 8;
  /** Levels 0..maxTopLevel. */
  readonly levels: readonly LevelGeometry[];
  /** Level of the top table when the page table is created. */
  readonly topLevel: number;
  /** Highest level the top may grow to; equal to topLevel unless the format has a dynamic top (AMD v1). */
  readonly maxTopLevel: number;
  /** Width of the input address space in bits (up to 64), at maxTopLevel. Sign-extended formats count the sign bit. */
  readonly vaBits: number;
  /** Width of the output address space in bits (up to 52). */
  readonly oaBits: number;
  /**
   * log2 bytes of the top table. Default: a full table for a dynamic top, otherwise just the entries
   * the VA needs (ARM's pgd_bits, concatenated stage-2 tops, v7s with MTK), at least 64 bytes.
   */
  readonly topTableLg2?: number;
  /** "ones": the aperture is the top of the 64-bit space (ARM TTBR1). Default "zero". */
  readonly vaPrefix?: "zero" | "ones";
  /** The format can run with a sign-extended VA (x86-64, RISC-V): both canonical halves are valid. */
  readonly signExtendable?: boolean;
  /** False when the top table may never hold a leaf (AMD v1); the core then keeps the top above every leaf. */
  readonly topHoldsLeaf?: boolean;
  /**
   * Every table must end at or below 2^tableAddressBits, because a table pointer (or the register
   * holding the root) has only that many address bits: 32 for ARM v7s, 35 with the MTK TTBR_EXT.
   */
  readonly tableAddressBits?: number;
}

/**
 * Declarative dirty tracking, compiled by the core into a tight scan. Every mask is a 64-bit entry value.
 * An entry is write-dirty when (entry & dirtyMask) === dirtyValue. Cleaning applies `clean` to every
 * item; the test hook `setDirty` applies `makeDirty` to entries where (entry & trackMask) === trackValue.
 */
export interface DirtyBits {
  readonly dirtyMask: bigint;
  readonly dirtyValue: bigint;
  readonly clean: { readonly set?: bigint; readonly clear?: bigint };
  readonly makeDirty: { readonly set?: bigint; readonly clear?: bigint };
  readonly trackMask: bigint;
  readonly trackValue: bigint;
}

/**
 * A page-table format. `A` is the format's attribute value: whatever `protToAttrs` computes once per map
 * call and `leafLo`/`leafHi` OR into every leaf. Build one with `defineFormat`, which fills the defaults.
 */
export interface PtFormat<A = unknown> {
  /** Short format name, e.g. "amdv1". */
  readonly name: string;
  /** One line describing this configuration, e.g. "4K granule, stage 1, ias 48, oas 48". */
  readonly config: string;
  readonly geometry: Geometry;
  /**
   * True when every item of a multi-item leaf holds the same value (AMD v1 replication, v7s large pages
   * and supersections, RISC-V Svnapot). False when each item holds its own OA (the ARM contiguous hint).
   */
  readonly replicatedContig: boolean;
  /** Dirty tracking, or undefined when the format (or this configuration) has none. */
  readonly dirty: DirtyBits | undefined;
  /**
   * How a live leaf may be replaced by entries of another size (cut, splitBlocks, mergePages):
   * - "break-before-make": clear it, invalidate the IOTLB, then write the new entries. The only safe
   *   sequence where two cached translations of different sizes may conflict (Arm without BBML2).
   * - "replace": write the new entries over the old, then invalidate. For hardware that tolerates the old
   *   and the new translation side by side in its TLB (x86 IOMMUs, an SMMU with BBML2).
   */
  readonly resize: ResizeDiscipline;
  /**
   * Bits the hardware walker sets by itself in a leaf (accessed, dirty), at the same place at every
   * level, that attrsFromEntry drops. Split and cut copy them into every piece; merge ORs them. Default 0.
   */
  readonly statusBits: bigint;

  /** Classifies an entry at `level`. A nonzero entry may still be EMPTY (e.g. VT-d without R and W). */
  kind(lo: number, hi: number, level: number): EntryKind;
  /** Byte address of the child table of a TABLE entry. Must round-trip with tableLo/tableHi. */
  tablePa(lo: number, hi: number, level: number): number;
  /** Low/high word of a TABLE entry at `level` pointing at a child table at byte address `pa`. */
  tableLo(pa: number, level: number): number;
  tableHi(pa: number, level: number): number;
  /** OA (granules) where the leaf entry starts; for a multi-item entry, the OA of its first item. */
  leafOa(lo: number, hi: number, level: number): number;
  /** log2 bytes of the whole leaf entry this item belongs to. */
  leafLg2(lo: number, hi: number, level: number): number;
  /**
   * Low/high word of one leaf item at `level`. `oa` is the item's own OA for a per-item-OA format, else the
   * entry's OA; `sizeLg2` is the whole entry's size.
   */
  leafLo(oa: number, sizeLg2: number, level: number, attrs: A): number;
  leafHi(oa: number, sizeLg2: number, level: number, attrs: A): number;
  /** Attributes of an installed leaf, such that reinstalling with them is bit-identical (dirty state aside). */
  attrsFromEntry(lo: number, hi: number, level: number): A;
  /** Prot flags to attributes; throws PtError EINVAL or EOPNOTSUPP for a combination the format cannot express. */
  protToAttrs(prot: number): A;
  /** Readable attribute summary of a leaf, for dump(): e.g. "RW FC". */
  describeLeaf(lo: number, hi: number, level: number): string;
  /** Extra fields a driver programs into hardware (DTE, TTBR, TCR...), given the current top. */
  hwInfo(root: bigint, topLevel: number): Record<string, unknown>;
}

type Optional =
  | "replicatedContig"
  | "dirty"
  | "resize"
  | "statusBits"
  | "tableHi"
  | "leafHi"
  | "leafLg2"
  | "describeLeaf"
  | "hwInfo";

/** What a format must write; `defineFormat` supplies the rest. */
export type FormatSpec<A> = Omit<PtFormat<A>, Optional> & Partial<Pick<PtFormat<A>, Optional>>;

/**
 * Fills the contract's defaults: no dirty tracking, break-before-make resizing, no status bits, replicated
 * multi-item leaves, hi words of 0 (4-byte
 * formats), leaves of the item size, a hex attribute summary and no hardware info.
 *
 * @example
 * export const myFmt = defineFormat({ name: "mine", config: "", geometry, kind, tablePa, tableLo,
 *   leafOa, leafLo, attrsFromEntry, protToAttrs });
 */
export function defineFormat<A>(spec: FormatSpec<A>): PtFormat<A> {
  const geometry = spec.geometry;
  return {
    replicatedContig: true,
    dirty: undefined,
    resize: "break-before-make",
    statusBits: 0n,
    tableHi: () => 0,
    leafHi: () => 0,
    leafLg2: (_lo: number, _hi: number, level: number) => geometry.levels[level]!.itemLg2,
    describeLeaf: (lo: number, hi: number) =>
      geometry.entryBytes === 8
        ? `0x${((BigInt(hi) << 32n) | BigInt(lo)).toString(16)}`
        : `0x${lo.toString(16)}`,
    hwInfo: () => ({}),
    ...spec,
  };
}
