// `npm run bench`: every format's default configuration through the same workloads; prints the table
// and writes bench-results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { benchAlloc } from "../packages/alloc/bench/alloc.bench.js";
import { benchFormats } from "../packages/cli/src/bench/formats.js";
import { formatBenchTable, runBenchmarks } from "../packages/cli/src/bench/run.js";

const formats = await benchFormats();
const rows = await runBenchmarks(formats, { onProgress: (l) => process.stderr.write(`bench: ${l}\n`) });
console.log(formatBenchTable(rows));
process.stderr.write("bench: allocator\n");
const allocRows = await benchAlloc();
console.log("\nallocator (steady state)                ns/op   target");
for (const r of allocRows)
  console.log(
    `${r.name.padEnd(40)}${r.nsPerOp.toFixed(0).padStart(6)}   ${r.name.includes("4 KiB") ? "<= 200" : ""}`,
  );
mkdirSync("bench-results", { recursive: true });
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  rows,
};
writeFileSync("bench-results/latest.json", `${JSON.stringify(out, null, 2)}\n`);
console.log("\nJSON: bench-results/latest.json (median ns per unit over tinybench samples)");
