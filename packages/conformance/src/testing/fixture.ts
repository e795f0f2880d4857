// The fixture of a format package's own tests: simulated table memory, a page table in it, and finish(),
// the destroy-and-leak check that ends every test. Size constants live here too.
import { PhysMem } from "@genpt/alloc";
import { type CreateOptions, createPageTable, type PageTable, type PtFormat } from "@genpt/core";

export const KiB = 1n << 10n;
export const MiB = 1n << 20n;
export const GiB = 1n << 30n;
export const TiB = 1n << 40n;

export interface MemOptions {
  /** First byte (default 0x8000_0000: below 4 GiB, as 32-bit table pointers need). */
  readonly base?: bigint;
  /** Bytes, a power of two (default 64 MiB). */
  readonly size?: bigint;
}

/** Fresh simulated physical memory for page tables. */
export function newMem(opts: MemOptions = {}): PhysMem {
  return new PhysMem({ base: opts.base ?? 0x8000_0000n, size: opts.size ?? 64n * MiB });
}

/** A new, empty page table of `format` in fresh memory (or `opts.mem`), created with the other `opts`. */
export function newTable<A>(format: PtFormat<A>, opts: Partial<CreateOptions> = {}): PageTable<A> {
  return createPageTable(format, { ...opts, mem: opts.mem ?? newMem() });
}

/**
 * Ends a test: destroys `pt`, then checks that the allocator holds no table of `pt`'s and, unless
 * `others` says tables of other owners may still be alive in the same memory, no table at all.
 */
export function finish(pt: PageTable<unknown>, others = false): void {
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
  if (!others) pt.allocator.assertNoLeaks();
}
