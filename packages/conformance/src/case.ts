// The shape of one conformance case. A case is a small function over a CaseEnv; it fails by throwing
// (a CaseFailure names the IOVA). `skipIf` says, from a probe of the configuration, why the case does
// not apply (no walker, no sizes the scenario needs); the runner then reports it as n/a.
import type { PtInfo } from "@genpt/core";
import type { CaseEnv } from "./support/env.js";
import type { FormatUnderTest } from "./types.js";

/** What a case may look at to decide whether it applies: the configuration and a fresh table's info(). */
export interface Probe {
  readonly subject: FormatUnderTest;
  readonly info: PtInfo;
}

export interface ConformanceCase {
  readonly name: string;
  /** One line: what the case proves. */
  readonly summary: string;
  /** Draws random inputs from the seed, so a failure reports the seed. */
  readonly random?: boolean;
  /** Why the case does not apply to this configuration; undefined when it does. */
  readonly skipIf?: (probe: Probe) => string | undefined;
  run(env: CaseEnv): void;
}

/** Typed identity, so case files read as declarations. */
export function defineCase(c: ConformanceCase): ConformanceCase {
  return c;
}

/** skipIf helper: the case needs the format's hardware walker. */
export function needsWalker(p: Probe): string | undefined {
  return p.subject.walker ? undefined : "no hardware walker given";
}
