// Test helpers: fresh memory, a raw slot finder that reads tables the way a person with the spec would
// (sharing nothing with the format or the walker), and the "PtError and nothing changed" check.
import { PhysMem } from "@genpt/alloc";
import { type PageTable, PtError, type PtErrorCode } from "@genpt/core";
import { expect } from "vitest";

export const KiB = 1n << 10n;
export const MiB = 1n << 20n;
export const GiB = 1n << 30n;

export function newMem(): PhysMem {
  return new PhysMem({ base: 0x8000_0000n, size: 64n << 20n });
}

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

/** Expects fn to throw a PtError with `code`, leaving memory and the allocator exactly as they were. */
export function expectUnchanged(
  pt: PageTable<unknown>,
  fn: () => unknown,
  code: PtErrorCode,
  msg?: RegExp,
): void {
  const stats = pt.allocator.stats();
  const hash = pt.mem.hash();
  const top = pt.info().topLevel;
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a PtError").toBeInstanceOf(PtError);
  expect((caught as PtError).code).toBe(code);
  if (msg) expect((caught as PtError).message).toMatch(msg);
  expect(pt.allocator.stats()).toEqual(stats);
  expect(pt.mem.hash()).toBe(hash);
  expect(pt.info().topLevel).toBe(top);
}

/** Ends a test: frees every table and checks the allocator holds nothing of this table's. */
export function finish(pt: PageTable<unknown>): void {
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
}
