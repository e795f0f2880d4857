// snapshot: the tree as plain data (tables, occupied slots, leaf sizes), for pictures and tools that
// should not walk raw memory themselves.
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";

export interface SlotSnapshot {
  readonly index: number;
  readonly kind: "table" | "leaf";
  /** log2 bytes of the leaf entry (whole multi-item entry). */
  readonly sizeLg2?: number;
  readonly child?: TableSnapshot;
}

export interface TableSnapshot {
  readonly level: number;
  readonly pa: bigint;
  readonly entries: number;
  /** Occupied slots only, ascending. */
  readonly slots: readonly SlotSnapshot[];
}

export function snapshotTree(ctx: Ctx): TableSnapshot {
  const top = ctx.top;
  return snap(ctx, top.level, top.pa, ctx.entriesAt(top.level, true));
}

function snap(ctx: Ctx, level: number, pa: number, entries: number): TableSnapshot {
  const { mem, fmt, lay } = ctx;
  const w = mem.chunk(pa);
  const off = mem.wordIndex(pa);
  const wpe = lay.wpe;
  const slots: SlotSnapshot[] = [];
  for (let i = 0; i < entries; i++) {
    const lo = w[off + i * wpe]!;
    const hi = wpe === 2 ? w[off + i * wpe + 1]! : 0;
    if (lo === 0 && hi === 0) continue;
    const kind = fmt.kind(lo, hi, level);
    if (kind === EMPTY) continue;
    if (kind === LEAF) slots.push({ index: i, kind: "leaf", sizeLg2: fmt.leafLg2(lo, hi, level) });
    else {
      const child = snap(ctx, level - 1, fmt.tablePa(lo, hi, level), lay.entries[level - 1]!);
      slots.push({ index: i, kind: "table", child });
    }
  }
  return { level, pa: BigInt(pa), entries, slots };
}
