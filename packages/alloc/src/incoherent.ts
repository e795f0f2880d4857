// Incoherent-walker flags of a live table, kept in its metadata slot: "DMA-mapped" (start/stop
// incoherent) and "still flushing" (set by the installer of a pointer to a table whose flush has not
// completed; a walker-side thread that sees it must flush before the hardware may use the table).
import type { Buddy } from "./buddy.js";
import { PtError } from "./errors.js";
import { M_FLUSHING, M_INCOH } from "./meta.js";
import { fmtPa, liveSlot, slotIfLive } from "./slots.js";

export function startIncoherent(b: Buddy, pa: number): void {
  const s = liveSlot(b, pa, "startIncoherent");
  const m = b.meta[s]!;
  if ((m & M_INCOH) !== 0)
    throw new PtError("EINVAL", `startIncoherent(${fmtPa(pa)}): the table is incoherent already`);
  b.setMeta(s, m | M_INCOH);
}

export function stopIncoherent(b: Buddy, pa: number): void {
  const s = liveSlot(b, pa, "stopIncoherent");
  const m = b.meta[s]!;
  if ((m & M_INCOH) === 0)
    throw new PtError("EINVAL", `stopIncoherent(${fmtPa(pa)}): incoherent tracking was never started`);
  b.setMeta(s, m & ~M_INCOH);
}

/** Starts (or stops) every table of `tables`, all or nothing. */
export function setIncoherentAll(b: Buddy, tables: Iterable<number>, on: boolean, what: string): void {
  for (const pa of tables) {
    if (isIncoherent(b, pa) === on)
      throw new PtError(
        "EINVAL",
        `${what}: table ${fmtPa(pa)} ${on ? "is incoherent already" : "was never started"}`,
      );
  }
  for (const pa of tables) (on ? startIncoherent : stopIncoherent)(b, pa);
}

export function isIncoherent(b: Buddy, pa: number): boolean {
  const s = slotIfLive(b, pa);
  return s >= 0 && (b.meta[s]! & M_INCOH) !== 0;
}

/** Release side: setting it twice is allowed. */
export function setStillFlushing(b: Buddy, pa: number): void {
  const s = liveSlot(b, pa, "setStillFlushing");
  b.setMeta(s, b.meta[s]! | M_FLUSHING);
}

export function doneFlush(b: Buddy, pa: number): void {
  const s = liveSlot(b, pa, "doneFlush");
  const m = b.meta[s]!;
  if ((m & M_FLUSHING) === 0)
    throw new PtError("EINVAL", `doneFlush(${fmtPa(pa)}): setStillFlushing was not called for this table`);
  b.setMeta(s, m & ~M_FLUSHING);
}

/** Acquire side; false for anything that is not a live table. */
export function isStillFlushing(b: Buddy, pa: number): boolean {
  const s = slotIfLive(b, pa);
  return s >= 0 && (b.meta[s]! & M_FLUSHING) !== 0;
}
