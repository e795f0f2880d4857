// Prot: the IOMMU protection flags a caller passes to map, after Linux's IOMMU_READ/WRITE/CACHE/NOEXEC/MMIO/PRIV.
import { PtError } from "@genpt/alloc";

/**
 * Protection flags for `map`. Combine with `|`. READ or WRITE must be present.
 *
 * @example
 * pt.map(0x1000n, 0x8000_0000n, 0x1000n, Prot.READ | Prot.WRITE | Prot.CACHE);
 */
export const Prot = {
  READ: 1,
  WRITE: 2,
  CACHE: 4,
  NOEXEC: 8,
  MMIO: 16,
  PRIV: 32,
} as const;

export const PROT_ALL = 63;

/** Names of the set flags, for messages and dumps: `protName(3) === "READ|WRITE"`. */
export function protName(prot: number): string {
  const names = Object.entries(Prot)
    .filter(([, bit]) => (prot & bit) !== 0)
    .map(([name]) => name);
  return names.length === 0 ? "none" : names.join("|");
}

/** Rejects prot values map can never accept, whatever the format. */
export function checkProt(prot: number): void {
  if (!Number.isInteger(prot) || prot < 0 || (prot & ~PROT_ALL) !== 0) {
    throw new PtError("EINVAL", `prot ${String(prot)} has bits outside READ|WRITE|CACHE|NOEXEC|MMIO|PRIV`);
  }
  if ((prot & (Prot.READ | Prot.WRITE)) === 0) {
    throw new PtError(
      "EINVAL",
      `prot ${protName(prot)} grants neither READ nor WRITE; a mapping must allow one`,
    );
  }
}
