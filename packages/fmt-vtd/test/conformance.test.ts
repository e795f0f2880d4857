// The shared conformance suite on every VT-d second-stage test configuration; the walker's host
// address width is the configuration's OA width, so any bit above it is a reserved-bit fault.
import { describeConformance } from "@genpt/conformance/vitest";
import { VTDSS_TEST_CONFIGS, type VtdssConfig, vtdss, vtdssWalker } from "../src/index.js";

describeConformance(
  "vtdss",
  (c: VtdssConfig) => {
    const format = vtdss(c);
    return { format, walker: vtdssWalker({ haw: format.geometry.oaBits }) };
  },
  [...VTDSS_TEST_CONFIGS],
);
