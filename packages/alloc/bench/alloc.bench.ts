// Allocator benchmarks: steady-state alloc+free pairs of 4 KiB, 1 KiB (sub-page) and 64 KiB tables.
//
// One pair is far below the timer grain, so each tinybench iteration times a batch of pairs and reports
// the per-pair mean through overriddenDuration. Each pair writes one word into the table, as a page
// table would, so the free really has memory to clear.

import { Bench, type FnReturnedObject } from "tinybench";
import { LevelAllocator, PhysMem } from "../src/index.js";

const BATCH = 1000;

/** One row of the benchmark table. */
export interface BenchRow {
  name: string;
  nsPerOp: number;
  samples: number;
}

function pairTask(lg2: number): () => FnReturnedObject {
  const mem = new PhysMem({ base: 0x8000_0000n, size: 64n << 20n });
  const alloc = new LevelAllocator(mem);
  // A few live tables around, as in a real page table.
  for (let i = 0; i < 8; i++) alloc.alloc(12);
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) {
      const pa = alloc.alloc(lg2);
      mem.write32(pa, i);
      alloc.free(pa);
    }
    const ms = performance.now() - t0;
    return { overriddenDuration: ms / BATCH, overriddenIterationCost: ms };
  };
}

/**
 * Runs the allocator benchmarks and returns ns per alloc+free pair (median of batch means).
 *
 * @example
 * for (const r of await benchAlloc()) console.log(r.name, r.nsPerOp.toFixed(1));
 */
export async function benchAlloc(): Promise<BenchRow[]> {
  const bench = new Bench({ name: "@genpt/alloc", time: 500, warmup: true, warmupTime: 300 });
  bench
    .add("alloc+free 4 KiB table", pairTask(12))
    .add("alloc+free 1 KiB sub-page table", pairTask(10))
    .add("alloc+free 64 KiB table", pairTask(16));
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== "completed" && r.state !== "aborted-with-statistics") {
      throw new Error(`benchmark ${task.name} did not complete: ${r.state}`);
    }
    return { name: task.name, nsPerOp: r.latency.p50 * 1e6, samples: r.latency.samplesCount };
  });
}
