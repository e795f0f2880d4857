// mock64: an 8-byte test format in the spirit of Linux's amdv1 mock, to prove the core before any real
// format exists. 512-entry tables with a dynamic top (level 2 growing to 4, a 57-bit VA; or to 5, the
// full 64-bit VA); replicated multi-item leaves (2, 16 and 64 items) at levels 0..2; a D bit that W
// entries may set. With a fixed top it can run with a sign-extended VA.
//
// Entry: bit 0 P (present), bit 1 L (leaf, above level 0), bit 2 R, bit 3 W, bit 4 D,
// bits [8:5] log2 of the item count of a multi-item leaf, bits [51:12] table or page address.
import { PtError } from "@genpt/alloc";
import {
  defineFormat,
  EMPTY,
  type Geometry,
  LEAF,
  type LevelGeometry,
  type PtFormat,
  TABLE,
} from "../format.js";
import { Prot } from "../prot.js";

const P = 1;
const L = 2;
const R = 4;
const W = 8;
const D = 16;
const CONTIG_SHIFT = 5;
const TWO32 = 4294967296;

export interface MockAttrs {
  readonly bits: number;
}

function levels(maxTop: number): LevelGeometry[] {
  const out: LevelGeometry[] = [];
  for (let l = 0; l <= maxTop; l++) {
    const item = 12 + 9 * l;
    const leafLg2 = l <= 2 ? [item, item + 1, item + 4, item + 6] : l === 3 ? [item] : [];
    out.push({ itemLg2: item, tableLg2: 12, leafLg2 });
  }
  return out;
}

export interface Mock64Options {
  /** Level of the top at creation, default 2. */
  readonly topLevel?: number;
  /** Highest top level: 4 gives a 57-bit VA, 5 the full 64 bits. Default 4. */
  readonly maxTopLevel?: number;
}

export function mock64(opts: Mock64Options = {}): PtFormat<MockAttrs> {
  const topLevel = opts.topLevel ?? 2;
  const maxTopLevel = opts.maxTopLevel ?? 4;
  if (maxTopLevel < 1 || maxTopLevel > 5)
    throw new PtError("EINVAL", `mock64: maxTopLevel ${maxTopLevel} outside 1..5`);
  if (topLevel < 1 || topLevel > maxTopLevel)
    throw new PtError("EINVAL", `mock64: topLevel ${topLevel} outside 1..${maxTopLevel}`);
  const geometry: Geometry = {
    entryBytes: 8,
    levels: levels(maxTopLevel),
    topLevel,
    maxTopLevel,
    vaBits: Math.min(64, 21 + 9 * maxTopLevel),
    oaBits: 52,
    signExtendable: true,
  };
  const itemLg2 = (level: number) => 12 + 9 * level;
  return defineFormat<MockAttrs>({
    name: "mock64",
    config: `8-byte mock, top level ${topLevel} growing to ${maxTopLevel}`,
    geometry,
    kind: (lo, _hi, level) => ((lo & P) === 0 ? EMPTY : level === 0 || (lo & L) !== 0 ? LEAF : TABLE),
    tablePa: (lo, hi) => ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * TWO32,
    tableLo: (pa) => ((pa % TWO32) | P) >>> 0,
    tableHi: (pa) => Math.floor(pa / TWO32),
    leafOa: (lo, hi) => (lo >>> 12) + (hi & 0xfffff) * 1048576,
    leafLg2: (lo, _hi, level) => itemLg2(level) + ((lo >>> CONTIG_SHIFT) & 15),
    leafLo: (oa, sizeLg2, level, a) =>
      (((oa & 0xfffff) << 12) |
        P |
        (level > 0 ? L : 0) |
        ((sizeLg2 - itemLg2(level)) << CONTIG_SHIFT) |
        a.bits) >>>
      0,
    leafHi: (oa) => Math.floor(oa / 1048576) & 0xfffff,
    attrsFromEntry: (lo) => ({ bits: lo & (R | W) }),
    protToAttrs: (prot) => ({ bits: (prot & Prot.READ ? R : 0) | (prot & Prot.WRITE ? W : 0) }),
    describeLeaf: (lo) => `${lo & R ? "R" : "-"}${lo & W ? "W" : "-"}${lo & D ? " D" : ""}`,
    dirty: {
      dirtyMask: BigInt(D),
      dirtyValue: BigInt(D),
      clean: { clear: BigInt(D) },
      makeDirty: { set: BigInt(D) },
      trackMask: BigInt(W),
      trackValue: BigInt(W),
    },
    hwInfo: (root, top) => ({ mockRoot: root, mockLevels: top + 1 }),
  });
}
