// "This call fails with PtError CODE", and "... and changes nothing": the error checks of a format
// package's tests. They throw plain Errors (CaseFailure), so they work under any test runner.
import { type PageTable, PtError, type PtErrorCode } from "@genpt/core";
import { fail, expectPtError as requirePtError } from "../support/assert.js";
import { rejectsUnchanged, type Snapshot, snapshotOf } from "../support/table.js";

/** What must not change when a call fails: the memory hash, the allocator's stats, the root and top level. */
export type Fingerprint = Snapshot;

/** The fingerprint of `pt` now; compare two with toEqual. */
export function fingerprint(pt: PageTable<unknown>): Fingerprint {
  return snapshotOf(pt);
}

/** The PtError `fn` throws; undefined when it returns or throws anything else. */
export function ptErrorOf(fn: () => unknown): PtError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof PtError) return e;
  }
  return undefined;
}

function matches(e: PtError, msg: RegExp | undefined, what: string): PtError {
  if (msg && !msg.test(e.message)) fail(`${what}: PtError message "${e.message}" does not match ${msg}`);
  return e;
}

/** `fn` must throw a PtError with `code` (and a message matching `msg`); returns it. */
export function expectPtError(
  fn: () => unknown,
  code: PtErrorCode,
  msg?: RegExp,
  what = "the call",
): PtError {
  return matches(requirePtError(fn, code, what), msg, what);
}

/**
 * `fn` must throw a PtError with `code` (and a message matching `msg`), leaving the memory, the allocator
 * and the top of `pt` exactly as they were; returns the error.
 */
export function expectUnchanged(
  pt: PageTable<unknown>,
  fn: () => unknown,
  code: PtErrorCode,
  msg?: RegExp,
  what = "the call",
): PtError {
  return matches(rejectsUnchanged(pt, code, what, fn), msg, what);
}
