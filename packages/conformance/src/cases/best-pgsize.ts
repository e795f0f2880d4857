// Page-size choice (genpt-upstream §2.4). best_pgsize holds computeBestPgsize against a brute-force
// reference; map_pgsize_choice holds the tables map builds against the same rule, step by step.
import { computeBestPgsize, Prot } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeRange } from "../support/agree.js";
import { eq, fail, show } from "../support/assert.js";
import type { Rng } from "../support/rng.js";
import { alignDown, bitmapOf, greedyPlan, leafMap, planText, samePlan } from "../support/shape.js";

const TWO64 = 1n << 64n;

/** The definition, checked size by size from the largest: aligned va and oa, and no longer than the range. */
function reference(bitmap: bigint, va: bigint, lastVa: bigint, oa: bigint): bigint {
  if (lastVa < va) return 0n;
  const len = lastVa - va + 1n;
  for (let b = 63n; b >= 0n; b--) {
    const s = 1n << b;
    if ((bitmap & s) !== 0n && va % s === 0n && oa % s === 0n && s <= len) return s;
  }
  return 0n;
}

/** A 64-bit value aligned to a random power of two, sometimes with every bit above set. */
function alignedValue(rng: Rng): bigint {
  const align = 1n << BigInt(rng.int(64));
  const v = alignDown(rng.bits64(), align);
  return rng.chance(0.1) ? TWO64 - align : v;
}

export const bestPgsize = defineCase({
  name: "best_pgsize",
  summary: "computeBestPgsize matches a brute-force reference on random and boundary vectors",
  random: true,
  run(env) {
    const rng = env.rng();
    const fmtBitmap = bitmapOf(env.table().sizes);
    let n = 0;
    const one = (bitmap: bigint, va: bigint, last: bigint, oa: bigint) => {
      n++;
      const got = computeBestPgsize(bitmap, va, last, oa);
      const want = reference(bitmap, va, last, oa);
      if (got !== want)
        fail(
          `computeBestPgsize(${show(bitmap)}, va ${show(va)}, last ${show(last)}, oa ${show(oa)}) = ${show(got)}, reference ${show(want)}`,
          va,
        );
    };
    const bitmaps = [
      0n,
      TWO64 - 1n,
      fmtBitmap,
      fmtBitmap & ~0xfffn,
      0xffff_ffff_0000_0000n,
      1n << 63n,
      0x1000n,
    ];
    // Boundaries: zero prefixes, all-ones prefixes, exact powers of two and one either side.
    for (const bitmap of bitmaps) {
      for (let b = 0; b < 64; b++) {
        const p = 1n << BigInt(b);
        for (const len of [p - 1n, p, p + 1n]) {
          if (len <= 0n) continue;
          one(bitmap, 0n, len - 1n, 0n);
          if (len <= TWO64 - p)
            one(bitmap, TWO64 - p, TWO64 - p + len - 1n < TWO64 ? TWO64 - p + len - 1n : TWO64 - 1n, p);
          one(bitmap, p, p + len - 1n < TWO64 ? p + len - 1n : TWO64 - 1n, 0n);
        }
        one(bitmap, TWO64 - p, TWO64 - 1n, TWO64 - p);
      }
      one(bitmap, 0n, TWO64 - 1n, 0n);
      one(bitmap, 0x1000n, 0xfffn, 0n);
    }
    // Random vectors, a third of them with the format's own bitmap.
    for (let i = 0; i < 4000; i++) {
      const bitmap = rng.chance(0.33) ? fmtBitmap : rng.bits64();
      const va = alignedValue(rng);
      const oa = alignedValue(rng);
      const span = rng.chance(0.5) ? 1n << BigInt(rng.int(64)) : rng.bits64() >> BigInt(rng.int(64));
      const last = va + span - 1n < TWO64 ? va + (span > 0n ? span - 1n : 0n) : TWO64 - 1n;
      one(bitmap, va, last, oa);
    }
    eq(n > 4000, true, "vectors checked");
  },
});

export const mapPgsizeChoice = defineCase({
  name: "map_pgsize_choice",
  summary: "map places exactly the leaves the best-page-size rule picks, step by step",
  random: true,
  run(env) {
    const rng = env.rng();
    const t = env.table();
    const region = t.regions[0]!;
    const span = region.end - region.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    const sizes = t.sizes.filter((s) => s * 16n <= span && s * 16n <= oaEnd);
    const trials = Math.max(50, Math.floor(env.iterations / 5));
    for (let i = 0; i < trials; i++) {
      // Alignments at most 2^10 below the big size keep a trial to a few thousand leaves.
      const big = rng.pick(sizes);
      const near = sizes.filter((s) => s <= big && big / s <= 1024n);
      const small = rng.pick(near);
      const iova = region.start + alignDown(rng.below(span - 8n * big), small);
      // The OA is congruent to the IOVA only up to a random alignment, which caps the sizes map can use.
      const oaAlign = rng.pick(near);
      const pa = alignDown(rng.below(oaEnd - 8n * big), big) + (iova % oaAlign);
      const size = BigInt(1 + rng.int(3)) * big + BigInt(rng.int(3)) * small;
      const plan = greedyPlan(t.sizes, iova, pa, size);
      env.at(iova);
      t.pt.map(iova, pa, size, Prot.READ | Prot.WRITE);
      const got = leafMap(t.pt.census().leaves);
      if (!samePlan(got, plan))
        fail(
          `map(${show(iova)}, ${show(pa)}, ${show(size)}) placed ${planText(got)}, the rule picks ${planText(plan)}`,
          iova,
        );
      agreeRange(t, iova, pa, size, Prot.READ | Prot.WRITE);
      eq(t.pt.unmap(iova, size), size, "unmap of the whole mapping", iova);
    }
  },
});
