// Allocator accounting: every counter in one Float64Array, so a transaction snapshot is one slice()
// and a rollback one set(), which restores stats() exactly.

/** What {@link LevelAllocator.stats} reports. */
export interface AllocStats {
  liveTables: number;
  liveBytes: number;
  /** lg2 size -> live count (only non-zero entries). */
  bySize: Record<number, number>;
  /** Largest liveBytes ever. */
  highWaterBytes: number;
  /** 4 KiB-or-larger frames taken from the arena: one per table of 4 KiB or more, one per frame holding sub-page tables. */
  frames: number;
  /** Successful alloc() calls, cumulative. */
  allocs: number;
  /** Tables freed, cumulative (directly, by list, or after an RCU grace period). */
  frees: number;
  /** Tables queued for RCU free and not yet freed; they still count as live. */
  rcuPending: number;
}

export const C_LIVE = 0;
export const C_BYTES = 1;
export const C_HIGH = 2;
export const C_FRAMES = 3;
export const C_ALLOCS = 4;
export const C_FREES = 5;
export const C_RCU = 6;
/** Live count of lg2 size k is at C_BYSIZE + k. */
export const C_BYSIZE = 8;
export const C_LENGTH = C_BYSIZE + 32;

export function newCounters(): Float64Array {
  return new Float64Array(C_LENGTH);
}

export function statsOf(c: Float64Array): AllocStats {
  const bySize: Record<number, number> = {};
  for (let k = 0; k < 32; k++) {
    const n = c[C_BYSIZE + k]!;
    if (n !== 0) bySize[k] = n;
  }
  return {
    liveTables: c[C_LIVE]!,
    liveBytes: c[C_BYTES]!,
    bySize,
    highWaterBytes: c[C_HIGH]!,
    frames: c[C_FRAMES]!,
    allocs: c[C_ALLOCS]!,
    frees: c[C_FREES]!,
    rcuPending: c[C_RCU]!,
  };
}
