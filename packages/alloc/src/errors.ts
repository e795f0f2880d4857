// PtError: the one error type of genpt. It lives here, at the bottom of the import graph, so that the
// allocator can raise ENOMEM and @genpt/core can re-export the same class without a cycle.

/** The error codes DESIGN "Errors" names, after their POSIX meanings. */
export type PtErrorCode =
  | "EINVAL"
  | "ERANGE"
  | "EADDRINUSE"
  | "ENOMEM"
  | "ENXIO"
  | "EOPNOTSUPP"
  | "EOVERFLOW";

export const PT_ERROR_CODES: readonly PtErrorCode[] = [
  "EINVAL",
  "ERANGE",
  "EADDRINUSE",
  "ENOMEM",
  "ENXIO",
  "EOPNOTSUPP",
  "EOVERFLOW",
];

/**
 * A failed genpt operation. `code` says which kind; the message names the bad value and the rule it broke.
 * After a PtError the page table and the allocator are exactly as they were before the call.
 *
 * @example
 * try { pt.map(0x1001n, 0x2000n, 0x1000n, Prot.READ); }
 * catch (e) { if (e instanceof PtError && e.code === "EINVAL") console.log(e.message); }
 */
export class PtError extends Error {
  readonly code: PtErrorCode;

  constructor(code: PtErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "PtError";
    this.code = code;
  }
}

/** Formats a bigint or number address as 0x-prefixed hex, for error messages and dumps. */
export function hex(v: bigint | number): string {
  if (typeof v === "number") return `0x${v.toString(16)}`;
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}
