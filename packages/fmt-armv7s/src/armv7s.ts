// ARMv7 short-descriptor IOMMU page tables ("v7s"), as Linux's io-pgtable-arm-v7s builds them, with the
// MediaTek extensions. Spec: reference/formats.md §2: §2.1 geometry, §2.2 entry types, §2.3 attribute
// positions, §2.4 replicated entries, §2.5 Linux's default encoding and the TTBR/PRRR/NMRR values.
//
// ARM numbers its levels from the top; generic_pt from the bottom:
//   ARM level 1 (L1: 4096 entries in 16 KiB; MTK ias 34: 16384 in 64 KiB) = generic_pt level 1 (the top):
//     1M sections, 16M supersections (16 identical copies), or pointers to L2 tables.
//   ARM level 2 (L2: 256 entries in 1 KiB, four to a 4 KiB frame)        = generic_pt level 0:
//     4K small pages, 64K large pages (16 identical copies).
// Entries are 32 bits, so the core's hi word is always 0.
import {
  defineFormat,
  EMPTY,
  type EntryKind,
  type Geometry,
  LEAF,
  Prot,
  PtError,
  type PtFormat,
  TABLE,
} from "@genpt/core";

// Geometry (§2.1).
const GRANULE_LG2 = 12;
const L2_TABLE_LG2 = 10;
const SECTION_LG2 = 20;
const LARGE_LG2 = 16;
const SUPERSECTION_LG2 = 24;
const VA_BITS = 32;
const MTK_VA_BITS = 34;
const OA_BITS = 32;
const MTK_OA_BITS = 35;
const TWO32 = 2 ** 32;

// Entry type, bits [1:0] (§2.2). An entry is valid when they are not both 0.
const TYPE_MASK = 0x3;
const L1_TABLE = 0x1;
const L1_SECTION = 0x2; // Linux writes 10; 11 would add PXN, which Linux never sets
const L2_LARGE = 0x1;
const L2_SMALL = 0x2; // 1x: bit 0 is then XN

// The 8-bit attribute block (§2.3): the same order at L1 [17:10] and L2 [11:4].
const BLK_AF = 1 << 0; // AP0, the access flag in the simplified AP model
const BLK_AP1 = 1 << 1; // unprivileged access
const BLK_TEX = 0x7 << 2;
const BLK_TEX1 = 1 << 2; // TEX = 001: the TEX-remap index of normal memory
const BLK_AP2 = 1 << 5; // read-only
const BLK_S = 1 << 6;
const BLK_NG = 1 << 7;
const L1_BLK_SHIFT = 10;
const L2_BLK_SHIFT = 4;
const BLK_PERMS = BLK_AF | BLK_AP1 | BLK_AP2;

// Memory-type and leaf-only bits.
const B = 1 << 2;
const C = 1 << 3;
const SECTION_XN = 1 << 4;
const SMALL_XN = 1 << 0;
const LARGE_XN = 1 << 15; // §2.4: XN moves from bit 0 to bit 15 in a large page
const LARGE_TEX_SHIFT = 12; // §2.4: and TEX from [8:6] to [14:12]
const SUPERSECTION = 1 << 18;
const SECTION_NS = 1 << 19;

// Table descriptors.
const TABLE_NS = 1 << 3; // NSTable
const TABLE_ADDR = 0xfffffc00;

// Output-address fields.
const SMALL_ADDR = 0xfffff000;
const LARGE_ADDR = 0xffff0000;
const SECTION_ADDR = 0xfff00000;
const SUPERSECTION_ADDR = 0xff000000;

// MediaTek: PA bits 32, 33, 34 in PTE bits 9, 4, 5 of every leaf, and of table pointers with TTBR_EXT.
const MTK_PA32 = 1 << 9;
const MTK_PA33 = 1 << 4;
const MTK_PA34 = 1 << 5;

/** The leaf value without its address, one per entry type, all placed from one canonical form. */
export interface Armv7sAttrs {
  readonly small: number;
  readonly large: number;
  readonly section: number;
  readonly supersection: number;
}

/** Bits 9, 4, 5 for PA[34:32] given as a 3-bit number. */
function mtkBits(pa3432: number): number {
  return (pa3432 & 1 ? MTK_PA32 : 0) | (pa3432 & 2 ? MTK_PA33 : 0) | (pa3432 & 4 ? MTK_PA34 : 0);
}

/** PA[34:32] back out of bits 9, 4, 5. */
function mtkPa(lo: number): number {
  return (lo & MTK_PA32 ? 1 : 0) | (lo & MTK_PA33 ? 2 : 0) | (lo & MTK_PA34 ? 4 : 0);
}

/**
 * Places the canonical attributes (the 8-bit block, XN, B|C) into each entry type: the block sits at
 * [11:4] in small pages and [17:10] in sections; a large page moves TEX and XN (§2.4); a supersection is a
 * section with bit 18 (§2.4).
 */
function place(blk: number, xn: boolean, bc: number, ns: boolean): Armv7sAttrs {
  const section = (blk << L1_BLK_SHIFT) | (xn ? SECTION_XN : 0) | bc | L1_SECTION | (ns ? SECTION_NS : 0);
  const tex = (blk & BLK_TEX) >>> 2;
  return {
    small: (blk << L2_BLK_SHIFT) | (xn ? SMALL_XN : 0) | bc | L2_SMALL,
    large:
      ((blk & ~BLK_TEX) << L2_BLK_SHIFT) | (tex << LARGE_TEX_SHIFT) | (xn ? LARGE_XN : 0) | bc | L2_LARGE,
    section,
    supersection: section | SUPERSECTION,
  };
}

/** Which entry type a leaf of `sizeLg2` bytes is. */
function leafAttr(a: Armv7sAttrs, sizeLg2: number): number {
  if (sizeLg2 === GRANULE_LG2) return a.small;
  if (sizeLg2 === LARGE_LG2) return a.large;
  if (sizeLg2 === SECTION_LG2) return a.section;
  return a.supersection;
}

function kind(lo: number, _hi: number, level: number): EntryKind {
  const type = lo & TYPE_MASK;
  if (type === 0) return EMPTY;
  return level === 1 && type === L1_TABLE ? TABLE : LEAF;
}

function leafLg2(lo: number, _hi: number, level: number): number {
  if (level === 0) return lo & L2_SMALL ? GRANULE_LG2 : LARGE_LG2;
  return lo & SUPERSECTION ? SUPERSECTION_LG2 : SECTION_LG2;
}

/** The entry's address field in granules, without MTK bits. */
function leafAddr(lo: number, level: number): number {
  if (level === 0) return ((lo & L2_SMALL ? SMALL_ADDR : LARGE_ADDR) & lo) >>> GRANULE_LG2;
  return ((lo & SUPERSECTION ? SUPERSECTION_ADDR : SECTION_ADDR) & lo) >>> GRANULE_LG2;
}

/** The canonical attributes of a leaf: the attribute block, XN and B|C, wherever this type keeps them. */
function canonical(lo: number, level: number): { blk: number; xn: boolean; bc: number } {
  const bc = lo & (B | C);
  if (level === 1) return { blk: (lo >>> L1_BLK_SHIFT) & 0xff, xn: (lo & SECTION_XN) !== 0, bc };
  if (lo & L2_SMALL) return { blk: (lo >>> L2_BLK_SHIFT) & 0xff, xn: (lo & SMALL_XN) !== 0, bc };
  const tex = ((lo >>> LARGE_TEX_SHIFT) & 0x7) << 2;
  return { blk: ((lo >>> L2_BLK_SHIFT) & 0xff & ~BLK_TEX) | tex, xn: (lo & LARGE_XN) !== 0, bc };
}

// ---------------------------------------------------------------------------------------------------
// The IOMMU-facing part: configuration, prot, and what the driver programs.

/** Configuration of the v7s format; every field defaults to false, as in Linux without quirks. */
export interface Armv7sConfig {
  /** Allow 16M supersections (Linux uses them only when the caller's bitmap has SZ_16M). */
  readonly supersections?: boolean;
  /** IO_PGTABLE_QUIRK_ARM_MTK_EXT: PA bits 32-34 in PTE bits 9/4/5; ias 34, oas 35. Requires noPerms. */
  readonly mtkExt?: boolean;
  /** IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT: tables may sit anywhere below 2^35. Requires mtkExt. */
  readonly ttbrExt?: boolean;
  /** IO_PGTABLE_QUIRK_ARM_NS: NS on sections, NSTable on table pointers. */
  readonly ns?: boolean;
  /** IO_PGTABLE_QUIRK_NO_PERMS: no AF, AP1, AP2 or XN. */
  readonly noPerms?: boolean;
}

const CONFIG_KEYS = ["supersections", "mtkExt", "ttbrExt", "ns", "noPerms"] as const;

function checkConfig(cfg: Armv7sConfig): void {
  const bad = (why: string) => {
    throw new PtError("EINVAL", `armv7s: ${why}`);
  };
  if (cfg === null || typeof cfg !== "object") bad(`config ${String(cfg)} must be an object`);
  for (const [k, v] of Object.entries(cfg)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k))
      bad(`unknown option "${k}" (allowed: ${CONFIG_KEYS.join(", ")})`);
    if (v !== undefined && typeof v !== "boolean") bad(`option ${k} = ${String(v)} must be a boolean`);
  }
  // The MTK PA bits sit where AF/AP1/AP2 (and section XN) would go, so Linux refuses them with permissions.
  if (cfg.mtkExt && !cfg.noPerms) bad("mtkExt requires noPerms (PA bits 32-34 collide with AP0/AP1/AP2/XN)");
  // Only MTK_EXT decodes the PA bits back out of an entry, so TTBR_EXT on its own would lose them.
  if (cfg.ttbrExt && !cfg.mtkExt) bad("ttbrExt requires mtkExt (table PA bits 32-34 use the MTK encoding)");
}

// TTBR fields (§2.5): S, NOS, and IRGN/ORGN write-back write-allocate for a coherent walker.
const TTBR_S = 1 << 1;
const TTBR_NOS = 1 << 5;
const RGN_WBWA = 1;
const TTBR_ORGN_WBWA = RGN_WBWA << 3;
const TTBR_IRGN_WBWA = ((RGN_WBWA & 1) << 6) | ((RGN_WBWA & 2) >> 1); // IRGN is split: bits 6 and 0
const TTBR_EXT_PA = 0x7; // TTBR_EXT: bits [2:0] hold the L1 table's PA[34:32]

// TEX remap: index 1 Device, 4 Normal (NMRR leaves it non-cacheable), 7 Normal write-back write-allocate.
const PRRR_DEVICE = 1;
const PRRR_NORMAL = 2;
const prrrTr = (n: number, type: number) => type << (2 * n);
const PRRR_DS0 = 1 << 16;
const PRRR_DS1 = 1 << 17;
const PRRR_NS1 = 1 << 19;
const PRRR_NOS7 = 1 << (24 + 7);
const PRRR_TYPES = prrrTr(1, PRRR_DEVICE) | prrrTr(4, PRRR_NORMAL) | prrrTr(7, PRRR_NORMAL);
const PRRR = (PRRR_TYPES | PRRR_DS0 | PRRR_DS1 | PRRR_NS1 | PRRR_NOS7) >>> 0;
const NMRR = ((RGN_WBWA << 14) | (RGN_WBWA << 30)) >>> 0; // IR7, OR7

/**
 * The ARMv7 short-descriptor format of Linux's io-pgtable-arm-v7s.
 *
 * @example
 * const pt = createPageTable(armv7s({ supersections: true }), { mem });
 * pt.map(0x100_0000n, 0x4000_0000n, 0x100_0000n, Prot.READ | Prot.WRITE); // one 16M supersection
 */
export function armv7s(config: Armv7sConfig = {}): PtFormat<Armv7sAttrs> {
  checkConfig(config);
  const mtk = config.mtkExt === true;
  const ttbrExt = config.ttbrExt === true;
  const ns = config.ns === true;
  const perms = config.noPerms !== true;
  const vaBits = mtk ? MTK_VA_BITS : VA_BITS;
  const l1Lg2 = vaBits - SECTION_LG2 + 2;
  const geometry: Geometry = {
    entryBytes: 4,
    levels: [
      { itemLg2: GRANULE_LG2, tableLg2: L2_TABLE_LG2, leafLg2: [GRANULE_LG2, LARGE_LG2] },
      {
        itemLg2: SECTION_LG2,
        tableLg2: l1Lg2,
        leafLg2: config.supersections ? [SECTION_LG2, SUPERSECTION_LG2] : [SECTION_LG2],
      },
    ],
    topLevel: 1,
    maxTopLevel: 1,
    vaBits,
    oaBits: mtk ? MTK_OA_BITS : OA_BITS,
    topTableLg2: l1Lg2,
    // Table pointers hold 32 address bits, plus PA[34:32] in bits 9/4/5 with TTBR_EXT.
    tableAddressBits: ttbrExt ? MTK_OA_BITS : 32,
  };
  const attrsFromCanonical = (c: { blk: number; xn: boolean; bc: number }) =>
    perms ? place(c.blk, c.xn, c.bc, ns) : place(c.blk & ~BLK_PERMS, false, c.bc, ns);

  return defineFormat<Armv7sAttrs>({
    name: "armv7s",
    config: [
      `4K/64K/1M${config.supersections ? "/16M" : ""}`,
      `ias ${vaBits}, oas ${geometry.oaBits}`,
      ...(mtk ? ["MTK ext"] : []),
      ...(ttbrExt ? ["TTBR ext"] : []),
      ...(ns ? ["NS"] : []),
      ...(perms ? [] : ["no perms"]),
    ].join(", "),
    geometry,
    kind,
    tablePa: (lo) => ((lo & TABLE_ADDR) >>> 0) + (ttbrExt ? mtkPa(lo) * TWO32 : 0),
    tableLo: (pa) => {
      const high = ttbrExt ? mtkBits(Math.floor(pa / TWO32)) : 0;
      return ((pa & TABLE_ADDR) | L1_TABLE | (ns ? TABLE_NS : 0) | high) >>> 0;
    },
    leafOa: (lo, _hi, level) => leafAddr(lo, level) + (mtk ? mtkPa(lo) * 2 ** (32 - GRANULE_LG2) : 0),
    leafLg2,
    // Without MTK the core keeps every PA below 2^32, so oa >>> 20 is 0 and mtkBits() adds nothing.
    leafLo: (oa, sizeLg2, _level, a) =>
      ((oa << GRANULE_LG2) | leafAttr(a, sizeLg2) | mtkBits(oa >>> (32 - GRANULE_LG2))) >>> 0,
    attrsFromEntry: (lo, _hi, level) => attrsFromCanonical(canonical(lo, level)),
    protToAttrs: (prot) => {
      // §2.5: nG and S always; TEX 001 unless MMIO; AF always, AP1 unless PRIV, AP2 whenever WRITE is absent.
      let blk = BLK_NG | BLK_S | (prot & Prot.MMIO ? 0 : BLK_TEX1);
      if (perms) blk |= BLK_AF | (prot & Prot.PRIV ? 0 : BLK_AP1) | (prot & Prot.WRITE ? 0 : BLK_AP2);
      const bc = prot & Prot.MMIO ? B : prot & Prot.CACHE ? B | C : 0;
      return place(blk, perms && (prot & Prot.NOEXEC) !== 0, bc, ns);
    },
    describeLeaf: (lo, _hi, level) => {
      const c = canonical(lo, level);
      const tex = c.blk & BLK_TEX ? (c.bc === (B | C) ? "CACHE" : "NC") : "MMIO";
      const parts = [tex];
      if (perms) parts.unshift(c.blk & BLK_AP2 ? "RO" : "RW");
      if (perms && c.xn) parts.push("XN");
      if (perms && !(c.blk & BLK_AP1)) parts.push("PRIV");
      if (level === 1 && lo & SECTION_NS) parts.push("NS");
      return parts.join(" ");
    },
    hwInfo: (root) => {
      const low = Number(root & 0xffffffffn);
      const coherent = (low | TTBR_S | TTBR_NOS | TTBR_IRGN_WBWA | TTBR_ORGN_WBWA) >>> 0;
      const noncoherent = (low | TTBR_S) >>> 0; // IRGN/ORGN 0: non-cacheable walks
      // TTBR_EXT overwrites bits [2:0] (S and IRGN[1] among them) with the L1 table's PA[34:32].
      const ext = (t: number) => (ttbrExt ? ((t & ~TTBR_EXT_PA) | Number((root >> 32n) & 7n)) >>> 0 : t);
      return { ttbr: ext(coherent), ttbrNoncoherent: ext(noncoherent), tcr: 0, prrr: PRRR, nmrr: NMRR };
    },
  });
}

/** Configurations a conformance run should cover (Linux's kunit_fmt_cfgs): plain, NS with 16M, MTK, MTK + TTBR_EXT. */
export const armv7sTestConfigs: readonly Armv7sConfig[] = [
  {},
  { supersections: true, ns: true },
  { supersections: true, mtkExt: true, noPerms: true },
  { supersections: true, mtkExt: true, ttbrExt: true, noPerms: true },
];
