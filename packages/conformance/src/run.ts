// runConformance: every selected case against every configuration, each in a fresh CaseEnv that ends
// with the leak check. Failures become report rows with the reason, the seed and the IOVA.
import { PhysMem } from "@genpt/alloc";
import { createPageTable } from "@genpt/core";
import type { ConformanceCase, Probe } from "./case.js";
import { CASES } from "./cases/index.js";
import { CaseFailure } from "./support/assert.js";
import { CaseEnv } from "./support/env.js";
import type {
  CaseResult,
  ConformanceOptions,
  ConformanceReport,
  FormatFactory,
  FormatUnderTest,
} from "./types.js";

export const DEFAULT_SEED = 1;
export const DEFAULT_ITERATIONS = 1000;

/** The cases `only` selects (all by default); an unknown name is an error, not a silent no-op. */
export function selectCases(only?: readonly string[]): readonly ConformanceCase[] {
  if (!only) return CASES;
  const unknown = only.filter((n) => !CASES.some((c) => c.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown conformance case(s): ${unknown.join(", ")}; known: ${CASES.map((c) => c.name).join(", ")}`,
    );
  return CASES.filter((c) => only.includes(c.name));
}

/** One configuration, made once for labels and applicability; `error` when the factory or the table fails. */
export interface Prepared {
  readonly label: string;
  readonly probe?: Probe;
  readonly error?: string;
}

export function prepare<C>(factory: FormatFactory<C>, config: C, index: number): Prepared {
  let subject: FormatUnderTest;
  try {
    subject = factory(config);
  } catch (e) {
    return { label: `config ${index}: ${describeConfig(config)}`, error: `the factory threw: ${message(e)}` };
  }
  const label = `${subject.format.name}: ${subject.format.config}`;
  try {
    const mem = new PhysMem({ base: subject.memBase ?? 0x8000_0000n, size: subject.memSize ?? 64n << 20n });
    const pt = createPageTable(subject.format, { mem, features: subject.features ?? {} });
    const info = pt.info();
    pt.destroy();
    return { label, probe: { subject, info } };
  } catch (e) {
    return { label, error: `createPageTable failed: ${message(e)}` };
  }
}

export interface RunSettings {
  readonly seed: number;
  readonly iterations: number;
}

/** Runs one case on one prepared configuration. */
export function runCase<C>(
  c: ConformanceCase,
  factory: FormatFactory<C>,
  config: C,
  index: number,
  prepared: Prepared,
  settings: RunSettings,
): CaseResult {
  const t0 = performance.now();
  const row = { case: c.name, configIndex: index, config: prepared.label };
  const done = (extra: Partial<CaseResult> & Pick<CaseResult, "status">): CaseResult => ({
    ...row,
    ...extra,
    ms: performance.now() - t0,
  });
  if (!prepared.probe) return done({ status: "fail", reason: prepared.error ?? "configuration failed" });
  const skip = c.skipIf?.(prepared.probe);
  if (skip !== undefined) return done({ status: "n/a", reason: skip });
  let env: CaseEnv | undefined;
  try {
    env = new CaseEnv(factory(config), c.name, settings.seed, settings.iterations);
    c.run(env);
    env.finish();
    return done({ status: "pass" });
  } catch (e) {
    const iova = e instanceof CaseFailure && e.iova !== undefined ? e.iova : env?.lastIova;
    return done({
      status: "fail",
      reason: message(e),
      ...(c.random ? { seed: settings.seed } : {}),
      ...(iova !== undefined ? { iova } : {}),
    });
  }
}

/**
 * Runs the conformance suite on every configuration of a format.
 *
 * @example
 * const report = runConformance((c: { topLevel: number }) => ({ format: mock64(c), walker: mock64Walker() }), [{ topLevel: 2 }]);
 * console.log(formatReport(report));
 */
export function runConformance<C>(
  factory: FormatFactory<C>,
  configs: readonly C[],
  options: ConformanceOptions<C> = {},
): ConformanceReport {
  const settings = {
    seed: options.seed ?? DEFAULT_SEED,
    iterations: options.iterations ?? DEFAULT_ITERATIONS,
  };
  const cases = selectCases(options.only);
  const results: CaseResult[] = [];
  const labels: string[] = [];
  configs.forEach((config, index) => {
    const prepared = prepare(factory, config, index);
    labels.push(prepared.label);
    for (const c of cases) {
      options.onProgress?.(c.name, config);
      results.push(runCase(c, factory, config, index, prepared, settings));
    }
  });
  const count = (s: CaseResult["status"]) => results.filter((r) => r.status === s).length;
  const totals = {
    pass: count("pass"),
    fail: count("fail"),
    notApplicable: count("n/a"),
    total: results.length,
  };
  return {
    ok: totals.fail === 0,
    ...settings,
    configs: labels,
    cases: cases.map((c) => c.name),
    results,
    totals,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describeConfig(config: unknown): string {
  try {
    return (
      JSON.stringify(config, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)) ?? String(config)
    );
  } catch {
    return String(config);
  }
}
