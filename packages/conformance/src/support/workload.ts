// The seeded random workload shared by random_map, walker_model and the sim cases: map calls of mixed
// page sizes clustered near both ends of every region (so they collide), and unmaps of whole earlier
// map calls (possibly several, with holes between), which never start or end inside an entry.
import { PROT_ALL, Prot, PtError } from "@genpt/core";
import { IntervalModel } from "@genpt/sim";
import type { Rng } from "./rng.js";
import { alignDown, type Region } from "./shape.js";
import type { TestTable } from "./table.js";

export interface MapCall {
  readonly iova: bigint;
  readonly pa: bigint;
  readonly size: bigint;
  readonly prot: number;
}

/** The prots a format accepts (protToAttrs does not throw), READ|WRITE first. */
function acceptedProts(t: TestTable): number[] {
  const out: number[] = [];
  for (let p = 1; p <= PROT_ALL; p++) {
    if ((p & (Prot.READ | Prot.WRITE)) === 0) continue;
    try {
      t.pt.format.protToAttrs(p);
      out.push(p);
    } catch (e) {
      if (!(e instanceof PtError)) throw e;
    }
  }
  return out.sort((a, b) => (a === 3 ? -1 : b === 3 ? 1 : a - b));
}

export class Workload {
  /** What the CPU side mapped, as the sim's reference model. */
  readonly model = new IntervalModel();
  /** Successful map calls still mapped, ascending by IOVA. */
  readonly calls: MapCall[] = [];
  readonly prots: number[];
  private readonly usable: bigint[];
  private readonly oaEnd: bigint;

  constructor(
    private readonly t: TestTable,
    private readonly rng: Rng,
  ) {
    this.prots = acceptedProts(t);
    this.oaEnd = 1n << BigInt(t.info().oaBits);
    // Every region has the same span (one region, or two equal sign-extended halves).
    const span = t.regions[0]!.end - t.regions[0]!.start;
    this.usable = t.sizes.filter((s) => 64n * s <= span && 64n * s <= this.oaEnd);
  }

  /** A random map call: 1-4 pages of a random size plus a tail of smaller ones, near a region's end. */
  nextMap(): MapCall {
    const { rng, usable } = this;
    const big = rng.pick(usable);
    const near = usable.filter((s) => s <= big && big / s <= 512n);
    const small = rng.pick(near);
    const size = BigInt(1 + rng.int(4)) * big + BigInt(rng.int(3)) * small;
    const region: Region = rng.pick(this.t.regions);
    const window = 32n * big;
    const base = rng.chance(0.5) ? region.start : region.end - window;
    const iova = base + alignDown(rng.below(window - size), small);
    // The OA matches the IOVA's alignment only up to a random size, which caps the page sizes map may use.
    const congruent = rng.pick(near);
    const pa = alignDown(rng.below(this.oaEnd - 8n * big), big) + (iova % congruent);
    return { iova, pa, size, prot: rng.pick(this.prots) };
  }

  /** Records a map call that succeeded. */
  mapped(c: MapCall): void {
    this.model.map(c.iova, c.pa, c.size, c.prot);
    const i = this.calls.findIndex((x) => x.iova > c.iova);
    this.calls.splice(i < 0 ? this.calls.length : i, 0, c);
  }

  /**
   * A random unmap covering 1-3 consecutive earlier map calls exactly (holes between them included),
   * with the bytes it must remove; or, now and then, a hole that must remove nothing.
   */
  nextUnmap(): { iova: bigint; size: bigint; removes: bigint } | undefined {
    const { rng, calls } = this;
    if (calls.length === 0 || rng.chance(0.05)) {
      const c = this.nextMap();
      return this.model.overlaps(c.iova, c.size) ? undefined : { iova: c.iova, size: c.size, removes: 0n };
    }
    const i = rng.int(calls.length);
    let j = Math.min(calls.length - 1, i + rng.int(3));
    // One unmap stays inside one region: the range between two sign-extended halves is not an IOVA range.
    while (j > i && this.regionOf(calls[j]!.iova) !== this.regionOf(calls[i]!.iova)) j--;
    const first = calls[i]!;
    const last = calls[j]!;
    let removes = 0n;
    for (let k = i; k <= j; k++) removes += calls[k]!.size;
    return { iova: first.iova, size: last.iova + last.size - first.iova, removes };
  }

  private regionOf(iova: bigint): Region | undefined {
    return this.t.regions.find((r) => iova >= r.start && iova < r.end);
  }

  /** Records an unmap that succeeded. */
  unmapped(iova: bigint, size: bigint): void {
    this.model.unmap(iova, size);
    const end = iova + size;
    for (let k = this.calls.length - 1; k >= 0; k--) {
      const c = this.calls[k]!;
      if (c.iova >= iova && c.iova + c.size <= end) this.calls.splice(k, 1);
    }
  }

  /** A random mapped IOVA, or undefined when nothing is mapped. */
  mappedIova(): bigint | undefined {
    if (this.calls.length === 0) return undefined;
    const c = this.rng.pick(this.calls);
    return c.iova + alignDown(this.rng.below(c.size), 8n);
  }

  /** A random IOVA near the mappings that nothing maps, or undefined when none was found quickly. */
  holeIova(): bigint | undefined {
    for (let k = 0; k < 4; k++) {
      const c = this.nextMap();
      if (!this.model.overlaps(c.iova, this.t.granule)) return c.iova;
    }
    return undefined;
  }
}
