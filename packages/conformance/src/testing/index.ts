// @genpt/conformance's testing kit: what the format packages' own tests share instead of copying it.
// The fixture (memory, table, finish), the PtError checks, the x86 radix reader, the walker checks, and
// the random sequence driver with its placements. Everything throws plain Errors: any runner will do.

export type { MapCall } from "../support/workload.js";
export { type AgreementOptions, checkAgreement, plainAllows } from "./agreement.js";
export { expectPtError, expectUnchanged, type Fingerprint, fingerprint, ptErrorOf } from "./errors.js";
export { finish, GiB, KiB, type MemOptions, MiB, newMem, newTable, TiB } from "./fixture.js";
export {
  type AlignedInWindow,
  alignedInWindow,
  type HoleCall,
  MIXED_PROTS,
  type PagesInRegions,
  type Placement,
  pagesInRegions,
  RW_PROTS,
} from "./placement.js";
export { rawAt, slotAddr } from "./radix.js";
export {
  type OpWeights,
  runSequences,
  type SequenceOptions,
  type SequenceReport,
  type SequenceSubject,
} from "./sequence.js";
export { checkLeafPermissions, expectOneLeaf, expectWalk, walkCtx } from "./walk.js";
