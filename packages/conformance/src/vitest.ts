// describeConformance: the suite as vitest tests, one describe per configuration and one it per case.
// Cases that do not apply to a configuration (no walker, missing sizes) are not registered, so nothing
// is skipped and nothing passes without having checked something.
import { describe, it } from "vitest";
import { failureContext } from "./report.js";
import { DEFAULT_ITERATIONS, DEFAULT_SEED, prepare, runCase, selectCases } from "./run.js";
import type { ConformanceOptions, FormatFactory } from "./types.js";

/** Generous: a loaded machine must not turn a long random case into a failure. Nothing here times work. */
const CASE_TIMEOUT_MS = 120_000;

/**
 * Registers the conformance suite for `configs` under `name`.
 *
 * @example
 * describeConformance("mock64", () => ({ format: mock64(), walker: mock64Walker() }), [{}]);
 */
export function describeConformance<C>(
  name: string,
  factory: FormatFactory<C>,
  configs: readonly C[],
  options: ConformanceOptions<C> = {},
): void {
  const settings = {
    seed: options.seed ?? DEFAULT_SEED,
    iterations: options.iterations ?? DEFAULT_ITERATIONS,
  };
  const cases = selectCases(options.only);
  describe(name, () => {
    configs.forEach((config, index) => {
      const prepared = prepare(factory, config, index);
      describe(prepared.label, () => {
        for (const c of cases) {
          if (prepared.probe && c.skipIf?.(prepared.probe) !== undefined) continue;
          it(
            c.name,
            () => {
              options.onProgress?.(c.name, config);
              const r = runCase(c, factory, config, index, prepared, settings);
              if (r.status === "fail") {
                const ctx = failureContext(r);
                throw new Error(`${c.name} on ${prepared.label}: ${r.reason}${ctx ? ` (${ctx})` : ""}`);
              }
            },
            CASE_TIMEOUT_MS,
          );
        }
      });
    });
  });
}
