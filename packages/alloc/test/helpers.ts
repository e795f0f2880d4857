// Shared test helpers: PtError assertions and "nothing changed" checks.
import { expect } from "vitest";
import { type LevelAllocator, PtError, type PtErrorCode } from "../src/index.js";

/** Runs fn, expects a PtError with this code whose message matches `msg`, and returns it. */
export function expectPtError(fn: () => unknown, code: PtErrorCode, msg?: RegExp): PtError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a PtError to be thrown").toBeInstanceOf(PtError);
  const err = caught as PtError;
  expect(err.code).toBe(code);
  if (msg) expect(err.message).toMatch(msg);
  return err;
}

/** Runs fn expecting a PtError, and checks that stats() and the memory hash did not move. */
export function expectUnchanged(a: LevelAllocator, fn: () => unknown, code: PtErrorCode, msg?: RegExp): void {
  const stats = a.stats();
  const hash = a.mem.hash();
  expectPtError(fn, code, msg);
  expect(a.stats()).toEqual(stats);
  expect(a.mem.hash()).toBe(hash);
}
