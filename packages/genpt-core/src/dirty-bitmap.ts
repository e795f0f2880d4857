// The iommufd-style dirty bitmap: one bit per page of a chosen size, set from the merged dirty ranges.
import { hex, PtError } from "@genpt/alloc";
import type { DirtyOptions } from "./options.js";

export function setBitmap(
  bm: NonNullable<DirtyOptions["bitmap"]>,
  ranges: Array<{ iova: bigint; size: bigint }>,
): void {
  if (bm.pageSize <= 0n)
    throw new PtError("EINVAL", `readAndClearDirty: bitmap pageSize ${hex(bm.pageSize)} must be positive`);
  const nbits = BigInt(bm.bits.length * 8);
  for (const r of ranges) {
    let first = (r.iova - bm.iova) / bm.pageSize;
    if (r.iova < bm.iova) first = 0n;
    const last = (r.iova + r.size - 1n - bm.iova) / bm.pageSize;
    if (r.iova + r.size <= bm.iova) continue;
    for (let b = first; b <= last && b < nbits; b++) {
      const i = Number(b);
      bm.bits[i >> 3]! |= 1 << (i & 7);
    }
  }
}
