// The random sequence driver of the format packages: seeded runs of map, unmap, hole-unmap and DMA-write
// ops on a fresh page table, with the sim's IntervalModel as the reference, and after every op the
// agreement check (agreement.ts). A map that collides or leaves the aperture must fail and change
// nothing. What a format varies is data: its configurations, the op weights, where maps and holes go
// (placement.ts) and what its walker permits. Failures name the run, the op and the configuration.
import { type HardwareWalker, hex, type PageTable, type PtErrorCode } from "@genpt/core";
import { IntervalModel } from "@genpt/sim";
import { check, eq, fail, show } from "../support/assert.js";
import { Rng } from "../support/rng.js";
import { regionsOf } from "../support/shape.js";
import { type AgreementOptions, checkAgreement, plainAllows } from "./agreement.js";
import { expectUnchanged } from "./errors.js";
import { finish } from "./fixture.js";
import type { Placement } from "./placement.js";
import { walkCtx } from "./walk.js";

/** One run's table and the walker that reads it. */
export interface SequenceSubject {
  readonly pt: PageTable<unknown>;
  readonly walker: HardwareWalker;
}

/** Relative weights of the op kinds; a kind of weight 0 (or left out) is never drawn. */
export interface OpWeights {
  readonly map: number;
  readonly unmap?: number;
  readonly hole?: number;
  /** A DMA write through the walker with A/D updates on, then readAndClearDirty: dirty-tracking formats. */
  readonly dirty?: number;
}

export interface SequenceOptions<C> extends AgreementOptions {
  /** Names the sequences in failures. */
  readonly name: string;
  readonly seed: number;
  readonly runs: number;
  /** Ops per run, drawn from [min, max]. */
  readonly ops: { readonly min: number; readonly max: number };
  /** Run r uses configs[r % configs.length]. */
  readonly configs: readonly C[];
  /** A fresh table for one run, and its walker. The driver finishes the table (destroy and leak check). */
  readonly build: (config: C) => SequenceSubject;
  readonly weights: OpWeights;
  readonly placement: Placement;
  /** Entry sizes (log2) the walker must have used somewhere, so the sequences test what they claim. */
  readonly mustSee?: readonly number[];
}

type OpKind = "map" | "unmap" | "hole" | "dirty";

/** What the runs did, for assertions beyond the driver's own. */
export interface SequenceReport {
  /** Ops that took effect, by kind; "rejected" counts maps that failed as expected. */
  readonly done: Readonly<Record<OpKind | "rejected", number>>;
  /** log2 of every leaf size the walker used. */
  readonly seen: ReadonlySet<number>;
}

const KINDS: readonly OpKind[] = ["map", "unmap", "hole", "dirty"];

/** Runs the sequences; throws on the first disagreement, or when the mix left something untested. */
export function runSequences<C>(o: SequenceOptions<C>): SequenceReport {
  const done = { map: 0, unmap: 0, hole: 0, dirty: 0, rejected: 0 };
  const seen = new Set<number>();
  for (let run = 0; run < o.runs; run++) {
    const rng = new Rng(o.seed, `${o.name}/${run}`);
    const { pt, walker } = o.build(o.configs[run % o.configs.length]!);
    const seq = new Sequence(pt, walker, o, rng);
    const n = o.ops.min + rng.int(o.ops.max - o.ops.min + 1);
    let step = "";
    try {
      for (let k = 0; k < n; k++) {
        step = `op ${k + 1} of ${n}`;
        const kind = pickKind(rng, o.weights);
        const { did, what } = seq.apply(kind);
        step = `op ${k + 1} of ${n}: ${what}`;
        if (did) done[did]++;
        checkAgreement(pt, walker, seq.model, o, seen);
      }
      step = "finish";
      finish(pt);
    } catch (e) {
      if (step !== "finish") destroyQuietly(pt);
      const where = `${o.name}, seed ${hex(o.seed)}, run ${run} (${pt.format.name} ${pt.format.config})`;
      throw new Error(`${where}, ${step}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  for (const kind of KINDS)
    check(
      (o.weights[kind] ?? 0) === 0 || done[kind] > 0,
      `${o.name}: no ${kind} op took effect in ${o.runs} runs`,
    );
  check(done.rejected > 0, `${o.name}: no map collided in ${o.runs} runs`);
  const missing = (o.mustSee ?? []).filter((s) => !seen.has(s));
  check(missing.length === 0, () => `${o.name}: the walker never used a leaf of 2^${missing.join(", 2^")}`);
  return { done, seen };
}

function pickKind(rng: Rng, w: OpWeights): OpKind {
  let r = rng.int(KINDS.reduce((s, k) => s + (w[k] ?? 0), 0));
  for (const k of KINDS) {
    r -= w[k] ?? 0;
    if (r < 0) return k;
  }
  return "map";
}

function destroyQuietly(pt: PageTable<unknown>): void {
  try {
    if (!pt.internals.destroyed) pt.destroy();
  } catch {
    // The failure being reported matters more than a table that cannot be torn down.
  }
}

const TWO64 = 1n << 64n;

/** What one op did: the kind it counts as (none when it found nothing to do), and a line for failures. */
interface Effect {
  readonly did?: OpKind | "rejected";
  readonly what: string;
}

/** One run: the table, the model, and the ops. */
class Sequence<C> {
  readonly model = new IntervalModel();

  constructor(
    private readonly pt: PageTable<unknown>,
    private readonly walker: HardwareWalker,
    private readonly o: SequenceOptions<C>,
    private readonly rng: Rng,
  ) {}

  apply(kind: OpKind): Effect {
    if (kind === "map") return this.map();
    if (kind === "unmap") return this.unmap();
    if (kind === "hole") return this.hole();
    return this.dirty();
  }

  private inAperture(iova: bigint, size: bigint): boolean {
    return regionsOf(this.pt.info(), this.pt.format).some((r) => iova >= r.start && iova + size <= r.end);
  }

  private map(): Effect {
    const { pt, model } = this;
    const c = this.o.placement.map(this.rng, pt.info());
    const what = `map(${show(c.iova)}, ${show(c.pa)}, ${show(c.size)}, ${c.prot})`;
    let code: PtErrorCode | undefined;
    if (c.iova + c.size > TWO64) code = "EOVERFLOW";
    else if (!this.inAperture(c.iova, c.size)) code = "ERANGE";
    else if (model.overlaps(c.iova, c.size)) code = "EADDRINUSE";
    if (code) {
      expectUnchanged(pt, () => pt.map(c.iova, c.pa, c.size, c.prot), code, new RegExp(code), what);
      return { did: "rejected", what: `${what}: ${code}` };
    }
    pt.map(c.iova, c.pa, c.size, c.prot);
    model.map(c.iova, c.pa, c.size, c.prot);
    return { did: "map", what };
  }

  /** From the start of one mapping to the end of up to two more after it (holes between included). */
  private unmap(): Effect {
    const { pt, model, rng } = this;
    const all = model.ranges();
    if (all.length === 0) return { what: "unmap: nothing mapped" };
    const i = rng.int(all.length);
    let j = Math.min(all.length - 1, i + rng.int(3));
    // One unmap stays in one region: between two sign-extended halves is no IOVA range.
    while (j > i && !this.inAperture(all[i]!.iova, all[j]!.iova + all[j]!.size - all[i]!.iova)) j--;
    const iova = all[i]!.iova;
    const size = all[j]!.iova + all[j]!.size - iova;
    const what = `unmap(${show(iova)}, ${show(size)})`;
    eq(pt.unmap(iova, size), model.mappedBytes(iova, size), `${what} bytes`);
    model.unmap(iova, size);
    return { did: "unmap", what };
  }

  /** An unmap where nothing is mapped: it removes nothing, though it may free emptied tables. */
  private hole(): Effect {
    const { pt, model } = this;
    const h = this.o.placement.hole(this.rng, pt.info(), model.ranges());
    if (!h || model.overlaps(h.iova, h.size) || !this.inAperture(h.iova, h.size))
      return { what: "hole: none free" };
    const what = `hole unmap(${show(h.iova)}, ${show(h.size)})`;
    const leaves = pt.census().leaves;
    eq(pt.unmap(h.iova, h.size), 0n, `${what} bytes`);
    eq(pt.census().leaves, leaves, `${what}: leaves (census)`);
    return { did: "hole", what };
  }

  /** A DMA write marks exactly the entry it went through dirty; harvesting clears it. */
  private dirty(): Effect {
    const { pt, rng } = this;
    const allows = this.o.allows ?? plainAllows;
    const writable = this.model.ranges().filter((m) => allows(m.prot, "write"));
    if (writable.length === 0) return { what: "dirty: nothing writable" };
    const m = rng.pick(writable);
    const { granule } = pt.info();
    const iova = m.iova + BigInt(rng.int(Number(m.size / granule))) * granule;
    const what = `dirty: DMA write at ${show(iova)}`;
    const r = this.walker.translate(pt.mem, walkCtx(pt, true), iova, "write");
    if (!r.ok) return fail(`${what} faulted: ${r.kind}: ${r.detail}`, iova);
    eq(r.pa, m.pa + (iova - m.iova), `${what}: pa`, iova);
    const entry = 1n << BigInt(r.pageLg2);
    const start = iova & ~(entry - 1n);
    check(start >= m.iova && start + entry <= m.iova + m.size, `${what}: its entry leaves the mapping`, iova);
    eq(pt.readAndClearDirty(m.iova, m.size), [{ iova: start, size: entry }], `${what}: first harvest`, iova);
    eq(pt.readAndClearDirty(m.iova, m.size), [], `${what}: second harvest`, iova);
    return { did: "dirty", what };
  }
}
