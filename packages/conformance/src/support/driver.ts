// A PtDriver that records what the core asks of it (IOTLB flushes, top switches), so cases can check
// that the gather covered every IOVA whose translation changed. It can forward to another driver (the
// sim's) so a case gets both the device model and the record.
import type { FlushRequest, IovaRange, PtDriver } from "@genpt/core";

export class RecordingDriver implements PtDriver {
  /** Every flush since the last reset. */
  flushes: FlushRequest[] = [];
  /** Every changeTop call, in order. */
  readonly tops: Array<{ root: bigint; topLevel: number }> = [];

  constructor(private readonly next?: PtDriver) {}

  flush(req: FlushRequest): void {
    this.flushes.push(req);
    this.next?.flush?.(req);
  }

  cacheFlush(pa: bigint, len: number): void {
    this.next?.cacheFlush?.(pa, len);
  }

  changeTop(root: bigint, topLevel: number): void {
    this.tops.push({ root, topLevel });
    this.next?.changeTop?.(root, topLevel);
  }

  reset(): void {
    this.flushes = [];
  }

  /** The flushed ranges since the last reset. */
  ranges(): IovaRange[] {
    return this.flushes.flatMap((f) => f.ranges);
  }

  /** The first part of [iova, iova + size) no flush since the last reset covered, or undefined. */
  uncovered(iova: bigint, size: bigint): bigint | undefined {
    const rs = this.ranges()
      .map((r) => ({ s: r.iova, e: r.iova + r.size }))
      .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
    let at = iova;
    const end = iova + size;
    for (const r of rs) {
      if (r.s > at) break;
      if (r.e > at) at = r.e;
      if (at >= end) return undefined;
    }
    return at < end ? at : undefined;
  }
}
