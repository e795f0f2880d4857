// A raw reader for the x86-style radix tree (4 KiB tables of 512 eight-byte entries, 9 IOVA bits a
// level, the next table in bits [51:12]: AMD v1, VT-d second stage). It reads tables the way a person
// with the spec would, sharing nothing with a format or its walker, so tests can check encodings by it.
import type { PageTable } from "@genpt/core";

/** Bits [51:12] of an entry: the next table or the page. */
const ADDR = ((1n << 52n) - 1n) & ~0xfffn;

/**
 * Byte address of the slot translating `iova` in the table at generic `level`, following table pointers
 * from the top. Each index is 9 bits of the IOVA above 12 + 9 * level.
 */
export function slotAddr(pt: PageTable<unknown>, iova: bigint, level: number): bigint {
  const { root, topLevel } = pt.info();
  let table = root;
  for (let l = topLevel; ; l--) {
    const at = table + ((iova >> BigInt(12 + 9 * l)) & 0x1ffn) * 8n;
    if (l === level) return at;
    table = pt.mem.readU64(at) & ADDR;
  }
}

/** The raw 64-bit slot value translating `iova` at `level`. */
export function rawAt(pt: PageTable<unknown>, iova: bigint, level: number): bigint {
  return pt.mem.readU64(slotAddr(pt, iova, level));
}
