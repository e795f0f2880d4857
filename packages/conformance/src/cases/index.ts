// The catalog, in the order the report lists it: the format-level KUnit cases first, then map/unmap,
// the random model and the device-side cases, cut/split/merge and the dirty log, then the bad-input
// battery and the ENOMEM cases.
import type { ConformanceCase } from "../case.js";
import { badArgs, badRanges, overlap, useAfterDestroy } from "./bad-input.js";
import { bestPgsize, mapPgsizeChoice } from "./best-pgsize.js";
import { cutBoundaries } from "./cut.js";
import { dirty } from "./dirty.js";
import { dirtyLifecycle } from "./dirty-lifecycle.js";
import { dirtyLog } from "./dirty-log.js";
import { attrFromEntry, entryOa } from "./entries.js";
import { entryPossibleSizes, init, maxVa, tableRadix } from "./geometry.js";
import { increaseLevel } from "./growth.js";
import { mapSimple, mapTableToOa, unmapSplit } from "./mapping.js";
import { mergeRefusals } from "./merge-refusals.js";
import { randomMap } from "./random-map.js";
import { mixed, pgsizeBoundary } from "./regressions.js";
import { resizeRandom, resizeRandomIncoherent } from "./resize-random.js";
import { enomemRollback } from "./rollback.js";
import { simCoherent, simIncoherent } from "./sim.js";
import { splitEnomem, splitMerge } from "./split-merge.js";
import { vaEnds } from "./va-ends.js";
import { walkerModel } from "./walker-model.js";

export const CASES: readonly ConformanceCase[] = [
  init,
  bestPgsize,
  tableRadix,
  maxVa,
  entryPossibleSizes,
  entryOa,
  attrFromEntry,
  dirty,
  increaseLevel,
  mapSimple,
  mapTableToOa,
  unmapSplit,
  mapPgsizeChoice,
  pgsizeBoundary,
  mixed,
  vaEnds,
  randomMap,
  walkerModel,
  simCoherent,
  simIncoherent,
  dirtyLifecycle,
  splitMerge,
  cutBoundaries,
  mergeRefusals,
  dirtyLog,
  resizeRandom,
  resizeRandomIncoherent,
  badArgs,
  badRanges,
  overlap,
  enomemRollback,
  splitEnomem,
  useAfterDestroy,
];
