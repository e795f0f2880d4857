// mock32: a 4-byte test format with sub-page tables and a fixed, sub-64-byte-rounded top. Levels: 0
// (4 KiB items, 1 KiB tables), 1 (1 MiB items, 1 KiB tables), top 2 (256 MiB items; 16 entries in a
// 64-byte table over a 32-bit VA). Multi-item leaves keep each item's own OA, like the ARM contiguous hint.
//
// Entry: bit 0 P, bit 1 L (leaf, above level 0), bit 2 R, bit 3 W, bit 4 D, bits [7:5] log2 item count,
// bits [31:12] page address of the item, or bits [31:10] table address.
import { defineFormat, EMPTY, type Geometry, LEAF, type PtFormat, TABLE } from "../format.js";
import { Prot } from "../prot.js";
import type { MockAttrs } from "./mock64.js";

const P = 1;
const L = 2;
const R = 4;
const W = 8;
const D = 16;
const CONTIG_SHIFT = 5;

const geometry: Geometry = {
  entryBytes: 4,
  levels: [
    { itemLg2: 12, tableLg2: 10, leafLg2: [12, 13, 16] },
    { itemLg2: 20, tableLg2: 10, leafLg2: [20, 24] },
    { itemLg2: 28, tableLg2: 10, leafLg2: [28] },
  ],
  topLevel: 2,
  maxTopLevel: 2,
  vaBits: 32,
  oaBits: 32,
};

const itemLg2 = (level: number) => geometry.levels[level]!.itemLg2;

export function mock32(): PtFormat<MockAttrs> {
  return defineFormat<MockAttrs>({
    name: "mock32",
    config: "4-byte mock, 1 KiB tables, 64-byte top",
    geometry,
    replicatedContig: false,
    kind: (lo, _hi, level) => ((lo & P) === 0 ? EMPTY : level === 0 || (lo & L) !== 0 ? LEAF : TABLE),
    tablePa: (lo) => (lo & 0xfffffc00) >>> 0,
    tableLo: (pa) => (pa | P) >>> 0,
    leafOa: (lo, _hi, level) => {
      const oa = lo >>> 12;
      const items = 1 << ((lo >>> CONTIG_SHIFT) & 7);
      const units = items << (itemLg2(level) - 12);
      return oa - (oa % units);
    },
    leafLg2: (lo, _hi, level) => itemLg2(level) + ((lo >>> CONTIG_SHIFT) & 7),
    leafLo: (oa, sizeLg2, level, a) =>
      ((oa << 12) | P | (level > 0 ? L : 0) | ((sizeLg2 - itemLg2(level)) << CONTIG_SHIFT) | a.bits) >>> 0,
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
  });
}
