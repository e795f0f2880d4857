// ARMv8 long-descriptor (LPAE / VMSAv8-64) page tables as the Arm SMMU walks them, stage 1 and stage 2,
// with the encodings of Linux's drivers/iommu/io-pgtable-arm.c. Spec: reference/formats.md §1 (1.1
// geometry and concatenated stage-2 tops, 1.2 descriptor bits and the contiguous hint, 1.3 Linux's leaf
// encoding, 1.4 DBM dirty tracking); architecture: Arm DDI0487 chapter D8.
//
// The architecture numbers the walk from the top (L0) down to the pages (L3); generic_pt numbers from
// the pages up, so generic level n is ARM level 3 - n:
//   generic 0 = ARM L3: pages (4K, 16K, 64K)          generic 2 = ARM L1: 1G blocks (4K), 4T (64K + 52-bit)
//   generic 1 = ARM L2: 2M, 32M or 512M blocks        generic 3 = ARM L0: tables only
// The top sits at generic level 3 - startLevel. A stage-2 concatenated top sits one level lower and is
// up to 16 granule-sized tables side by side; the core sizes it from ias like any other top.
//
// Entries are two 32-bit words, lo = bits 31..0 and hi = bits 63..32; output addresses are in granules.
import {
  type DirtyBits,
  defineFormat,
  EMPTY,
  LEAF,
  type LevelGeometry,
  Prot,
  PtError,
  type PtFormat,
  TABLE,
} from "@genpt/core";

const TWO32 = 4294967296;
const TWO48 = 281474976710656;

/** Address widths (§1.1): 32..48 bits, or up to 52 with the 64K granule (FEAT_LPA). */
const MIN_ADDR_BITS = 32;
const MAX_ADDR_BITS = 48;
const MAX_ADDR_BITS_LPA = 52;
/** ARM_LPAE_S2_MAX_CONCAT_PAGES. */
const MAX_CONCAT_TABLES = 16;
const GRANULE_LG2: Readonly<Record<number, number>> = { 4096: 12, 16384: 14, 65536: 16 };
/** TCR.IPS / VTCR.PS encodings, by output width. */
const PS_ENCODING: Readonly<Record<number, number>> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };

// Every descriptor, low word.
const VALID = 1 << 0;
const TABLE_OR_PAGE = 1 << 1; // [1:0] = 11: a table at L0..L2, a page at L3; 01: a block at L1..L2
const AF = 1 << 10;
const SH_OUTER = 2 << 8;
const SH_INNER = 3 << 8;
const PA_51_48_SHIFT = 12; // 64K granule only: PA[51:48] in bits [15:12], for leaves and tables alike

// Leaf, high word (bit n is 1 << (n - 32)).
const ADDR_HI = 0xffff; // PA[47:32]
const DBM = 1 << (51 - 32);
const CONT = 1 << (52 - 32);
const PXN = 1 << (53 - 32); // stage 2: XN[0]
const UXN = 1 << (54 - 32); // stage 2: XN[1]

// Table descriptor, high word.
const NS_TABLE = (1 << (63 - 32)) >>> 0;

// Stage-1 leaf, low word: attributes through the MAIR.
const ATTR_INDX_SHIFT = 2;
const NS = 1 << 5;
const AP_UNPRIV = 1 << 6; // AP[1]
const AP_RDONLY = 1 << 7; // AP[2]
const NG = 1 << 11;
const MAIR_IDX_NC = 0;
const MAIR_IDX_CACHE = 1;
const MAIR_IDX_DEV = 2;
/** The MAIR Linux programs: slot 0 Normal-NC 0x44, 1 WBRWA 0xff, 2 Device-nGnRE 0x04, 3 inner-NC/outer-WB 0xf4. */
const MAIR = 0xf404ff44n;

// Stage-2 leaf, low word: the memory type directly.
const MEMATTR_SHIFT = 2;
const MEMATTR_DEV = 0b0001;
const MEMATTR_NC = 0b0101;
const MEMATTR_WB = 0b1111;
const S2AP_READ = 1 << 6;
const S2AP_WRITE = 1 << 7;

/** What attrsFromEntry keeps: bits [11:2] of the low word, and DBM/XN of the high word (not CONT: leafHi sets it from the size). */
const ATTR_LO = 0xffc;
const ATTR_HI = DBM | PXN | UXN;

/** Items in a contiguous run, log2, by granule and generic level (§1.2 table). */
const CONT_ITEMS_LG2: Readonly<Record<number, readonly number[]>> = { 12: [4, 4, 4], 14: [7, 5], 16: [5, 5] };

export interface Armv8Config {
  readonly granule: 4096 | 16384 | 65536;
  readonly stage: 1 | 2;
  /** Input address bits: 32..48, or 32..52 with the 64K granule. */
  readonly ias: number;
  /** Output address bits: one of 32, 36, 40, 42, 44, 48 (and 52 with the 64K granule). */
  readonly oas: number;
  /** Hardware dirty tracking (Linux's ARM_HD quirk; stage 2 follows the architecture). */
  readonly dbm?: boolean;
  /** Use the contiguous hint for the sizes of §1.2 (Linux never does). */
  readonly contig?: boolean;
  /** Stage 1 only: the upper, sign-extended VA range (TTBR1). */
  readonly ttbr1?: boolean;
  /** Stage 1 only: NS on leaves and NSTable on tables (Linux's ARM_NS quirk). */
  readonly ns?: boolean;
  /**
   * The SMMU's break-before-make level (SMMU_IDR3.BBML, FEAT_BBM), which decides how split and merge
   * change a live block's size. 2: the new entry is written over the old. 0 (default) and 1: clear,
   * invalidate, then write; level 1's nT-bit sequence is not modelled, and break-before-make is always valid.
   */
  readonly bbml?: 0 | 1 | 2;
}

/** Precomputed leaf bits of one map call, without the type bits, the address and CONT. */
export interface Armv8Attrs {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The ARMv8 LPAE format for one SMMU configuration.
 *
 * @example
 * const pt = createPageTable(armv8({ granule: 4096, stage: 1, ias: 48, oas: 48 }), { mem });
 * pt.map(0x20_0000n, 0x4000_0000n, 0x20_0000n, Prot.READ | Prot.WRITE); // one 2M block at ARM L2
 */
export function armv8(cfg: Armv8Config): PtFormat<Armv8Attrs> {
  const { g, startLevel, concat } = checkConfig(cfg);
  const s1 = cfg.stage === 1;
  const dbm = cfg.dbm === true;
  const ns = cfg.ns === true;
  const topLevel = 3 - startLevel;
  const levels = levelGeometry(cfg, g, topLevel);
  const itemLg2 = levels.map((l) => l.itemLg2);
  const contLg2 = levels.map((l, n) => (cfg.contig ? l.itemLg2 + (CONT_ITEMS_LG2[g]![n] ?? 0) : l.itemLg2));
  const canBlock = levels.map((l, n) => n > 0 && l.leafLg2.length > 0);

  // The address field [47:g] splits at bit 32: lo holds OA bits below 32 - g, hi holds PA[47:32].
  const loShift = 32 - g;
  const loUnits = 2 ** loShift;
  const loAddr = (0xffffffff << g) >>> 0;
  const lpa = g === 16;

  const oaLo = (oa: number) =>
    (((oa % loUnits) << g) | (lpa ? (Math.floor(oa / TWO32) & 0xf) << PA_51_48_SHIFT : 0)) >>> 0;
  const oaHi = (oa: number) => Math.floor(oa / loUnits) & ADDR_HI;
  const paLo = (pa: number) =>
    ((pa % TWO32) & loAddr) | (lpa ? (Math.floor(pa / TWO48) & 0xf) << PA_51_48_SHIFT : 0);
  const itemOa = (lo: number, hi: number) =>
    (lo >>> g) + (hi & ADDR_HI) * loUnits + (lpa ? ((lo >>> PA_51_48_SHIFT) & 0xf) * TWO32 : 0);

  return defineFormat<Armv8Attrs>({
    name: "armv8",
    config: describeConfig(cfg),
    geometry: {
      entryBytes: 8,
      levels,
      topLevel,
      maxTopLevel: topLevel,
      vaBits: cfg.ias,
      oaBits: cfg.oas,
      vaPrefix: cfg.ttbr1 ? "ones" : "zero",
    },
    // The contiguous hint keeps each item's own OA.
    replicatedContig: false,
    dirty: dbm ? dirtyBits(s1) : undefined,
    resize: cfg.bbml === 2 ? "replace" : "break-before-make",

    // Type 01 is a block only where the level allows one; at L3 it is reserved, so no entry at all.
    kind: (lo, _hi, level) => {
      if ((lo & VALID) === 0) return EMPTY;
      if ((lo & TABLE_OR_PAGE) !== 0) return level === 0 ? LEAF : TABLE;
      return canBlock[level] ? LEAF : EMPTY;
    },
    tablePa: (lo, hi) =>
      ((lo & loAddr) >>> 0) + (hi & ADDR_HI) * TWO32 + (lpa ? ((lo >>> PA_51_48_SHIFT) & 0xf) * TWO48 : 0),
    tableLo: (pa) => (paLo(pa) | VALID | TABLE_OR_PAGE) >>> 0,
    tableHi: (pa) => ((Math.floor(pa / TWO32) & ADDR_HI) | (ns ? NS_TABLE : 0)) >>> 0,
    leafOa: (lo, hi, level) => {
      const oa = itemOa(lo, hi);
      if ((hi & CONT) === 0) return oa;
      const units = 2 ** (contLg2[level]! - g);
      return oa - (oa % units);
    },
    leafLg2: (_lo, hi, level) => ((hi & CONT) !== 0 ? contLg2[level]! : itemLg2[level]!),
    leafLo: (oa, _sizeLg2, level, a) =>
      (oaLo(oa) | a.lo | (level === 0 ? VALID | TABLE_OR_PAGE : VALID)) >>> 0,
    leafHi: (oa, sizeLg2, level, a) => (oaHi(oa) | a.hi | (sizeLg2 > itemLg2[level]! ? CONT : 0)) >>> 0,
    attrsFromEntry: (lo, hi) => ({ lo: lo & ATTR_LO, hi: hi & ATTR_HI }),

    // ---------------------------------------------------------------------------------------------
    // The IOMMU-facing part.
    protToAttrs: (prot) => (s1 ? stage1Attrs(prot, dbm, ns) : stage2Attrs(prot, dbm)),
    describeLeaf: (lo, hi) => describeLeaf(s1, lo, hi),
    hwInfo: (root, top) => hwInfo(cfg, g, 3 - top, concat, root),
  });
}

/** §1.3, stage 1: nG and AF always; AP[2] for read-only; AP[1] unless PRIV; the MAIR slot; SH by CACHE. */
function stage1Attrs(prot: number, dbm: boolean, ns: boolean): Armv8Attrs {
  let lo = NG | AF | (prot & Prot.CACHE ? SH_INNER : SH_OUTER);
  let hi = 0;
  // Stage 1 cannot say write-only: WRITE maps read-write, as in Linux.
  if ((prot & Prot.WRITE) === 0) lo |= AP_RDONLY;
  else if (dbm) hi |= DBM; // writable-dirty from the start (§1.4 trap)
  if ((prot & Prot.PRIV) === 0) lo |= AP_UNPRIV;
  const idx = prot & Prot.MMIO ? MAIR_IDX_DEV : prot & Prot.CACHE ? MAIR_IDX_CACHE : MAIR_IDX_NC;
  lo |= idx << ATTR_INDX_SHIFT;
  if (prot & Prot.NOEXEC) hi |= PXN | UXN;
  if (ns) lo |= NS;
  return { lo, hi };
}

/** §1.3, stage 2: AF; S2AP read/write; MemAttr device, write-back or non-cacheable; SH by CACHE. PRIV has no meaning. */
function stage2Attrs(prot: number, dbm: boolean): Armv8Attrs {
  let lo = AF | (prot & Prot.CACHE ? SH_INNER : SH_OUTER);
  let hi = 0;
  if (prot & Prot.READ) lo |= S2AP_READ;
  if (prot & Prot.WRITE) {
    lo |= S2AP_WRITE;
    if (dbm) hi |= DBM;
  }
  const memattr = prot & Prot.MMIO ? MEMATTR_DEV : prot & Prot.CACHE ? MEMATTR_WB : MEMATTR_NC;
  lo |= memattr << MEMATTR_SHIFT;
  if (prot & Prot.NOEXEC) hi |= PXN | UXN; // both XN bits, as Linux does even without FEAT_XNX
  return { lo, hi };
}

/**
 * §1.4: stage 1 is dirty when DBM is set and AP[2] (read-only) clear, and cleans by setting AP[2];
 * stage 2 has the opposite polarity: dirty when S2AP[1] (write) is set, cleaned by clearing it.
 */
function dirtyBits(s1: boolean): DirtyBits {
  const dbm = 1n << 51n;
  const bit7 = 1n << 7n; // AP[2] at stage 1, S2AP[1] at stage 2
  const track = { dirtyMask: dbm | bit7, trackMask: dbm, trackValue: dbm };
  if (s1) return { ...track, dirtyValue: dbm, clean: { set: bit7 }, makeDirty: { clear: bit7 } };
  return { ...track, dirtyValue: dbm | bit7, clean: { clear: bit7 }, makeDirty: { set: bit7 } };
}

/** Validates the config (§1.1 address limits and the concatenation rule) and derives the walk's start level. */
function checkConfig(cfg: Armv8Config): { g: number; startLevel: number; concat: number } {
  const bad = (why: string): never => {
    throw new PtError("EINVAL", `armv8: ${why}`);
  };
  if (!cfg || typeof cfg !== "object") bad("a config { granule, stage, ias, oas } is required");
  const g = GRANULE_LG2[cfg.granule] ?? bad(`granule ${String(cfg.granule)} is not 4096, 16384 or 65536`);
  if (cfg.stage !== 1 && cfg.stage !== 2) bad(`stage ${String(cfg.stage)} is not 1 or 2`);
  const max = g === 16 ? MAX_ADDR_BITS_LPA : MAX_ADDR_BITS;
  const width = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < MIN_ADDR_BITS || v > max)
      bad(
        `${name} ${String(v)} is outside ${MIN_ADDR_BITS}..${max} for the ${cfg.granule >> 10}K granule (52 needs 64K)`,
      );
  };
  width("ias", cfg.ias);
  width("oas", cfg.oas);
  if (PS_ENCODING[cfg.oas] === undefined)
    bad(`oas ${cfg.oas} has no IPS/PS encoding; use 32, 36, 40, 42, 44, 48 or 52`);
  if (cfg.stage === 2 && cfg.ttbr1) bad("ttbr1 is a stage-1 feature; stage 2 has one input range");
  if (cfg.stage === 2 && cfg.ns) bad("ns (NS/NSTable) is a stage-1 feature; Linux rejects ARM_NS at stage 2");

  const bpl = g - 3;
  const levels = Math.ceil((cfg.ias - g) / bpl);
  let startLevel = 4 - levels;
  if (cfg.bbml !== undefined && cfg.bbml !== 0 && cfg.bbml !== 1 && cfg.bbml !== 2)
    bad(`bbml ${String(cfg.bbml)} is not 0, 1 or 2 (SMMU_IDR3.BBML)`);
  let concat = 1;
  if (cfg.stage === 2 && concatMandatory(g, startLevel, cfg.ias, cfg.oas)) {
    // The top would hold 2^pgdBits entries; concatenating turns each into a whole table one level down.
    const pgdEntries = 2 ** (cfg.ias - g - bpl * (levels - 1));
    if (pgdEntries > MAX_CONCAT_TABLES)
      bad(
        `stage 2 ${cfg.granule >> 10}K ias ${cfg.ias} oas ${cfg.oas} needs ${pgdEntries} concatenated tops (max 16)`,
      );
    concat = pgdEntries;
    startLevel++;
  }
  return { g, startLevel, concat };
}

/** §1.1: the current-Linux rule (DDI0487 R_DXBSH / R_SRKBC): concatenate only where the architecture requires it. */
function concatMandatory(g: number, startLevel: number, ias: number, oas: number): boolean {
  if (g === 14 && startLevel === 0) return oas === 48 || ias === 48;
  if (g === 12 && startLevel === 0) return oas === 40 || oas === 42;
  return g === 14 && startLevel === 1 && oas === 40;
}

/** §1.1 leaf sizes per level, plus the §1.2 contiguous sizes when `contig` is on; none at or above the whole VA. */
function levelGeometry(cfg: Armv8Config, g: number, topLevel: number): LevelGeometry[] {
  const bpl = g - 3;
  const out: LevelGeometry[] = [];
  for (let n = 0; n <= topLevel; n++) {
    const item = g + n * bpl;
    const block = n <= 1 || (n === 2 && (g === 12 || (g === 16 && cfg.oas > MAX_ADDR_BITS)));
    const leafLg2: number[] = [];
    if (block) {
      leafLg2.push(item);
      const cont = CONT_ITEMS_LG2[g]![n];
      if (cfg.contig && cont !== undefined) leafLg2.push(item + cont);
    }
    out.push({ itemLg2: item, tableLg2: g, leafLg2: leafLg2.filter((s) => s < cfg.ias) });
  }
  return out;
}

function describeConfig(cfg: Armv8Config): string {
  const extras: string[] = (["dbm", "contig", "ttbr1", "ns"] as const).filter((k) => cfg[k]);
  if (cfg.bbml) extras.push(`bbml${cfg.bbml}`);
  const base = `${cfg.granule >> 10}K granule, stage ${cfg.stage}, ias ${cfg.ias}, oas ${cfg.oas}`;
  return extras.length ? `${base}, ${extras.join(", ")}` : base;
}

function describeLeaf(s1: boolean, lo: number, hi: number): string {
  const parts: string[] = [];
  if (s1) {
    parts.push(lo & AP_RDONLY ? "RO" : "RW", `attr${(lo >>> ATTR_INDX_SHIFT) & 7}`);
    if (lo & AP_UNPRIV) parts.push("EL0");
    if (lo & NG) parts.push("nG");
    if (lo & NS) parts.push("NS");
  } else {
    parts.push(
      `${lo & S2AP_READ ? "R" : "-"}${lo & S2AP_WRITE ? "W" : "-"}`,
      `memattr${((lo >>> MEMATTR_SHIFT) & 15).toString(2).padStart(4, "0")}`,
    );
  }
  parts.push(["NSH", "SH?", "OSH", "ISH"][(lo >>> 8) & 3]!);
  if ((lo & AF) === 0) parts.push("!AF");
  if (hi & (PXN | UXN)) parts.push("XN");
  if (hi & DBM) {
    const dirty = s1 ? (lo & AP_RDONLY) === 0 : (lo & S2AP_WRITE) !== 0;
    parts.push(dirty ? "DBM dirty" : "DBM clean");
  }
  if (hi & CONT) parts.push("CONT");
  return parts.join(" ");
}

/** §1.1 TCR/VTCR: what a driver writes into the CD (stage 1) or STE (stage 2) for this table. */
function hwInfo(
  cfg: Armv8Config,
  g: number,
  startLevel: number,
  concat: number,
  root: bigint,
): Record<string, unknown> {
  // Walks are taken as coherent (SMMUv3 with COHACC): inner-shareable, write-back walk attributes.
  const walk = { sh: 3, irgn: 1, orgn: 1 };
  const ps = PS_ENCODING[cfg.oas]!;
  const tg0 = g === 12 ? 0 : g === 16 ? 1 : 2;
  const dbm = cfg.dbm === true;
  if (cfg.stage === 2) {
    // VTCR.SL0 counts down from a base that is one higher for the 4K granule.
    const sl = startLevel + (g === 12 ? 1 : 0);
    return {
      stage: 2,
      startLevel,
      vttbr: root,
      t0sz: 64 - cfg.ias,
      tg0,
      ps,
      sl0: ~sl & 3,
      concatenatedTables: concat,
      ...walk,
      hd: dbm,
      ha: dbm,
    };
  }
  const tsz = 64 - cfg.ias;
  const range = cfg.ttbr1
    ? { ttbr1: true, t1sz: tsz, tg1: g === 12 ? 2 : g === 16 ? 3 : 1 }
    : { t0sz: tsz, tg0 };
  return { stage: 1, startLevel, ttbr: root, ...range, ips: ps, mair: MAIR, ...walk, hd: dbm, ha: dbm };
}

/** Configurations the conformance suite runs the format in (generic_pt's kunit_fmt_cfgs). */
export const ARMV8_TEST_CONFIGS: readonly Armv8Config[] = [
  { granule: 4096, stage: 1, ias: 48, oas: 48, dbm: true },
  { granule: 4096, stage: 1, ias: 39, oas: 44, contig: true, dbm: true, bbml: 2 },
  { granule: 16384, stage: 1, ias: 47, oas: 48, contig: true },
  { granule: 65536, stage: 1, ias: 52, oas: 52, dbm: true },
  { granule: 4096, stage: 2, ias: 40, oas: 40, dbm: true },
  { granule: 16384, stage: 2, ias: 40, oas: 40, contig: true },
  { granule: 65536, stage: 2, ias: 48, oas: 48, bbml: 2 },
  { granule: 4096, stage: 1, ias: 39, oas: 48, ttbr1: true, ns: true },
];
