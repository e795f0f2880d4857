// A RISC-V Sv39/Sv48 format written as a user would write one against @genpt/core, and the module shape
// that `genpt check` and runConformance take: `factory`, `configs`, and a default of both.
import type { HardwareWalker, PtFeatures, PtFormat } from "@genpt/core";
import { type RiscvAttrs, type RiscvConfig, riscv } from "./riscv.js";
import { riscvWalker } from "./walker.js";

export { type RiscvAttrs, type RiscvConfig, type RiscvMode, riscv } from "./riscv.js";
export { riscvWalker } from "./walker.js";

/** The configurations the conformance suite runs: Sv39 and Sv48. */
export const configs: RiscvConfig[] = [{ mode: "sv39" }, { mode: "sv48" }];

/**
 * One configuration as the suite takes it: the format, its hardware walker, and the sign-extended VA
 * every RISC-V table needs.
 */
export function factory(config: RiscvConfig): {
  format: PtFormat<RiscvAttrs>;
  walker: HardwareWalker;
  features: PtFeatures;
} {
  return { format: riscv(config), walker: riscvWalker(config), features: { signExtend: true } };
}

export default { factory, configs };
