// The shared conformance suite (KUnit catalog, random model with the walker, sim checker, dirty
// lifecycle, bad input, leaks) on every AMD v1 test configuration. AMD v1 has no 512G page, so level 3
// (spec level 4) holds no item-sized leaf.
import { describeConformance } from "@genpt/conformance/vitest";
import { AMDV1_TEST_CONFIGS, type Amdv1Config, amdv1, amdv1Walker } from "../src/index.js";

describeConformance(
  "amdv1",
  (c: Amdv1Config) => ({ format: amdv1(c), walker: amdv1Walker(), quirks: { noItemLeafAt: [3] } }),
  [...AMDV1_TEST_CONFIGS],
);
