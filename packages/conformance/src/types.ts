// The public shapes of @genpt/conformance: what a format factory returns, the run options, and the report.
import type { HardwareWalker, PtFeatures, PtFormat } from "@genpt/core";

/** What the suite needs to test one configuration of a format. */
export interface FormatUnderTest {
  // biome-ignore lint/suspicious/noExplicitAny: a format of any attribute type is accepted.
  readonly format: PtFormat<any>;
  /** The format's independent hardware walker; the walker, sim and dirty-lifecycle cases need it. */
  readonly walker?: HardwareWalker;
  /** Features every page table of this configuration is created with (e.g. { signExtend: true }). */
  readonly features?: PtFeatures;
  /** Where the simulated physical memory for the tables starts (default 0x8000_0000). */
  readonly memBase?: bigint;
  /** Its size, a power of two (default 64 MiB). */
  readonly memSize?: bigint;
  /** Deviations the format declares from rules that hold for most formats. */
  readonly quirks?: FormatQuirks;
}

export interface FormatQuirks {
  /**
   * Levels whose item size is deliberately not a leaf size although the level holds larger leaves
   * (AMD v1 has no 512G pages). entry_possible_sizes accepts the item size missing there.
   */
  readonly noItemLeafAt?: readonly number[];
  /** The walker does not enforce read/write permissions (v7s MediaTek): the sim checker compares addresses only. */
  readonly walkerIgnoresPermissions?: boolean;
}

/** Builds the format (and walker) for one configuration. Called once per case, so keep it cheap. */
export type FormatFactory<C> = (config: C) => FormatUnderTest;

export interface ConformanceOptions<C = unknown> {
  /** Base seed of every random case (default 1). A failure's report line carries it. */
  readonly seed?: number;
  /** Iterations of random_map (default 1000); the other random cases scale from it. */
  readonly iterations?: number;
  /** Run only these cases (by name). */
  readonly only?: readonly string[];
  /** Called before each case runs. */
  readonly onProgress?: (caseName: string, config: C) => void;
}

/** pass, fail, or n/a when the case does not apply to the configuration (e.g. needs a walker). */
export type CaseStatus = "pass" | "fail" | "n/a";

export interface CaseResult {
  readonly case: string;
  /** Index into the configs given to runConformance, and its label. */
  readonly configIndex: number;
  readonly config: string;
  readonly status: CaseStatus;
  /** Why it failed, or why it does not apply. */
  readonly reason?: string;
  /** The seed that reproduces a failure of a random case. */
  readonly seed?: number;
  /** The IOVA where the failure was seen, when known. */
  readonly iova?: bigint;
  /** Wall-clock milliseconds, for information only. */
  readonly ms: number;
}

export interface ConformanceReport {
  /** True when no case failed. */
  readonly ok: boolean;
  readonly seed: number;
  readonly iterations: number;
  /** One label per config, in order: "<format name>: <format config>". */
  readonly configs: readonly string[];
  /** The case names that were run, in order. */
  readonly cases: readonly string[];
  /** Every case x config. */
  readonly results: readonly CaseResult[];
  readonly totals: {
    readonly pass: number;
    readonly fail: number;
    readonly notApplicable: number;
    readonly total: number;
  };
}
