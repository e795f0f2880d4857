// Shared test helpers: memories, the walker context of a page table, unchanged-state checks, and the
// PtError matcher. Nothing here encodes an entry: expected values are built in each test from literal bits.
import { type AllocStats, PhysMem } from "@genpt/alloc";
import { type PageTable, PtError, type WalkResult } from "@genpt/core";
import { expect } from "vitest";
import { type Armv7sWalkerConfig, armv7sWalker } from "../src/index.js";

/** 64 MiB of table memory at 2 GiB: below 4 GiB, as v7s without TTBR_EXT needs. */
export function lowMem(size = 64n << 20n): PhysMem {
  return new PhysMem({ base: 0x8000_0000n, size });
}

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
  const info = pt.info();
  return armv7sWalker(cfg).translate(
    pt.mem,
    { root: info.root, topLevel: info.topLevel, accessDirty: false },
    iova,
    access,
  );
}

export interface Frozen {
  readonly hash: string;
  readonly stats: AllocStats;
}

/** The raw memory hash (of the first `span` bytes, or all of it) and the allocator's stats. */
export function freeze(pt: { mem: PhysMem; allocator: { stats(): AllocStats } }, span?: bigint): Frozen {
  return {
    hash: span === undefined ? pt.mem.hash() : pt.mem.hash(pt.mem.base, span),
    stats: pt.allocator.stats(),
  };
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

/** Ends a test: free every table and prove none leaked. */
export function finish(pt: PageTable<unknown>): void {
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
  pt.allocator.assertNoLeaks();
}
