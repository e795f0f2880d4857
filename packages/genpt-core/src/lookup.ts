// Point lookups: find the leaf translating one granule, for iovaToPhys, setDirty and cut.
import { POW2 } from "./bits.js";
import type { Ctx } from "./ctx.js";
import { LEAF, TABLE } from "./format.js";
import type { PtState } from "./state.js";

/**
 * Walks to the leaf translating `vpn`. Returns the state of the leaf's level with `index` on the item
 * and the entry loaded, or undefined when nothing is mapped there.
 */
export function findLeaf(ctx: Ctx, vpn: number): PtState | undefined {
  let { pa, level } = ctx.top;
  if (vpn >= ctx.coverage(level)) return undefined;
  let entries = ctx.entriesAt(level, true);
  let tableVpn = 0;
  for (;;) {
    const st = ctx.states[level]!;
    st.enter(pa, tableVpn, entries, vpn, vpn + 1);
    const kind = st.load();
    if (kind === LEAF) return st;
    if (kind !== TABLE) return undefined;
    tableVpn = st.slotVpn(st.index);
    pa = ctx.fmt.tablePa(st.lo, st.hi, level);
    level--;
    entries = ctx.lay.entries[level]!;
  }
}

/**
 * The OA granule translating `vpn`, or -1 when unmapped. A tight loop of its own: this is the hot path
 * of iovaToPhys and of every three-way comparison in the tests.
 */
export function translate(ctx: Ctx, vpn: number): number {
  const { mem, fmt, lay } = ctx;
  const wpe = lay.wpe;
  const units = lay.itemUnits;
  const top = ctx.top;
  let pa = top.pa;
  let level = top.level;
  if (vpn >= ctx.coverageAt[level]!) return -1;
  let rel = vpn;
  for (;;) {
    const w = mem.chunk(pa);
    const unit = units[level]!;
    const index = Math.floor(rel / unit);
    const p = mem.wordIndex(pa) + index * wpe;
    const lo = w[p]!;
    const hi = wpe === 2 ? w[p + 1]! : 0;
    const kind = fmt.kind(lo, hi, level);
    rel -= index * unit;
    if (kind === LEAF) {
      // Offset inside the entry: the entry starts at the item index rounded down to its item count.
      const entryUnits = POW2[fmt.leafLg2(lo, hi, level) - lay.g]!;
      const k = entryUnits / unit;
      const firstRel = (index % k) * unit;
      return fmt.leafOa(lo, hi, level) + firstRel + rel;
    }
    if (kind !== TABLE) return -1;
    pa = fmt.tablePa(lo, hi, level);
    level--;
  }
}
