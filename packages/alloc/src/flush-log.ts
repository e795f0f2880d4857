// FlushLog: the record of half-open table-memory ranges written back for an incoherent walker, so
// tests can prove every write was flushed before the hardware could see it.
import { hex, PtError } from "./errors.js";
import type { PhysMem } from "./physmem.js";
import { fmtPa } from "./slots.js";

export class FlushLog {
  private pa: number[] = [];
  private len: number[] = [];

  record(mem: PhysMem, pa: number, len: number): void {
    if (!Number.isInteger(pa) || !Number.isInteger(len) || len <= 0) {
      throw new PtError(
        "EINVAL",
        `recordFlush(${fmtPa(pa)}, ${String(len)}): need an integer address and length > 0`,
      );
    }
    if (!mem.contains(pa, len)) {
      throw new PtError("ERANGE", `recordFlush: [${hex(pa)}, ${hex(pa + len)}) is outside ${mem.describe()}`);
    }
    this.pa.push(pa);
    this.len.push(len);
  }

  entries(): ReadonlyArray<{ pa: number; len: number }> {
    return this.pa.map((pa, i) => ({ pa, len: this.len[i]! }));
  }

  clear(): void {
    this.pa = [];
    this.len = [];
  }
}
