// Shared fixtures for the core's tests: a PhysMem and page table per test, and state fingerprints.
import { PhysMem } from "@genpt/alloc";
import { type CreateOptions, createPageTable, type PageTable, type PtFormat } from "@genpt/core";

export function newTable<A>(
  fmt: PtFormat<A>,
  opts: Partial<CreateOptions> = {},
  size = 64n << 20n,
): PageTable<A> {
  const mem = opts.mem ?? new PhysMem({ base: 0x4000_0000n, size });
  return createPageTable(fmt, { ...opts, mem });
}

/** Everything a failed operation must leave untouched. */
export function fingerprint(pt: PageTable<unknown>): { hash: string; stats: unknown } {
  return { hash: pt.mem.hash(), stats: pt.allocator.stats() };
}

export function finish(pt: PageTable<unknown>): void {
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
}

/** Expects `fn` to throw a PtError with `code`, and returns its message. */
export function ptErrorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    if (err.name === "PtError") return { code: err.code!, message: err.message! };
    throw e;
  }
  throw new Error("expected a PtError, nothing was thrown");
}
