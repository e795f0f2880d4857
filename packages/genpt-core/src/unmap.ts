// unmap: removes every leaf in [start, end). Holes are skipped; a start inside an entry is EINVAL (and
// can only be met before anything changed, since it is the first leaf of the walk); an end inside an
// entry removes the whole entry, and the gather covers every removed entry in full (CVE-2026-31735).
// Tables wholly inside the range are unlinked and gathered; their leaves are counted but not cleared,
// since nothing can reach them once the parent entry is cleared and the walk caches are flushed.
import { hex, PtError } from "@genpt/alloc";
import { POW2 } from "./bits.js";
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";
import type { Gather } from "./gather.js";
import type { PtState } from "./state.js";

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
  if (level === 0 && ctx.singleItemLevel0) {
    unmapSinglePages(ctx, job, st, dying);
    return;
  }
  while (st.index < st.endIndex) {
    const kind = st.load();
    if (kind === EMPTY) {
      st.index++;
      continue;
    }
    if (kind === LEAF) {
      const k = POW2[st.contigLg2()]!;
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

/**
 * The hot loop for a level of single-item pages: every nonzero slot in range is a leaf of one granule,
 * so the run is counted, cleared with one fill and gathered as one range (nothing starts before it).
 */
function unmapSinglePages(ctx: Ctx, job: UnmapJob, st: PtState, dying: boolean): void {
  const { fmt } = ctx;
  const w = st.w;
  const wpe = ctx.lay.wpe;
  const from = st.index;
  const to = st.endIndex;
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = from, p = st.off + from * wpe; i < to; i++, p += wpe) {
    const lo = w[p]!;
    const hi = wpe === 2 ? w[p + 1]! : 0;
    if ((lo | hi) === 0 || fmt.kind(lo, hi, 0) !== LEAF) continue;
    if (first < 0) first = i;
    last = i;
    count++;
  }
  st.index = to;
  if (count === 0) return;
  job.removed += count;
  if (dying) return;
  ctx.clearEntries(st, first, last + 1 - first);
  job.gather.addRange(st.tableVpn + first, st.tableVpn + last + 1);
}
