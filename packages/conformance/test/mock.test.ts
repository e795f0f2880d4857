// The core's KUnit-catalog port (issue 3), proven on the mock formats: the whole conformance suite on
// mock64 (8-byte entries, dynamic top, replicated contiguous leaves, dirty bits) and mock32 (4-byte
// entries, sub-page tables, per-item contiguous OAs), each with its hardware walker.
import { mock32, mock32Walker, mock64, mock64Walker } from "@genpt/core";
import { describeConformance } from "../src/vitest.js";

describeConformance("mock64", (c: { topLevel: number }) => ({ format: mock64(c), walker: mock64Walker() }), [
  { topLevel: 2 },
  { topLevel: 4 },
]);

describeConformance("mock32", () => ({ format: mock32(), walker: mock32Walker() }), [{}]);
