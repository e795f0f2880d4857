// Failure reporting for the cases: a CaseFailure carries the IOVA (and the runner adds the seed) so a
// report line can be replayed. The checks are small and say what was expected, in hex.
import { hex, PtError, type PtErrorCode } from "@genpt/core";

/** Why a case failed, with the IOVA where it did when that is known. */
export class CaseFailure extends Error {
  readonly iova: bigint | undefined;

  constructor(message: string, iova?: bigint) {
    super(message);
    this.name = "CaseFailure";
    this.iova = iova;
  }
}

/** Renders a value for a failure message: bigints and safe integers in hex. */
export function show(v: unknown): string {
  if (typeof v === "bigint") return hex(v);
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${show(x)}`)
      .join(", ")} }`;
  }
  return String(v);
}

export function fail(message: string, iova?: bigint): never {
  throw new CaseFailure(message, iova);
}

export function check(cond: boolean, message: string | (() => string), iova?: bigint): asserts cond {
  if (!cond) fail(typeof message === "string" ? message : message(), iova);
}

/** Fails unless `actual` equals `expected` (deep, via show()). */
export function eq<T>(actual: T, expected: T, what: string, iova?: bigint): void {
  if (actual === expected) return;
  const a = show(actual);
  const e = show(expected);
  if (a !== e) fail(`${what}: got ${a}, expected ${e}`, iova);
}

/** Runs `fn`, which must throw a PtError with `code`; returns it. */
export function expectPtError(fn: () => unknown, code: PtErrorCode, what: string, iova?: bigint): PtError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof PtError)) fail(`${what}: threw ${String(e)}, expected PtError ${code}`, iova);
    if (e.code !== code) fail(`${what}: threw PtError ${e.code} (${e.message}), expected ${code}`, iova);
    if (e.message.length === 0) fail(`${what}: PtError ${code} has an empty message`, iova);
    return e;
  }
  return fail(`${what}: returned ${show(result)}, expected PtError ${code}`, iova);
}
