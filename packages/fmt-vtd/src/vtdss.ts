// The Intel VT-d second-stage page table: the software side that the core drives (reference/formats.md §4).
//
// Intel Virtualization Technology for Directed I/O Architecture Specification, §3.7 "Second-Stage
// Translation" and §9.8 "Second-Stage Paging Entries". The spec's named levels map to generic_pt levels:
//   SS-PTE   (4K page)              - level 0
//   SS-PDE   (table, or 2M with PS) - level 1
//   SS-PDPE  (table, or 1G with PS) - level 2
//   SS-PML4E (table only)           - level 3
//   SS-PML5E (table only)           - level 4
// The depth is fixed by the address width: 39 bits = 3 levels (AW 1), 48 = 4 (AW 2), 57 = 5 (AW 3).
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

// Geometry: 4 KiB tables of 512 eight-byte entries at every level; OA up to 52 bits, limited by HAW.
const GRANULE_LG2 = 12;
const TABLE_LG2 = 12;
const INDEX_BITS = 9;
const MAX_OA_LG2 = 52;
const MIN_OA_LG2 = 32;
/** Leaves exist at levels 0..2: 4K pages, and 2M and 1G superpages with PS. */
const MAX_LEAF_LEVEL = 2;

const TWO20 = 0x10_0000;
const TWO32 = 0x1_0000_0000;

// Bits shared by every entry, low word. There is no present bit: an entry is present when R or W is set.
const R = 1 << 0;
const W = 1 << 1;
const A = 1 << 8;
const D = 1 << 9;
const ADDR_LO_MASK = 0xfffff000; // address bits [31:12]
// High word: address bits [51:32]. Nothing else is ever set (TM, bit 62, is reserved since VT-d 3.2).
const ADDR_HI_MASK = 0xfffff;

// Leaf only.
const SNP = 1 << 11;
/** SS-PDE / SS-PDPE: this entry maps a 2M / 1G page. */
const PS = 1 << 7;

/** What a leaf carries besides its address and PS: R, W and SNP, all in the low word. */
export interface VtdssAttrs {
  readonly lo: number;
}

export interface VtdssConfig {
  /** Input address width: 39, 48 or 57 bits, for 3, 4 or 5 levels. */
  readonly vaBits: 39 | 48 | 57;
  /** Output address width (the hardware's HAW), 32..52. Default 52. */
  readonly oaBits?: number;
  /** Set SNP in every leaf (PT_FEAT_VTDSS_FORCE_COHERENCE). Default off, as in Linux until asked. */
  readonly forceCoherence?: boolean;
  /** Reject read-only mappings (PT_FEAT_VTDSS_FORCE_WRITEABLE, erratum 772415_SPR17). Default off. */
  readonly forceWriteable?: boolean;
}

const itemLg2 = (level: number) => GRANULE_LG2 + INDEX_BITS * level;

function levels(topLevel: number): LevelGeometry[] {
  const out: LevelGeometry[] = [];
  for (let l = 0; l <= topLevel; l++) {
    out.push({ itemLg2: itemLg2(l), tableLg2: TABLE_LG2, leafLg2: l <= MAX_LEAF_LEVEL ? [itemLg2(l)] : [] });
  }
  return out;
}

function kind(lo: number, _hi: number, level: number) {
  if ((lo & (R | W)) === 0) return EMPTY;
  return level === 0 || (level <= MAX_LEAF_LEVEL && (lo & PS) !== 0) ? LEAF : TABLE;
}

function tablePa(lo: number, hi: number): number {
  return ((lo & ADDR_LO_MASK) >>> 0) + (hi & ADDR_HI_MASK) * TWO32;
}

/** R and W are ANDed down the walk, so tables grant both and the leaf alone decides. */
function tableLo(pa: number): number {
  return ((pa % TWO32) | R | W) >>> 0;
}

function tableHi(pa: number): number {
  return Math.floor(pa / TWO32);
}

function leafOa(lo: number, hi: number): number {
  return (lo >>> GRANULE_LG2) + (hi & ADDR_HI_MASK) * TWO20;
}

function leafLo(oa: number, _sizeLg2: number, level: number, attrs: VtdssAttrs): number {
  return (((oa % TWO20) << GRANULE_LG2) | attrs.lo | (level === 0 ? 0 : PS)) >>> 0;
}

function leafHi(oa: number): number {
  return Math.floor(oa / TWO20);
}

function attrsFromEntry(lo: number): VtdssAttrs {
  return { lo: lo & (R | W | SNP) };
}

function describeLeaf(lo: number): string {
  return `${lo & R ? "R" : "-"}${lo & W ? "W" : "-"}${lo & SNP ? " SNP" : ""}${lo & A ? " A" : ""}${lo & D ? " D" : ""}`;
}

// ---------------------------------------------------------------------------------------------------
// The IOMMU-facing part: prot, configuration and the PASID-entry fields.

/**
 * §4.3, generic_pt: R and W straight from prot, with no forced R (the legacy driver ORed in bit 0 always).
 * CACHE, NOEXEC, MMIO and PRIV change nothing.
 */
function protToAttrs(prot: number, forceCoherence: boolean, forceWriteable: boolean): VtdssAttrs {
  if (forceWriteable && (prot & Prot.WRITE) === 0)
    throw new PtError(
      "EINVAL",
      `vtdss: prot without WRITE (${prot}) is rejected with forceWriteable: read-only mappings break a nesting parent (erratum 772415_SPR17)`,
    );
  let lo = 0;
  if (prot & Prot.READ) lo |= R;
  if (prot & Prot.WRITE) lo |= W;
  if (forceCoherence) lo |= SNP;
  return { lo };
}

function flag(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new PtError("EINVAL", `vtdss: ${name} ${String(v)} is not a boolean`);
  return v;
}

/**
 * The Intel VT-d second-stage page-table format.
 *
 * @example
 * const pt = createPageTable(vtdss({ vaBits: 48 }), { mem });
 * pt.map(0x20_0000n, 0x4020_0000n, 0x20_0000n, Prot.READ | Prot.WRITE); // one 2M SS-PDE with PS
 */
export function vtdss(cfg: VtdssConfig): PtFormat<VtdssAttrs> {
  if (cfg === null || typeof cfg !== "object")
    throw new PtError("EINVAL", "vtdss: config { vaBits } is required");
  const vaBits = cfg.vaBits;
  if (vaBits !== 39 && vaBits !== 48 && vaBits !== 57)
    throw new PtError("EINVAL", `vtdss: vaBits ${String(vaBits)} is not 39, 48 or 57 (3, 4 or 5 levels)`);
  const oaBits = cfg.oaBits ?? MAX_OA_LG2;
  if (typeof oaBits !== "number" || !Number.isInteger(oaBits) || oaBits < MIN_OA_LG2 || oaBits > MAX_OA_LG2)
    throw new PtError("EINVAL", `vtdss: oaBits ${String(oaBits)} is not in ${MIN_OA_LG2}..${MAX_OA_LG2}`);
  const forceCoherence = flag("forceCoherence", cfg.forceCoherence);
  const forceWriteable = flag("forceWriteable", cfg.forceWriteable);
  const topLevel = (vaBits - GRANULE_LG2) / INDEX_BITS - 1;
  const feats = `${forceCoherence ? ", SNP" : ""}${forceWriteable ? ", force writeable" : ""}`;
  return defineFormat<VtdssAttrs>({
    name: "vtdss",
    config: `${topLevel + 1} levels, ${vaBits}-bit VA, ${oaBits}-bit OA${feats}`,
    geometry: { entryBytes: 8, levels: levels(topLevel), topLevel, maxTopLevel: topLevel, vaBits, oaBits },
    kind,
    tablePa,
    tableLo,
    tableHi,
    leafOa,
    leafLo,
    leafHi,
    attrsFromEntry,
    protToAttrs: (prot) => protToAttrs(prot, forceCoherence, forceWriteable),
    describeLeaf,
    // §4.4: D (bit 9) on the leaf only; A is never cleared.
    resize: "replace",
    statusBits: BigInt(A | D),
    dirty: {
      dirtyMask: BigInt(D),
      dirtyValue: BigInt(D),
      clean: { clear: BigInt(D) },
      makeDirty: { set: BigInt(D) },
      trackMask: BigInt(W),
      trackValue: BigInt(W),
    },
    // The PASID entry takes SSPTPTR = the root and AW = levels - 2 (1: 39-bit, 2: 48-bit, 3: 57-bit).
    hwInfo: (root, top) => ({ ssptptr: root, aw: top - 1 }),
  });
}

/** Configurations the conformance suite runs the format in (generic_pt's kunit_fmt_cfgs). */
export const VTDSS_TEST_CONFIGS: readonly VtdssConfig[] = [
  { vaBits: 39 },
  { vaBits: 48, forceCoherence: true },
  { vaBits: 57, oaBits: 46 },
];
