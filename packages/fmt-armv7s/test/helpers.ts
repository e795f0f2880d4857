// ARMv7 short-descriptor test helpers: raw words, the L1 entry of an IOVA, and the walker over a page
// table. Nothing here encodes an entry: expected values are built in each test from literal bits.
// Memory, finish and the PtError checks come from @genpt/conformance.
import { walkCtx } from "@genpt/conformance";
import type { PageTable, WalkResult } from "@genpt/core";
import { type Armv7sWalkerConfig, armv7sWalker } from "../src/index.js";

export const bit = (n: number): number => 2 ** n;

/** Reads the 32-bit word at a byte address, as the hardware sees it. */
export function word(pt: PageTable<unknown>, pa: bigint | number): number {
  return pt.mem.readU32(BigInt(pa));
}

/** The L1 (top) entry translating `iova`. */
export function l1Entry(pt: PageTable<unknown>, iova: bigint): number {
  return word(pt, pt.info().root + (iova >> 20n) * 4n);
}

/** Translates one access with a fresh walker over the raw memory of `pt`. */
export function walk(
  pt: PageTable<unknown>,
  iova: bigint,
  access: "read" | "write" | "exec" = "read",
  cfg: Armv7sWalkerConfig = {},
): WalkResult {
  return armv7sWalker(cfg).translate(pt.mem, walkCtx(pt), iova, access);
}
