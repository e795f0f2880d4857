// @genpt/conformance: one suite for every format. runConformance gives a structured report, formatReport
// prints it, and "@genpt/conformance/vitest" registers the same cases as vitest tests.

export type { ConformanceCase, Probe } from "./case.js";
export { CASES } from "./cases/index.js";
export { failureContext, formatReport } from "./report.js";
export { DEFAULT_ITERATIONS, DEFAULT_SEED, runConformance } from "./run.js";
export { CaseFailure } from "./support/assert.js";
export * from "./testing/index.js";
export type {
  CaseResult,
  CaseStatus,
  ConformanceOptions,
  ConformanceReport,
  FormatFactory,
  FormatQuirks,
  FormatUnderTest,
} from "./types.js";
