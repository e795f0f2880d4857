// Runs the workloads with tinybench and reports the median ns per unit, as a table and as JSON.

import type { PtFormat } from "@genpt/core";
import { Bench } from "tinybench";
import { baseline, type Workload, workloads } from "./workloads.js";

export interface BenchRow {
  readonly format: string;
  readonly workload: string;
  readonly unit: string;
  /** Median over samples of ns per unit. */
  readonly nsPerUnit: number;
  readonly samples: number;
  readonly target?: number;
}

export interface BenchOptions {
  /** Measured time per workload, ms (after warm-up). */
  readonly timeMs?: number;
  readonly warmupMs?: number;
  readonly onProgress?: (line: string) => void;
}

async function measure(format: string, list: Workload[], opts: BenchOptions): Promise<BenchRow[]> {
  const bench = new Bench({
    time: opts.timeMs ?? 400,
    warmupTime: opts.warmupMs ?? 300,
    warmupIterations: 5,
    iterations: 5,
  });
  for (const w of list) bench.add(w.name, w.fn, { beforeEach: w.beforeEach, afterEach: w.afterEach });
  await bench.run();
  const rows: BenchRow[] = [];
  for (const task of bench.tasks) {
    const w = list.find((x) => x.name === task.name)!;
    const r = task.result as
      | { latency?: { p50: number; samplesCount?: number }; error?: unknown }
      | undefined;
    if (!r?.latency) throw new Error(`benchmark ${format}/${task.name} failed: ${String(r?.error)}`);
    rows.push({
      format,
      workload: w.name,
      unit: w.unit,
      nsPerUnit: (r.latency.p50 * 1e6) / w.unitsPerCall,
      samples: r.latency.samplesCount ?? 0,
      target: w.target,
    });
  }
  return rows;
}

export async function runBenchmarks(
  formats: PtFormat<unknown>[],
  opts: BenchOptions = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  opts.onProgress?.("baseline");
  rows.push(...(await measure("-", [baseline()], opts)));
  for (const fmt of formats) {
    opts.onProgress?.(`${fmt.name} (${fmt.config})`);
    const { list, tables } = workloads(fmt);
    rows.push(...(await measure(fmt.name, list, opts)));
    for (const t of tables) t.destroy();
  }
  return rows;
}

/** One line per workload, one column per format, and the DESIGN target beside it. */
export function formatBenchTable(rows: BenchRow[]): string {
  const formats = [...new Set(rows.filter((r) => r.format !== "-").map((r) => r.format))];
  const names = [...new Set(rows.map((r) => `${r.workload}\u0000${r.unit}`))];
  const header = ["workload", "unit", ...formats, "target"];
  const body = names.map((key) => {
    const [workload, unit] = key.split("\u0000") as [string, string];
    const cells = formats.map((f) => {
      const r = rows.find((x) => x.workload === workload && x.format === f);
      return r
        ? fmtNs(r.nsPerUnit)
        : r === undefined && workload.startsWith("baseline")
          ? fmtNs(rows.find((x) => x.workload === workload)!.nsPerUnit)
          : "-";
    });
    const target = rows.find((x) => x.workload === workload && x.target !== undefined)?.target;
    return [workload, `ns/${unit}`, ...cells, target === undefined ? "" : `<= ${target}`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)}M`;
  if (ns >= 1000) return ns.toFixed(0);
  if (ns >= 10) return ns.toFixed(1);
  return ns.toFixed(2);
}
