// The aperture: turning public bigint IOVAs into internal granule numbers (vpn) and back, with the
// checks DESIGN "Errors" asks for. Handles the zero prefix, the all-ones prefix (ARM TTBR1) and the
// sign-extended VA (both canonical halves), and the full 64-bit VA where the end is 2^64.
import { hex, PtError } from "@genpt/alloc";

const TWO64 = 1n << 64n;

export type VaMode = "zero" | "ones" | "sign";

export class Aperture {
  readonly mode: VaMode;
  readonly vaBits: number;
  readonly g: number;
  /** First and last-plus-one IOVA of each valid region. */
  readonly regions: ReadonlyArray<{ start: bigint; end: bigint }>;
  private readonly gB: bigint;
  private readonly gNum: number;
  private readonly span: bigint;

  constructor(mode: VaMode, vaBits: number, granuleLg2: number) {
    this.mode = mode;
    this.vaBits = vaBits;
    this.g = granuleLg2;
    this.gB = BigInt(granuleLg2);
    this.gNum = 2 ** granuleLg2;
    this.span = 1n << BigInt(vaBits);
    if (mode === "zero") this.regions = [{ start: 0n, end: this.span }];
    else if (mode === "ones") this.regions = [{ start: TWO64 - this.span, end: TWO64 }];
    else {
      const half = this.span >> 1n;
      this.regions = [
        { start: 0n, end: half },
        { start: TWO64 - half, end: TWO64 },
      ];
    }
  }

  /** The granule number of a valid IOVA; the caller has checked it with checkRange. */
  toVpn(iova: bigint): number {
    // Number() of an exact bigint below 2^53 is cheap; only the upper 64-bit space needs the shift.
    if (this.mode === "zero" && iova < 9007199254740992n) return Math.floor(Number(iova) / this.gNum);
    return Number((iova & (this.span - 1n)) >> this.gB);
  }

  /** The IOVA of granule number `vpn`. */
  toIova(vpn: number): bigint {
    const low = BigInt(vpn) << this.gB;
    if (this.mode === "zero") return low;
    if (this.mode === "ones") return TWO64 - this.span + low;
    return low >= this.span >> 1n ? TWO64 - this.span + low : low;
  }

  /** Checks [iova, iova + size) lies in one valid region; size > 0 and both granule-aligned are checked elsewhere. */
  checkRange(what: string, iova: bigint, size: bigint): void {
    if (iova < 0n || iova >= TWO64)
      throw new PtError("EINVAL", `${what}: iova ${hex(iova)} is not a 64-bit address`);
    if (iova + size > TWO64)
      throw new PtError(
        "EOVERFLOW",
        `${what}: iova ${hex(iova)} + size ${hex(size)} overflows the 64-bit space`,
      );
    for (const r of this.regions) {
      if (iova >= r.start && iova < r.end) {
        if (iova + size <= r.end) return;
        throw new PtError(
          "ERANGE",
          `${what}: range [${hex(iova)}, ${hex(iova + size)}) runs past the end of the ${this.vaBits}-bit aperture at ${hex(r.end)}`,
        );
      }
    }
    throw new PtError("ERANGE", `${what}: iova ${hex(iova)} is outside the aperture ${this.describe()}`);
  }

  describe(): string {
    return this.regions.map((r) => `[${hex(r.start)}, ${hex(r.end)})`).join(" and ");
  }
}

/** Checks that a public argument is a bigint, so a number never slips through silently. */
export function needBigint(what: string, name: string, v: unknown): bigint {
  if (typeof v !== "bigint")
    throw new PtError("EINVAL", `${what}: ${name} must be a bigint, got ${typeof v} ${String(v)}`);
  return v;
}

/** Checks alignment of a public argument to the smallest page (the granule). */
export function needAligned(what: string, name: string, v: bigint, g: number): void {
  if ((v & ((1n << BigInt(g)) - 1n)) !== 0n)
    throw new PtError(
      "EINVAL",
      `${what}: ${name} ${hex(v)} is not aligned to the ${hex(1n << BigInt(g))}-byte granule`,
    );
}
