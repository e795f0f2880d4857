// Whole-subtree helpers: does a subtree hold any leaf, and which tables does it consist of.
import type { Ctx } from "./ctx.js";
import { LEAF, TABLE } from "./format.js";

/** True when the subtree of the table at `pa` (a table at `level`) holds at least one leaf. */
export function subtreeHasLeaf(ctx: Ctx, pa: number, level: number): boolean {
  const { mem, fmt, lay } = ctx;
  const w = mem.chunk(pa);
  const off = mem.wordIndex(pa);
  const wpe = lay.wpe;
  const n = lay.entries[level]!;
  for (let i = 0; i < n; i++) {
    const lo = w[off + i * wpe]!;
    const hi = wpe === 2 ? w[off + i * wpe + 1]! : 0;
    if (lo === 0 && hi === 0) continue;
    const kind = fmt.kind(lo, hi, level);
    if (kind === LEAF) return true;
    if (kind === TABLE && subtreeHasLeaf(ctx, fmt.tablePa(lo, hi, level), level - 1)) return true;
  }
  return false;
}

/** Every table of the subtree rooted at `pa` (a non-top table at `level`), children before parents. */
export function collectTables(ctx: Ctx, pa: number, level: number, entries?: number): number[] {
  const out: number[] = [];
  walkTables(ctx, pa, level, entries ?? ctx.lay.entries[level]!, out);
  return out;
}

function walkTables(ctx: Ctx, pa: number, level: number, entries: number, out: number[]): void {
  if (level > 0) {
    const { mem, fmt, lay } = ctx;
    const w = mem.chunk(pa);
    const off = mem.wordIndex(pa);
    const wpe = lay.wpe;
    for (let i = 0; i < entries; i++) {
      const lo = w[off + i * wpe]!;
      const hi = wpe === 2 ? w[off + i * wpe + 1]! : 0;
      if ((lo | hi) === 0) continue;
      if (fmt.kind(lo, hi, level) === TABLE)
        walkTables(ctx, fmt.tablePa(lo, hi, level), level - 1, lay.entries[level - 1]!, out);
    }
  }
  out.push(pa);
}
