// TestTable: a page table under test with what the cases keep asking of it: its regions and page sizes,
// its recorded flushes, the hardware walker's view, and "this call must fail and change nothing".
import type { AllocStats } from "@genpt/alloc";
import type {
  Access,
  HardwareWalker,
  PageTable,
  PtError,
  PtErrorCode,
  PtInfo,
  WalkerMemory,
  WalkResult,
} from "@genpt/core";
import { expectPtError, fail, show } from "./assert.js";
import type { RecordingDriver } from "./driver.js";
import { type Region, regionsOf } from "./shape.js";

/** Everything a failed call must leave as it was. */
export interface Snapshot {
  /** The memory hash; undefined when the snapshot skipped it (hashing 1 MiB chunks is the costly part). */
  readonly hash: string | undefined;
  readonly stats: AllocStats;
  readonly root: bigint;
  readonly topLevel: number;
}

export class TestTable {
  /** The aperture's regions; they do not change as a dynamic top grows. */
  readonly regions: Region[];
  /** Every page size map may use, ascending. */
  readonly sizes: readonly bigint[];
  readonly granule: bigint;

  constructor(
    readonly pt: PageTable<unknown>,
    readonly rec: RecordingDriver,
    readonly walker: HardwareWalker | undefined,
  ) {
    const info = pt.info();
    this.regions = regionsOf(info, pt.format);
    this.sizes = info.pgsizes;
    this.granule = info.granule;
  }

  info(): PtInfo {
    return this.pt.info();
  }

  /** The hardware walker's translation of one access over the raw memory; A/D updates land in it. */
  walk(iova: bigint, access: Access = "read", accessDirty = false): WalkResult {
    if (!this.walker) return fail("this case needs a hardware walker");
    const { root, topLevel } = this.pt.info();
    return this.walker.translate(this.pt.mem, { root, topLevel, accessDirty }, iova, access);
  }

  /**
   * The walker's translation with hardware A/D updates on, over a private overlay of memory, so a check
   * can make any access the mapping allows (a DBM-clean page needs the update to be written) and still
   * change nothing.
   */
  probe(iova: bigint, access: Access): WalkResult {
    if (!this.walker) return fail("this case needs a hardware walker");
    const { root, topLevel } = this.pt.info();
    return this.walker.translate(overlay(this.pt.mem), { root, topLevel, accessDirty: true }, iova, access);
  }

  snapshot(hash = true): Snapshot {
    return snapshotOf(this.pt, hash);
  }

  /** Fails unless memory, allocator and top are exactly as in `before`. */
  unchangedSince(before: Snapshot, what: string, iova?: bigint): void {
    unchangedSince(this.pt, before, what, iova);
  }

  /**
   * `fn` must throw PtError `code` and leave memory, allocator and top untouched. `hash: false` skips the
   * memory hash, for loops that check it on a sample of their calls.
   */
  rejects(
    code: PtErrorCode,
    what: string,
    fn: (pt: PageTable<unknown>) => unknown,
    iova?: bigint,
    opts: { hash?: boolean } = {},
  ): void {
    rejectsUnchanged(this.pt, code, what, () => fn(this.pt), iova, opts.hash !== false);
  }
}

/** Memory hash (unless `hash` is false), allocator stats and top of `pt`, for "nothing changed" checks. */
export function snapshotOf(pt: PageTable<unknown>, hash = true): Snapshot {
  // The published top, not info(): info() also checks that a driver could program it, and may throw.
  const top = pt.internals.top;
  const stats = pt.allocator.stats();
  return { hash: hash ? pt.mem.hash() : undefined, stats, root: BigInt(top.pa), topLevel: top.level };
}

/** Fails unless memory (when `before` has a hash), allocator and top of `pt` are exactly as in `before`. */
export function unchangedSince(pt: PageTable<unknown>, before: Snapshot, what: string, iova?: bigint): void {
  const now = snapshotOf(pt, before.hash !== undefined);
  if (now.hash !== before.hash)
    fail(`${what}: table memory changed (hash ${before.hash} -> ${now.hash})`, iova);
  const a = show(before.stats);
  const b = show(now.stats);
  if (a !== b) fail(`${what}: allocator stats changed from ${a} to ${b}`, iova);
  if (now.root !== before.root || now.topLevel !== before.topLevel)
    fail(
      `${what}: top changed from ${show(before.root)}@${before.topLevel} to ${show(now.root)}@${now.topLevel}`,
      iova,
    );
}

/** `fn` must throw PtError `code` and leave `pt`'s memory, allocator and top untouched; returns the error. */
export function rejectsUnchanged(
  pt: PageTable<unknown>,
  code: PtErrorCode,
  what: string,
  fn: () => unknown,
  iova?: bigint,
  hash = true,
): PtError {
  const before = snapshotOf(pt, hash);
  const e = expectPtError(fn, code, what, iova);
  unchangedSince(pt, before, `${what} (after PtError ${code})`, iova);
  return e;
}

/** Reads through to `mem`; writes stay in the overlay (32-bit words by address). */
function overlay(mem: WalkerMemory): WalkerMemory {
  const words = new Map<bigint, number>();
  const read32 = (pa: bigint) => words.get(pa) ?? mem.readU32(pa);
  const write32 = (pa: bigint, v: number) => words.set(pa, v >>> 0);
  return {
    readU32: read32,
    writeU32: write32,
    readU64: (pa) => (BigInt(read32(pa + 4n)) << 32n) | BigInt(read32(pa)),
    writeU64: (pa, v) => {
      write32(pa, Number(v & 0xffff_ffffn));
      write32(pa + 4n, Number((v >> 32n) & 0xffff_ffffn));
    },
  };
}
