// RISC-V Sv39 and Sv48 page tables, as the RISC-V IOMMU's first stage walks them: the Privileged spec's
// "Sv39" and "Sv48" sections, plus the Svnapot (64 KiB NAPOT pages) and Svpbmt (memory types) extensions.
//
// Levels: spec level 0 (VPN[0], 4 KiB pages) is genpt level 0; VPN[1] (2 MiB megapages) is level 1;
// VPN[2] (1 GiB gigapages) is level 2, the top of Sv39; VPN[3] (512 GiB) is level 3, the top of Sv48.
// Every level may hold a leaf. The VA is sign-extended: bits 63..vaBits-1 all equal bit vaBits-1.
import { defineFormat, EMPTY, type Geometry, LEAF, Prot, PtError, type PtFormat, TABLE } from "@genpt/core";

export type RiscvMode = "sv39" | "sv48";

export interface RiscvConfig {
  readonly mode: RiscvMode;
}

/** Attributes: the flag bits of the low word and the PBMT bits of the high word, computed once per map. */
export interface RiscvAttrs {
  readonly lo: number;
  readonly hi: number;
}

// Geometry. The PPN field (bits 53:10) holds 56-bit PAs; the genpt core caps output addresses at 52 bits.
const GRANULE_LG2 = 12;
const TABLE_LG2 = 12; // 512 entries of 8 bytes at every level
const OA_BITS = 52;
const NAPOT_LG2 = 16; // Svnapot 64 KiB: 16 level-0 items

// Low word (PTE bits 31..0).
const V = 1 << 0;
const R = 1 << 1;
const W = 1 << 2;
const X = 1 << 3;
const U = 1 << 4;
const G = 1 << 5;
const A = 1 << 6;
const D = 1 << 7;
const RWX = R | W | X;
const LEAF_FLAGS = RWX | U | G | A | D;
const PPN_LO_SHIFT = 10; // PPN[21:0] sits in bits 31:10

// High word (PTE bits 63..32).
const PPN_HI_MASK = 0x3fffff; // PPN[43:22] in bits 53:32
const PBMT_MASK = 3 << 29; // bits 62:61
const PBMT_IO = 2 << 29;
const N = 1 << 31; // bit 63: Svnapot

const TWO22 = 2 ** 22;
/** ppn[3:0] of a 64 KiB NAPOT PTE: 0b1000 encodes the size; the real base has those bits clear. */
const NAPOT_PPN_LOW = 8;

function geometryOf(mode: RiscvMode): Geometry {
  const levels = mode === "sv39" ? 3 : 4;
  return {
    entryBytes: 8,
    levels: Array.from({ length: levels }, (_, l) => {
      const itemLg2 = GRANULE_LG2 + 9 * l;
      return { itemLg2, tableLg2: TABLE_LG2, leafLg2: l === 0 ? [itemLg2, NAPOT_LG2] : [itemLg2] };
    }),
    topLevel: levels - 1,
    maxTopLevel: levels - 1,
    vaBits: GRANULE_LG2 + 9 * levels,
    oaBits: OA_BITS,
    signExtendable: true,
  };
}

// Entry operations. A PPN is a granule number, so the core's `oa` unit is the PPN itself.

const ppnOf = (lo: number, hi: number) => (lo >>> PPN_LO_SHIFT) + (hi & PPN_HI_MASK) * TWO22;
const ppnLo = (ppn: number) => (ppn % TWO22) * 2 ** PPN_LO_SHIFT;
const ppnHi = (ppn: number) => Math.floor(ppn / TWO22) & PPN_HI_MASK;

/** V clear is empty; any of R, W, X makes a leaf; V alone points at the next table. */
function kind(lo: number, _hi: number, level: number) {
  if ((lo & V) === 0) return EMPTY;
  if ((lo & RWX) !== 0) return LEAF;
  return level > 0 ? TABLE : EMPTY; // a pointer at level 0 is reserved; hardware faults on it
}

const tablePa = (lo: number, hi: number) => ppnOf(lo, hi) * 2 ** GRANULE_LG2;
const tableLo = (pa: number) => (ppnLo(pa / 2 ** GRANULE_LG2) + V) >>> 0;
const tableHi = (pa: number) => ppnHi(pa / 2 ** GRANULE_LG2);

/** A NAPOT PTE's PPN carries 0b1000 in its low four bits; the entry starts with them clear. */
function leafOa(lo: number, hi: number): number {
  const ppn = ppnOf(lo, hi);
  return (hi & N) !== 0 ? ppn - (ppn % 16) : ppn;
}

const leafLg2 = (_lo: number, hi: number, level: number) =>
  (hi & N) !== 0 ? NAPOT_LG2 : GRANULE_LG2 + 9 * level;

/** Svnapot: every one of the 16 PTEs is the same, with N set and ppn[3:0] = 0b1000. */
const leafPpn = (oa: number, sizeLg2: number) => (sizeLg2 === NAPOT_LG2 ? oa + NAPOT_PPN_LOW : oa);
const leafLo = (oa: number, sizeLg2: number, _level: number, a: RiscvAttrs) =>
  (ppnLo(leafPpn(oa, sizeLg2)) + V + a.lo) >>> 0;
const leafHi = (oa: number, sizeLg2: number, _level: number, a: RiscvAttrs) =>
  (ppnHi(leafPpn(oa, sizeLg2)) | a.hi | (sizeLg2 === NAPOT_LG2 ? N : 0)) >>> 0;

const attrsFromEntry = (lo: number, hi: number): RiscvAttrs => ({
  lo: lo & LEAF_FLAGS,
  hi: (hi & PBMT_MASK) >>> 0,
});

function describeLeaf(lo: number, hi: number): string {
  const flags = [R, W, X, U, G, A, D].map((b, i) => ((lo & b) !== 0 ? "RWXUGAD"[i] : "-")).join("");
  const pbmt = ["", " NC", " IO", " pbmt=3"][(hi & PBMT_MASK) >>> 29];
  return `${flags}${(hi & N) !== 0 ? " napot" : ""}${pbmt}`;
}

// ---------------------------------------------------------------------------------------------------
// The IOMMU-facing part: prot to attributes, the configuration, and what a driver programs (iosatp).

/**
 * A and D are set at install: a device IOMMU that does not update them would fault on a clear one, and
 * this format offers no dirty tracking (as upstream's riscv format). W without R is a reserved encoding,
 * so WRITE alone is refused rather than widened.
 */
function protToAttrs(prot: number): RiscvAttrs {
  if ((prot & Prot.WRITE) !== 0 && (prot & Prot.READ) === 0)
    throw new PtError(
      "EOPNOTSUPP",
      `riscv: prot ${prot} is write-only; W without R is a reserved PTE encoding`,
    );
  let lo = A;
  if (prot & Prot.READ) lo |= R;
  if (prot & Prot.WRITE) lo |= W | D;
  if (!(prot & Prot.NOEXEC)) lo |= X;
  if (!(prot & Prot.PRIV)) lo |= U; // unprivileged device requests are checked as U-mode accesses
  return { lo, hi: prot & Prot.MMIO ? PBMT_IO : 0 };
}

/** The iosatp a driver programs: MODE 8 (Sv39) or 9 (Sv48) and the root table's PPN. */
function hwInfo(mode: RiscvMode) {
  return (root: bigint) => ({ satpMode: mode === "sv39" ? 8 : 9, satpPpn: root >> 12n });
}

/**
 * A RISC-V Sv39 or Sv48 format. Create page tables with `features: { signExtend: true }`: the VA is
 * sign-extended, so both canonical halves are valid.
 *
 * @example
 * const pt = createPageTable(riscv({ mode: "sv39" }), { mem, features: { signExtend: true } });
 */
export function riscv(config: RiscvConfig = { mode: "sv39" }): PtFormat<RiscvAttrs> {
  const mode = config?.mode;
  if (mode !== "sv39" && mode !== "sv48")
    throw new PtError("EINVAL", `riscv: mode ${JSON.stringify(mode)} is not "sv39" or "sv48"`);
  return defineFormat<RiscvAttrs>({
    name: "riscv",
    config: mode === "sv39" ? "Sv39" : "Sv48",
    geometry: geometryOf(mode),
    kind,
    tablePa,
    tableLo,
    tableHi,
    leafOa,
    leafLg2,
    leafLo,
    leafHi,
    attrsFromEntry,
    protToAttrs,
    describeLeaf,
    hwInfo: hwInfo(mode),
  });
}
