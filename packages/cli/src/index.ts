// @genpt/cli as a library: the scenario runner, the format registry, the demo and the benchmarks.

export { type BenchRow, formatBenchTable, runBenchmarks } from "./bench/run.js";
export { demoTable, GUEST, runDemo } from "./commands/demo.js";
export { FORMATS, type FormatEntry, findFormat } from "./registry.js";
export { loadScenario, parseScenario, runScenario, type Scenario, type Step } from "./scenario.js";
export { treeSvg } from "./svg.js";
export { UserError } from "./user-error.js";
