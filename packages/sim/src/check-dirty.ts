// The dirty-log check: every IOVA the device wrote since the previous harvest must be in the next
// harvest. A harvest may report more (whole entries, or pages a format installs dirty); it may never
// report less, or a migrating VM loses the page.
import { compareBig } from "./bigint.js";
import type { CheckResult } from "./check.js";
import { hex } from "./describe.js";

type Range = { readonly iova: bigint; readonly size: bigint };

/**
 * Reports the first written IOVA that `harvest` misses. The caller drops writes to IOVAs unmapped since
 * (Iommu.takeWrites gives the writes; an unmapped page has no dirty state left to report).
 *
 * @example
 * iommu.dma(0x1000n, 0x1000n, "write");
 * checkDirty(pt.readAndClearDirty(0n, 1n << 20n), iommu.takeWrites()); // { ok: true, checked: 1 }
 */
export function checkDirty(harvest: readonly Range[], written: readonly Range[]): CheckResult {
  const inHarvest = (v: bigint) => harvest.some((h) => v >= h.iova && v < h.iova + h.size);
  let checked = 0;
  for (const r of written) {
    checked++;
    // Harvests are whole-entry granular, so the first missed byte of a write is its start or the end of
    // some harvested range inside it.
    const probes = [
      r.iova,
      ...harvest.map((h) => h.iova + h.size).filter((e) => e > r.iova && e < r.iova + r.size),
    ];
    const missed = probes.sort(compareBig).find((v) => !inHarvest(v));
    if (missed !== undefined)
      return {
        ok: false,
        iova: missed,
        level: undefined,
        cpu: `harvest ${harvest.length === 0 ? "empty" : harvest.map((h) => `[${hex(h.iova)}, ${hex(h.iova + h.size)})`).join(" ")}`,
        device: `DMA wrote [${hex(r.iova)}, ${hex(r.iova + r.size)})`,
        message: `iova ${hex(missed)}: written by DMA but missing from the dirty harvest`,
      };
  }
  return { ok: true, checked };
}
