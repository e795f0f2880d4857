// Shared test helpers: memories, the walker of a page table, unchanged-state checks and the PtError
// matcher. Nothing here encodes an entry: expected values are built in each test from literal bits.
import { type AllocStats, PhysMem } from "@genpt/alloc";
import { type Access, type PageTable, PtError, type WalkResult, type WalkStep } from "@genpt/core";
import { expect } from "vitest";
import { type Armv8Config, armv8Walker } from "../src/index.js";

/** Table memory at 2 GiB. */
export function tableMem(size = 64n << 20n): PhysMem {
  return new PhysMem({ base: 0x8000_0000n, size });
}

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
  const { root, topLevel } = pt.info();
  const walker = armv8Walker({
    granule: cfg.granule,
    stage: cfg.stage,
    ias: cfg.ias,
    oas: cfg.oas,
    ttbr1: cfg.ttbr1,
  });
  return walker.translate(pt.mem, { root, topLevel, accessDirty }, iova, access, steps);
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

export interface Frozen {
  readonly hash: string;
  readonly stats: AllocStats;
}

export function freeze(pt: { mem: PhysMem; allocator: { stats(): AllocStats } }): Frozen {
  return { hash: pt.mem.hash(), stats: pt.allocator.stats() };
}

/** Runs `fn`, which must throw a PtError with `code` (and a message matching `msg`). */
export function expectPtError(fn: () => unknown, code: string, msg?: RegExp): PtError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(PtError);
  const e = caught as PtError;
  expect(e.code).toBe(code);
  if (msg) expect(e.message).toMatch(msg);
  return e;
}

/** Ends a test: free every table and prove none of this table's leaked. */
export function finish(pt: PageTable<unknown>): void {
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
}
