// Dynamic top growth (genpt-upstream §2.5): build the new top tables, each linking the one below at
// index 0, then let the driver switch the hardware over, and only then publish the new top and level
// together. Map does the walk through the new top before publishing, so a failed map never grows it.
import { PtError } from "@genpt/alloc";
import type { Ctx, Top } from "./ctx.js";

/** Allocates tables from old.level + 1 up to `level`; returns the unpublished new top. */
export function growTop(ctx: Ctx, old: Top, level: number): Top {
  let below = old.pa;
  for (let l = old.level + 1; l <= level; l++) {
    const lg2 = ctx.tableLg2(l, l === level);
    const pa = ctx.allocTable(lg2);
    if (ctx.incoherent) ctx.alloc.startIncoherent(pa);
    const w = ctx.mem.chunk(pa);
    const off = ctx.mem.wordIndex(pa);
    w[off] = ctx.fmt.tableLo(below, l);
    if (ctx.lay.wpe === 2) w[off + 1] = ctx.fmt.tableHi(below, l);
    below = pa;
  }
  return { pa: below, level };
}

/** Switches hardware to `next`, then publishes it. The new tables are written back first when incoherent. */
export function publishTop(ctx: Ctx, old: Top, next: Top): void {
  if (ctx.incoherent) {
    let pa = next.pa;
    for (let l = next.level; l > old.level; l--) {
      ctx.flushTableMemory(pa, 2 ** ctx.tableLg2(l, l === next.level));
      const w = ctx.mem.chunk(pa);
      const off = ctx.mem.wordIndex(pa);
      pa = ctx.fmt.tablePa(w[off]!, ctx.lay.wpe === 2 ? w[off + 1]! : 0, l);
    }
  }
  const release = ctx.driver.topLock?.();
  try {
    if (ctx.top !== old) throw new PtError("EINVAL", "map: the top changed while growing it; retry the map");
    ctx.driver.changeTop?.(BigInt(next.pa), next.level);
    ctx.top = next;
  } finally {
    release?.();
  }
}
