// unmap: removes every leaf in [start, end). Holes are skipped; a start inside an entry is EINVAL (and
// can only be met before anything changed, since it is the first leaf of the walk); an end inside an
// entry removes the whole entry, and the gather covers every removed entry in full (CVE-2026-31735).
// Tables wholly inside the range are unlinked and gathered; their leaves are counted but not cleared,
// since nothing can reach them once the parent entry is cleared and the walk caches are flushed.
import { hex, PtError } from "@genpt/alloc";
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";
import type { Gather } from "./gather.js";

interface UnmapJob {
  readonly start: number;
  readonly end: number;
  readonly gather: Gather;
  removed: number;
}

/** Returns the granules removed. */
export function unmapRange(ctx: Ctx, start: number, end: number, gather: Gather): number {
  const job: UnmapJob = { start, end, gather, removed: 0 };
  const top = ctx.top;
  if (start >= ctx.coverage(top.level)) return 0;
  unmapTable(ctx, job, top.level, top.pa, 0, ctx.entriesAt(top.level, true), false);
  return job.removed;
}

function unmapTable(
  ctx: Ctx,
  job: UnmapJob,
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
  dying: boolean,
): void {
  const st = ctx.states[level]!;
  const { lay, fmt } = ctx;
  const unit = lay.itemUnits[level]!;
  st.enter(pa, tableVpn, entries, job.start, job.end);
  while (st.index < st.endIndex) {
    const kind = st.load();
    if (kind === EMPTY) {
      st.index++;
      continue;
    }
    if (kind === LEAF) {
      const k = 2 ** st.contigLg2();
      const first = st.index - (st.index % k);
      const evpn = st.slotVpn(first);
      const esize = k * unit;
      if (evpn < job.start) {
        const iova = ctx.aperture.toIova(job.start);
        throw new PtError(
          "EINVAL",
          `unmap: iova ${hex(iova)} starts inside a ${hex(2 ** fmt.leafLg2(st.lo, st.hi, level))}-byte entry at ${hex(ctx.aperture.toIova(evpn))}; unmap never splits a page`,
        );
      }
      if (!dying) {
        ctx.clearEntries(st, first, k);
        if (ctx.breaks.shortGather) job.gather.addRange(evpn, Math.min(evpn + esize, job.end));
        else job.gather.addRange(evpn, evpn + esize);
      }
      job.removed += esize;
      st.index = first + k;
      continue;
    }
    const index = st.index;
    const child = fmt.tablePa(st.lo, st.hi, level);
    const svpn = st.slotVpn(index);
    const covered = dying || (job.start <= svpn && job.end >= svpn + unit);
    unmapTable(ctx, job, level - 1, child, svpn, lay.entries[level - 1]!, covered);
    if (covered && !dying) {
      ctx.clearEntries(st, index, 1);
      job.gather.addRange(svpn, svpn + unit);
    }
    if (covered) job.gather.addTable(child);
    st.index = index + 1;
  }
}
