// The AMD IOMMU v1 host page table: the software side that the core drives (reference/formats.md §3).
//
// AMD I/O Virtualization Technology (IOMMU) Specification, §2.2.3 "I/O Page Tables for Host
// Translations": the PDE/PTE layout (Table 14, page-size encodings) and the level parameters (Table 15).
// The spec counts levels from 1 (the DTE Mode field is the number of levels); generic_pt counts from 0:
//   spec level 1 (4K default leaf)   - level 0
//   spec level 2 (2M)                - level 1
//   spec level 3 (1G)                - level 2
//   spec level 4 (512G, never used)  - level 3
//   spec level 5 (256T)              - level 4
//   spec level 6 (128 entries)       - level 5, never a leaf
// so DTE Mode = top level + 1. The top starts at Mode 3 and grows on demand (the core's dynamic top).
import {
  defineFormat,
  EMPTY,
  LEAF,
  type LevelGeometry,
  Prot,
  PtError,
  type PtFormat,
  TABLE,
} from "@genpt/core";

// Geometry: 4 KiB tables of 512 eight-byte entries at every level, a 64-bit VA at Mode 6 and a 52-bit OA.
const GRANULE_LG2 = 12;
const TABLE_LG2 = 12;
const INDEX_BITS = 9;
const MAX_MODE = 6;
const MAX_VA_LG2 = 64;
const MAX_OA_LG2 = 52;
/** §3.3: every power of two from 4K up to 2^51, except 512G (Linux cites a hardware bug). */
const MAX_PAGE_LG2 = 51;
const NO_PAGE_LG2 = 39;

const TWO20 = 0x10_0000;
const TWO32 = 0x1_0000_0000;

// Entry bits shared by PDE and PTE, low word (bits 31..0).
const PR = 1 << 0;
const A = 1 << 5;
const NEXT_LEVEL_SHIFT = 9;
const NEXT_LEVEL_MASK = 7;
const ADDR_LO_MASK = 0xfffff000; // address bits [31:12]
// High word (bits 63..32): address bits [51:32], and the permission bits.
const ADDR_HI_MASK = 0xfffff;
const IR = 1 << (61 - 32);
const IW = 1 << (62 - 32);

// PTE only.
const D = 1 << 6;
const FC = 1 << (60 - 32);
/** D and IW as 64-bit entry values, for the declarative dirty tracking (D is tracked on writable leaves). */
const D64 = BigInt(D);
const IW64 = BigInt(IW) << 32n;
/** NextLevel of a leaf of its level's default size. */
const NL_DEFAULT = 0;
/** NextLevel of a leaf whose size is encoded as a run of ones in the low address bits. */
const NL_SIZE = 7;

/** What a leaf carries besides PR, its address and NextLevel: FC, IR and IW, all in the high word. */
export interface Amdv1Attrs {
  readonly hi: number;
}

export interface Amdv1Config {
  /** DTE Mode (number of levels, 1..6) of the first top table. Default 3 (39-bit), as Linux starts. */
  readonly startLevel?: number;
  /** Highest Mode the top may grow to (2..6): the IOMMU's host level. Default 6 (full 64-bit VA). */
  readonly maxLevel?: number;
  /** Set FC in every leaf (PT_FEAT_AMDV1_FORCE_COHERENCE). Default on, as the AMD driver always does. */
  readonly forceCoherence?: boolean;
}

const itemLg2 = (level: number) => GRANULE_LG2 + INDEX_BITS * level;

/** Address field (bits [51:12]) in granules. */
const addrField = (lo: number, hi: number) => (lo >>> GRANULE_LG2) + (hi & ADDR_HI_MASK) * TWO20;

const nextLevel = (lo: number) => (lo >>> NEXT_LEVEL_SHIFT) & NEXT_LEVEL_MASK;

/** Position of the lowest zero bit of the address field, in granules (§3.3: the size marker). */
function firstZero(lo: number, hi: number): number {
  const x = lo >>> GRANULE_LG2;
  // Unless all 20 address bits of the low word are ones, the zero is there.
  if (x !== 0xfffff) return 31 - Math.clz32(~x & (x + 1));
  const y = hi & ADDR_HI_MASK;
  return 20 + 31 - Math.clz32(~y & (y + 1));
}

/** §3.3 Table 14 sizes: each level offers its item size and every power of two up to the next level's. */
function levels(maxMode: number): LevelGeometry[] {
  const out: LevelGeometry[] = [];
  for (let l = 0; l < maxMode; l++) {
    const leafLg2: number[] = [];
    for (let s = itemLg2(l); s < itemLg2(l) + INDEX_BITS && s <= MAX_PAGE_LG2; s++) {
      if (s !== NO_PAGE_LG2 && l < MAX_MODE - 1) leafLg2.push(s);
    }
    out.push({ itemLg2: itemLg2(l), tableLg2: TABLE_LG2, leafLg2 });
  }
  return out;
}

function kind(lo: number, _hi: number, level: number) {
  if ((lo & PR) === 0) return EMPTY;
  const nl = nextLevel(lo);
  return level === 0 || nl === NL_DEFAULT || nl === NL_SIZE ? LEAF : TABLE;
}

function tablePa(lo: number, hi: number): number {
  return ((lo & ADDR_LO_MASK) >>> 0) + (hi & ADDR_HI_MASK) * TWO32;
}

/** A PDE names the spec level of the table it points at, which is this entry's generic level. */
function tableLo(pa: number, level: number): number {
  return ((pa % TWO32) | PR | (level << NEXT_LEVEL_SHIFT)) >>> 0;
}

/** IR and IW are ANDed down the walk, so tables grant both and the leaf alone decides (§3.2). */
function tableHi(pa: number): number {
  return (Math.floor(pa / TWO32) | IR | IW) >>> 0;
}

/** The address field of a leaf: the page base, plus the size marker when NextLevel is 7. */
function leafField(oa: number, sizeLg2: number, level: number): number {
  if (sizeLg2 === itemLg2(level)) return oa;
  return oa + 2 ** (sizeLg2 - GRANULE_LG2 - 1) - 1;
}

function leafLo(oa: number, sizeLg2: number, level: number): number {
  const nl = sizeLg2 === itemLg2(level) ? NL_DEFAULT : NL_SIZE;
  return (((leafField(oa, sizeLg2, level) % TWO20) << GRANULE_LG2) | PR | (nl << NEXT_LEVEL_SHIFT)) >>> 0;
}

function leafHi(oa: number, sizeLg2: number, level: number, attrs: Amdv1Attrs): number {
  return (Math.floor(leafField(oa, sizeLg2, level) / TWO20) | attrs.hi) >>> 0;
}

function leafLg2(lo: number, hi: number, level: number): number {
  if (nextLevel(lo) !== NL_SIZE) return itemLg2(level);
  return GRANULE_LG2 + firstZero(lo, hi) + 1;
}

/** The entry's OA: the address field with the run of ones below the size marker cleared. */
function leafOa(lo: number, hi: number): number {
  const field = addrField(lo, hi);
  if (nextLevel(lo) !== NL_SIZE) return field;
  return field - (2 ** firstZero(lo, hi) - 1);
}

function attrsFromEntry(_lo: number, hi: number): Amdv1Attrs {
  return { hi: hi & (FC | IR | IW) };
}

function describeLeaf(lo: number, hi: number, level: number): string {
  const perm = `${hi & IR ? "R" : "-"}${hi & IW ? "W" : "-"}`;
  const nl = nextLevel(lo) === NL_SIZE ? ` NL7(${leafLg2(lo, hi, level) - itemLg2(level)})` : "";
  return `${perm}${hi & FC ? " FC" : ""}${lo & A ? " A" : ""}${lo & D ? " D" : ""}${nl}`;
}

// ---------------------------------------------------------------------------------------------------
// The IOMMU-facing part: prot, configuration and the DTE fields.

/** §3.4: CACHE, NOEXEC, PRIV and MMIO change nothing (MMIO would only drop the SME C-bit, which is off). */
function protToAttrs(prot: number, forceCoherence: boolean): Amdv1Attrs {
  let hi = forceCoherence ? FC : 0;
  if (prot & Prot.READ) hi |= IR;
  if (prot & Prot.WRITE) hi |= IW;
  return { hi: hi >>> 0 };
}

function checkMode(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new PtError("EINVAL", `amdv1: ${name} ${String(v)} is not a DTE Mode in ${min}..${max}`);
  return v;
}

/**
 * The AMD IOMMU v1 host page-table format.
 *
 * @example
 * const pt = createPageTable(amdv1(), { mem });
 * pt.map(0x10_0000n, 0x4000_0000n, 0x1_0000n, Prot.READ | Prot.WRITE); // one 64K entry, 16 copies
 */
export function amdv1(cfg: Amdv1Config = {}): PtFormat<Amdv1Attrs> {
  if (cfg === null || typeof cfg !== "object") throw new PtError("EINVAL", "amdv1: config must be an object");
  // Mode 1 could never map anything: its only level is the top, and the top holds no leaf.
  const maxMode = checkMode("maxLevel", cfg.maxLevel ?? MAX_MODE, 2, MAX_MODE);
  const startMode = checkMode("startLevel", cfg.startLevel ?? Math.min(3, maxMode), 1, maxMode);
  const forceCoherence = cfg.forceCoherence ?? true;
  if (typeof forceCoherence !== "boolean")
    throw new PtError("EINVAL", `amdv1: forceCoherence ${String(forceCoherence)} is not a boolean`);
  const vaBits = maxMode === MAX_MODE ? MAX_VA_LG2 : itemLg2(maxMode);
  return defineFormat<Amdv1Attrs>({
    name: "amdv1",
    config: `mode ${startMode}${maxMode > startMode ? ` growing to ${maxMode}` : ""}${forceCoherence ? ", FC" : ""}`,
    geometry: {
      entryBytes: 8,
      levels: levels(maxMode),
      topLevel: startMode - 1,
      maxTopLevel: maxMode - 1,
      vaBits,
      oaBits: MAX_OA_LG2,
      topHoldsLeaf: false,
    },
    replicatedContig: true,
    kind,
    tablePa,
    tableLo,
    tableHi,
    leafOa,
    leafLg2,
    leafLo,
    leafHi,
    attrsFromEntry,
    protToAttrs: (prot) => protToAttrs(prot, forceCoherence),
    describeLeaf,
    // §3.5: D is ORed over every copy and cleared in all of them; A is left alone.
    // §3.5: x86 IOMMUs keep no conflicting-size TLB rule, so a live entry is replaced in place.
    resize: "replace",
    statusBits: BigInt(A | D),
    dirty: {
      dirtyMask: D64,
      dirtyValue: D64,
      clean: { clear: D64 },
      makeDirty: { set: D64 },
      trackMask: IW64,
      trackValue: IW64,
    },
    // §3.1: the DTE takes the root in bits [51:12], Mode = number of levels, HAD = 11b for host A/D.
    hwInfo: (root, topLevel) => ({ hostPtRoot: root, mode: topLevel + 1, had: 0b11 }),
  });
}

/** Configurations the conformance suite runs the format in (generic_pt's kunit_fmt_cfgs). */
export const AMDV1_TEST_CONFIGS: readonly Amdv1Config[] = [
  // What the AMD driver does: Mode 3, growing to the full 64-bit VA, FC on.
  {},
  // Growth through every Mode from 1, to a 48-bit top.
  { startLevel: 1, maxLevel: 4 },
  // A fixed Mode 4 top without FC.
  { startLevel: 4, maxLevel: 4, forceCoherence: false },
];
