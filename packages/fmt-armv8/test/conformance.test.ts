// The shared conformance suite on every ARMv8 test configuration (granules, stages, 52-bit PA,
// concatenated stage-2 tops, the contiguous hint, DBM, TTBR1), each with its SMMUv3 walker.
import { describeConformance } from "@genpt/conformance/vitest";
import { ARMV8_TEST_CONFIGS, type Armv8Config, armv8, armv8Walker } from "../src/index.js";

describeConformance(
  "armv8",
  (c: Armv8Config) => ({
    format: armv8(c),
    walker: armv8Walker({ granule: c.granule, stage: c.stage, ias: c.ias, oas: c.oas, ttbr1: c.ttbr1 }),
  }),
  [...ARMV8_TEST_CONFIGS],
);
