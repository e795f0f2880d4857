// The whole @genpt/conformance suite on the example format, Sv39 and Sv48, exactly as `genpt check
// examples/riscv/src/index.ts` runs it.
import { describeConformance } from "@genpt/conformance/vitest";
import { configs, factory } from "../src/index.js";

describeConformance("riscv", factory, configs);
