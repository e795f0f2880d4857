// census: counts what the tree holds, leaves by size and tables by level, for tests (exactly one entry
// per size), the CLI's comparison and the demo.
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";

export interface Census {
  /** Leaf entries (a multi-item entry counts once) by log2 size in bytes. */
  readonly leaves: Record<number, number>;
  /** Leaf items (slots) in use, multi-item entries counting every item. */
  readonly leafItems: number;
  /** Tables by level, the top included. */
  readonly tables: Record<number, number>;
  readonly tableBytes: number;
  /** Bytes mapped. */
  readonly mappedBytes: bigint;
}

export function takeCensus(ctx: Ctx): Census {
  const leaves: Record<number, number> = {};
  const tables: Record<number, number> = {};
  const acc = { items: 0, tableBytes: 0, mapped: 0n };
  const top = ctx.top;
  visit(ctx, top.level, top.pa, ctx.entriesAt(top.level, true), true, leaves, tables, acc);
  return { leaves, leafItems: acc.items, tables, tableBytes: acc.tableBytes, mappedBytes: acc.mapped };
}

function visit(
  ctx: Ctx,
  level: number,
  pa: number,
  entries: number,
  isTop: boolean,
  leaves: Record<number, number>,
  tables: Record<number, number>,
  acc: { items: number; tableBytes: number; mapped: bigint },
): void {
  const { mem, fmt, lay } = ctx;
  tables[level] = (tables[level] ?? 0) + 1;
  acc.tableBytes += 2 ** ctx.tableLg2(level, isTop);
  const w = mem.chunk(pa);
  const off = mem.wordIndex(pa);
  const wpe = lay.wpe;
  for (let i = 0; i < entries; i++) {
    const lo = w[off + i * wpe]!;
    const hi = wpe === 2 ? w[off + i * wpe + 1]! : 0;
    if (lo === 0 && hi === 0) continue;
    const kind = fmt.kind(lo, hi, level);
    if (kind === EMPTY) continue;
    if (kind === LEAF) {
      const lg2 = fmt.leafLg2(lo, hi, level);
      const k = 2 ** (lg2 - lay.g - lay.itemShift[level]!);
      acc.items++;
      if (i % k === 0) {
        leaves[lg2] = (leaves[lg2] ?? 0) + 1;
        acc.mapped += 1n << BigInt(lg2);
      }
      continue;
    }
    visit(ctx, level - 1, fmt.tablePa(lo, hi, level), lay.entries[level - 1]!, false, leaves, tables, acc);
  }
}
