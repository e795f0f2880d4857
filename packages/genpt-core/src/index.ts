// @genpt/core: the format contract, the walk, and the algorithms every format shares.
export { hex, PT_ERROR_CODES, PtError, type PtErrorCode } from "@genpt/alloc";
export type { Census } from "./census.js";
export type { FlushRequest, IovaRange, PtDriver, TestBreaks } from "./driver.js";
export type { DumpOptions } from "./dump.js";
export { sizeName } from "./dump.js";
export {
  type DirtyBits,
  defineFormat,
  EMPTY,
  type EntryKind,
  type FormatSpec,
  type Geometry,
  LEAF,
  type LevelGeometry,
  type PtFormat,
  type ResizeDiscipline,
  TABLE,
} from "./format.js";
export { Gather } from "./gather.js";
export { checkGeometry, computeBestPgsize, topTableLg2, vaBitsAtTop } from "./layout.js";
export type { MergeResult } from "./merge.js";
export { mock32Walker, mock64Walker } from "./mock/mock-walker.js";
export { mock32 } from "./mock/mock32.js";
export { type MockAttrs, mock64 } from "./mock/mock64.js";
export type {
  CreateOptions,
  DirtyLogStartOptions,
  DirtyLogStopOptions,
  DirtyOptions,
  MapOptions,
  MergeOptions,
  PtFeatures,
  PtInfo,
} from "./options.js";
export { createPageTable, PageTable } from "./page-table.js";
export { checkProt, PROT_ALL, Prot, protName } from "./prot.js";
export type { SlotSnapshot, TableSnapshot } from "./snapshot.js";
export type { SplitResult } from "./split.js";
export type {
  Access,
  FaultKind,
  HardwareWalker,
  WalkContext,
  WalkerMemory,
  WalkFault,
  WalkHit,
  WalkResult,
  WalkStep,
} from "./walker.js";
export { walkFault } from "./walker.js";
