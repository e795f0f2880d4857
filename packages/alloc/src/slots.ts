// Slot lookups: from a table's byte address to its 64-byte metadata slot in the buddy's side arrays,
// with the checks every per-table call makes (live, at a table start).
import type { Buddy } from "./buddy.js";
import { hex, PtError } from "./errors.js";
import { M_LIVE } from "./meta.js";

/** An address for a message: hex when it is one, as written otherwise. */
export function fmtPa(pa: unknown): string {
  return typeof pa === "number" && Number.isInteger(pa) && pa >= 0 ? hex(pa) : String(pa);
}

/** The slot of the live table starting at `pa`, or -1. */
export function slotIfLive(b: Buddy, pa: number): number {
  if (typeof pa !== "number" || !(pa >= b.base && pa < b.frontier)) return -1;
  const off = pa - b.base;
  if (off % 64 !== 0) return -1;
  const s = off / 64;
  return (b.meta[s]! & M_LIVE) !== 0 ? s : -1;
}

/** The slot of the live table starting at `pa`; EINVAL naming `what` otherwise. */
export function liveSlot(b: Buddy, pa: number, what: string): number {
  const s = slotIfLive(b, pa);
  if (s < 0) {
    throw new PtError(
      "EINVAL",
      `${what}(${fmtPa(pa)}): no live table starts at this address (double free, never allocated, or not a table start)`,
    );
  }
  return s;
}
