// genpt demo: the same guest on every format. Maps a 4 GiB guest with the usual holes (legacy VGA/ROM
// below 1 MiB, the PCI hole below 4 GiB), runs device DMA writes through the simulated IOMMU under a
// dirty log split to 4K pages and again over the mapped blocks, harvests both, unmaps, and prints a
// side-by-side comparison.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, type PageTable, Prot, type PtFormat, sizeName } from "@genpt/core";
import { Iommu } from "@genpt/sim";
import { bytes } from "../numbers.js";
import { FORMATS } from "../registry.js";
import type { Progress } from "./progress.js";

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;

/**
 * Guest RAM as (guest physical = IOVA, size), the layout of a 4 GiB PC guest: 3 GiB below the PCI hole
 * less the legacy VGA/ROM hole at 640 KiB..1 MiB, and 1 GiB above 4 GiB.
 */
export const GUEST: ReadonlyArray<{ name: string; iova: bigint; size: bigint }> = [
  { name: "low RAM", iova: 0n, size: 640n * KiB },
  { name: "RAM below the PCI hole", iova: 1n * MiB, size: 3n * GiB - 1n * MiB },
  { name: "RAM above 4 GiB", iova: 4n * GiB, size: 1n * GiB },
];

/** Where the host backs the guest: a 4 GiB-aligned offset keeps every alignment, so large pages show. */
const HOST_OFFSET = 64n * GiB;

export interface DemoResult {
  readonly format: string;
  readonly config: string;
  readonly mappedBytes: bigint;
  readonly skipped: string[];
  readonly tables: number;
  readonly tableBytes: number;
  readonly leaves: Record<number, number>;
  readonly written: bigint;
  readonly dirtyReported: bigint;
  /** The same writes logged page by page: startDirtyLog with split, harvest, stopDirtyLog with merge. */
  readonly dirtyReportedSplit: bigint;
  readonly invalidations: number;
  readonly walks: number;
  readonly iotlbHits: number;
  readonly unmapped: bigint;
}

/** The DMA pattern: 256 scattered 4 KiB writes and one 2 MiB buffer, all inside guest RAM. */
function dmaWrites(fits: (iova: bigint, size: bigint) => boolean): Array<{ iova: bigint; size: bigint }> {
  const out: Array<{ iova: bigint; size: bigint }> = [];
  let x = 12345;
  while (out.length < 256) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const iova = (BigInt(x) * 4096n) % (5n * GiB);
    if (fits(iova, 4n * KiB) && !out.some((o) => o.iova === iova)) out.push({ iova, size: 4n * KiB });
  }
  out.push({ iova: 64n * MiB, size: 2n * MiB });
  return out;
}

export function runDemoFormat(
  format: PtFormat<unknown>,
  walker: ConstructorParameters<typeof Iommu>[0]["walker"],
  progress: Progress,
): DemoResult {
  const mem = new PhysMem({ base: 0x8000_0000n, size: 256n * MiB });
  let iommu: Iommu | undefined;
  const pt: PageTable<unknown> = createPageTable(format, {
    mem,
    driver: {
      flush: (r) => iommu?.driver.flush?.(r),
      changeTop: (root, level) => iommu?.driver.changeTop?.(root, level),
    },
  });
  const info = pt.info();
  iommu = new Iommu({
    mem,
    walker,
    root: info.root,
    topLevel: info.topLevel,
    coherent: true,
    dirtyTracking: info.dirtyTracking,
  });
  const vaLimit = 1n << BigInt(info.vaBits);
  const oaLimit = 1n << BigInt(info.oaBits);
  const offset = HOST_OFFSET + 5n * GiB <= oaLimit ? HOST_OFFSET : 0n;
  const skipped: string[] = [];
  const mapped: Array<{ iova: bigint; size: bigint }> = [];
  progress.step(`${format.name}: map the guest`);
  for (const r of GUEST) {
    if (r.iova + r.size > vaLimit || r.iova + offset + r.size > oaLimit) {
      skipped.push(`${r.name} (beyond the ${info.vaBits}-bit IOVA / ${info.oaBits}-bit OA space)`);
      continue;
    }
    pt.map(r.iova, r.iova + offset, r.size, Prot.READ | Prot.WRITE | Prot.CACHE);
    mapped.push(r);
  }
  const census = pt.census();
  const fits = (iova: bigint, size: bigint) =>
    mapped.some((m) => iova >= m.iova && iova + size <= m.iova + m.size);
  let dirtyReported = 0n;
  let written = 0n;
  let dirtyReportedSplit = 0n;
  progress.step(`${format.name}: DMA writes under a split dirty log`);
  if (info.dirtyTracking) {
    // First the writes logged page by page: the session splits every block, cleans (Linux's ARM path
    // creates writable entries already dirty), and merges the guest back to its page sizes at the end.
    for (const m of mapped) pt.startDirtyLog(m.iova, m.size, { split: true });
    for (const w of dmaWrites(fits)) iommu.dma(w.iova, w.size, "write");
    for (const d of pt.readAndClearDirty(0n, maxEnd(mapped))) dirtyReportedSplit += d.size;
    for (const m of mapped) pt.stopDirtyLog(m.iova, m.size, { merge: true });
    if (JSON.stringify(pt.census().leaves) !== JSON.stringify(census.leaves))
      throw new Error(`${format.name}: stopDirtyLog did not merge the guest back to its page sizes`);
  }
  iommu.resetStats();
  progress.step(`${format.name}: device DMA writes`);
  for (const w of dmaWrites(fits)) {
    const r = iommu.dma(w.iova, w.size, "write");
    if (!r.ok)
      throw new Error(
        `${format.name}: DMA fault at 0x${r.fault.iova.toString(16)}: ${r.fault.kind} (${r.fault.detail})`,
      );
    written += w.size;
  }
  progress.step(`${format.name}: dirty read-and-clear`);
  if (info.dirtyTracking) for (const d of pt.readAndClearDirty(0n, maxEnd(mapped))) dirtyReported += d.size;
  progress.step(`${format.name}: unmap`);
  let unmapped = 0n;
  for (const m of mapped) unmapped += pt.unmap(m.iova, m.size);
  const st = iommu.stats();
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
  return {
    format: format.name,
    config: format.config,
    mappedBytes: census.mappedBytes,
    skipped,
    tables: Object.values(census.tables).reduce((a, b) => a + b, 0),
    tableBytes: census.tableBytes,
    leaves: census.leaves,
    written,
    dirtyReported: info.dirtyTracking ? dirtyReported : -1n,
    dirtyReportedSplit: info.dirtyTracking ? dirtyReportedSplit : -1n,
    invalidations: st.invalidations.leaf + st.invalidations.walk + st.invalidations.all,
    walks: st.walks,
    iotlbHits: st.iotlbHits,
    unmapped,
  };
}

function maxEnd(ranges: Array<{ iova: bigint; size: bigint }>): bigint {
  let end = 0n;
  for (const r of ranges) if (r.iova + r.size > end) end = r.iova + r.size;
  return end;
}

/** Progress steps per format: map, split-log writes, block-log writes, harvest, unmap. */
export const DEMO_STEPS = 5;

/** Runs the demo on every format's default configuration. */
export function runDemo(progress: Progress): DemoResult[] {
  const out: DemoResult[] = [];
  for (const f of FORMATS) {
    const { format, walker } = f.build(f.defaults);
    out.push(runDemoFormat(format, walker, progress));
  }
  return out;
}

export function demoTable(results: DemoResult[]): string {
  const sizes = [...new Set(results.flatMap((r) => Object.keys(r.leaves).map(Number)))].sort((a, b) => a - b);
  const rows: Array<[string, ...string[]]> = [
    ["format", ...results.map((r) => r.format)],
    ["guest mapped", ...results.map((r) => bytes(r.mappedBytes))],
    ["page tables", ...results.map((r) => String(r.tables))],
    ["table memory", ...results.map((r) => bytes(BigInt(r.tableBytes)))],
    ...sizes.map((s): [string, ...string[]] => [
      `${sizeName(s)} entries`,
      ...results.map((r) => String(r.leaves[s] ?? 0)),
    ]),
    ["bytes written by DMA", ...results.map((r) => bytes(r.written))],
    [
      "dirty bytes reported",
      ...results.map((r) => (r.dirtyReported < 0n ? "no dirty tracking" : bytes(r.dirtyReported))),
    ],
    [
      "dirty / written",
      ...results.map((r) =>
        r.dirtyReported < 0n ? "-" : `${(Number(r.dirtyReported) / Number(r.written)).toFixed(1)}x`,
      ),
    ],
    [
      "dirty, split logging",
      ...results.map((r) => (r.dirtyReportedSplit < 0n ? "-" : bytes(r.dirtyReportedSplit))),
    ],
    ["IOTLB invalidations", ...results.map((r) => String(r.invalidations))],
    ["page walks", ...results.map((r) => String(r.walks))],
    ["IOTLB hits", ...results.map((r) => String(r.iotlbHits))],
    ["unmapped", ...results.map((r) => bytes(r.unmapped))],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
  for (const r of results) {
    out.push(`${r.format}: ${r.config}`);
    for (const s of r.skipped) out.push(`  skipped ${s}`);
  }
  return out.join("\n");
}
