// The three-way agreement at one IOVA: what the model says is mapped there, what pt.iovaToPhys says, and
// what the hardware walker reads from raw memory (when there is one) must all be the same.
import { Prot } from "@genpt/core";
import type { IntervalModel } from "@genpt/sim";
import { eq, fail, show } from "./assert.js";
import type { TestTable } from "./table.js";

/** What should translate at an IOVA: the byte address, and the prot it was mapped with. */
export interface Expected {
  readonly pa: bigint;
  readonly prot: number;
}

/** Checks iovaToPhys, and the walker unless `walker` is false, at `iova` against `want` (undefined: unmapped). */
export function agreeAt(t: TestTable, iova: bigint, want: Expected | undefined, walker = true): void {
  const got = t.pt.iovaToPhys(iova);
  if (got !== want?.pa) fail(`iovaToPhys(${show(iova)}) = ${show(got)}, expected ${show(want?.pa)}`, iova);
  if (!t.walker || !walker) return;
  // Read where the prot allows it; a write-only mapping may still be readable (ARM has no write-only
  // encoding), so a write is tried only when the read is refused. The probe's A/D updates go to an
  // overlay: a check never changes the table.
  let r = t.probe(iova, "read");
  if (want !== undefined && (want.prot & Prot.READ) === 0 && !r.ok && r.kind === "permission")
    r = t.probe(iova, "write");
  if (want === undefined) {
    if (r.ok) fail(`walker translates unmapped ${show(iova)} to ${show(r.pa)} (level ${r.level})`, iova);
    return;
  }
  if (!r.ok)
    fail(`walker faults (${r.kind} at level ${r.level}: ${r.detail}) where ${show(want.pa)} is mapped`, iova);
  if (r.pa !== want.pa) fail(`walker translates to ${show(r.pa)}, expected ${show(want.pa)}`, iova);
}

/** First byte, last byte and a middle granule of [iova, iova + size). */
export function probePoints(iova: bigint, size: bigint, granule: bigint): bigint[] {
  const mid = iova + ((size / 2n) & ~(granule - 1n)) + (granule >> 1n);
  return size > granule ? [iova, mid, iova + size - 1n] : [iova, iova + size - 1n];
}

/** Checks a whole mapping [iova, iova + size) -> pa at its probe points. */
export function agreeRange(t: TestTable, iova: bigint, pa: bigint, size: bigint, prot: number): void {
  for (const p of probePoints(iova, size, t.granule)) agreeAt(t, p, { pa: pa + (p - iova), prot });
}

/** Agreement with the model at the probe points of every mapping, and the census's byte count. */
export function agreeModel(t: TestTable, model: IntervalModel, walker: boolean): void {
  let bytes = 0n;
  for (const r of model.ranges()) {
    bytes += r.size;
    for (const p of probePoints(r.iova, r.size, t.granule)) agreeAt(t, p, model.lookup(p), walker);
  }
  eq(t.pt.census().mappedBytes, bytes, "bytes mapped (census) against the model");
}
