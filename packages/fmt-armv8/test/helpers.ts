// ARMv8-only test helpers: the walker of a page table and the leaf descriptor it finds. Nothing here
// encodes an entry: expected values are built in each test from literal bits. Memory, finish and the
// PtError checks come from @genpt/conformance.
import { walkCtx } from "@genpt/conformance";
import type { Access, PageTable, WalkResult, WalkStep } from "@genpt/core";
import { type Armv8Config, armv8Walker } from "../src/index.js";

export const bit = (n: number): bigint => 1n << BigInt(n);

/** Translates one access with a fresh walker over the raw memory of `pt`, configured like `cfg`. */
export function walk(
  pt: PageTable<unknown>,
  cfg: Armv8Config,
  iova: bigint,
  access: Access = "read",
  accessDirty = false,
  steps?: WalkStep[],
): WalkResult {
  return armv8Walker(cfg).translate(pt.mem, walkCtx(pt, accessDirty), iova, access, steps);
}

/** The raw 64-bit leaf descriptor that translates `iova`, found by the walker. */
export function leafAt(
  pt: PageTable<unknown>,
  cfg: Armv8Config,
  iova: bigint,
): { pte: bigint; addr: bigint } {
  let r = walk(pt, cfg, iova, "read", false);
  if (!r.ok && r.kind === "permission") r = walk(pt, cfg, iova, "write", false); // stage-2 write-only
  if (!r.ok) throw new Error(`no leaf at 0x${iova.toString(16)}: ${r.kind} ${r.detail}`);
  return { pte: pt.mem.readU64(r.pteAddr), addr: r.pteAddr };
}
