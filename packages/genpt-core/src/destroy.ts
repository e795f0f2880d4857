// destroy: frees every table of the tree, children first, so the allocator reports no leak.
import type { Ctx } from "./ctx.js";
import { collectTables } from "./tree.js";

export function destroyTree(ctx: Ctx): void {
  const top = ctx.top;
  for (const pa of collectTables(ctx, top.pa, top.level, ctx.entriesAt(top.level, true))) {
    if (ctx.incoherent && ctx.alloc.isIncoherent(pa)) ctx.alloc.stopIncoherent(pa);
    ctx.alloc.free(pa);
  }
}
