// splitBlocks and mergePages on every format: a block split into smallest pages translates exactly as
// before (walker, iovaToPhys, model, device) and merges back bit-identical with its tables freed; and
// ENOMEM at every allocation of a split (and of a cut) changes nothing.
import { Prot } from "@genpt/core";
import { IntervalModel } from "@genpt/sim";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { check, eq, show } from "../support/assert.js";
import { deviceAgrees, deviceTable } from "../support/device.js";
import type { CaseEnv } from "../support/env.js";
import { itemWord, leafEntries } from "../support/resize.js";
import { lg2 } from "../support/shape.js";
import type { TestTable } from "../support/table.js";

const RW = Prot.READ | Prot.WRITE;

/** A block-sized range to split: up to 1 GiB, aligned to its size, with room around it. */
export function blockRange(t: TestTable): { iova: bigint; pa: bigint; size: bigint } {
  const region = t.regions[0]!;
  const span = region.end - region.start;
  const oaEnd = 1n << BigInt(t.info().oaBits);
  let size = 1n << 30n;
  while (size > t.granule && (4n * size > span || 4n * size > oaEnd)) size >>= 1n;
  return { iova: region.start + size, pa: 2n * size, size };
}

/** Fails unless every leaf in the table has the smallest page size, `pages` of them. */
export function allSmallest(t: TestTable, pages: bigint, what: string): void {
  const min = lg2(t.sizes[0]!);
  const leaves = t.pt.census().leaves;
  eq(show(leaves), show({ [min]: Number(pages) }), `${what}: leaves by size`);
}

export const splitMerge = defineCase({
  name: "split_merge",
  summary:
    "splitBlocks turns a 1 GiB block into smallest pages that translate as before; mergePages restores it bit-identical and frees the tables",
  run(env) {
    const model = new IntervalModel();
    const d = deviceTable(env);
    const t = d.t;
    const { iova, pa, size } = blockRange(t);
    t.pt.map(env.at(iova), pa, size, RW);
    model.map(iova, pa, size, RW);
    const before = leafEntries(t.pt, iova, size);
    const liveBefore = t.pt.allocator.stats().liveTables;
    const large = before.filter((e) => e.size > t.sizes[0]!).length;

    t.rec.reset();
    const split = t.pt.splitBlocks(iova, size);
    eq(split.entries, large, "entries split");
    allSmallest(t, size / t.sizes[0]!, "after splitBlocks");
    eq(
      t.pt.allocator.stats().liveTables - liveBefore,
      split.tables,
      "tables the split reports against the allocator",
    );
    eq(t.rec.uncovered(iova, size), undefined, "the first IOVA of the split range no flush covered");
    agreeRange(t, iova, pa, size, RW);
    deviceAgrees(env, d, model, "after splitBlocks");
    eq(t.pt.splitBlocks(iova, size).entries, 0, "a second split of smallest pages");

    // A format that creates writable leaves dirty (Arm DBM) split dirty pieces: carry them back.
    const merge = t.pt.mergePages(iova, size, { dirty: "carry" });
    check(
      merge.tables === split.tables,
      `merge freed ${merge.tables} tables, the split made ${split.tables}`,
    );
    t.pt.allocator.rcu.synchronize();
    eq(t.pt.allocator.stats().liveTables, liveBefore, "live tables after the merge");
    const after = leafEntries(t.pt, iova, size);
    eq(
      show(after.map((e) => [e.iova, e.size, e.items.map(itemWord)])),
      show(before.map((e) => [e.iova, e.size, e.items.map(itemWord)])),
      "leaf entries after split and merge, bit for bit",
    );
    deviceAgrees(env, d, model, "after mergePages");
    eq(t.pt.unmap(iova, size), size, "unmap of the merged block", iova);
  },
});

/** Runs `op` failing at each of its allocations in turn; each must throw ENOMEM and change nothing. */
function failEveryAllocation(
  env: CaseEnv,
  what: string,
  build: () => TestTable,
  op: (t: TestTable) => unknown,
  iova: bigint,
): number {
  const trial = build();
  const n0 = trial.pt.allocator.allocCount();
  op(trial);
  const n = trial.pt.allocator.allocCount() - n0;
  trial.pt.destroy();
  check(n >= 2, `${what} allocated ${n} table(s); the case needs a split that allocates at least 2`);
  for (let k = 1; k <= n; k++) {
    const t = build();
    t.pt.allocator.failAt(k);
    try {
      t.rejects("ENOMEM", `${what} failing at allocation ${k} of ${n}`, () => op(t), env.at(iova));
    } finally {
      t.pt.allocator.failAt(undefined);
    }
    t.pt.destroy();
  }
  return n;
}

export const splitEnomem = defineCase({
  name: "split_enomem",
  summary:
    "ENOMEM at every allocation of a split and of a cut leaves memory, allocator and mapping unchanged",
  run(env) {
    const probe = env.table();
    const geo = env.format.geometry;
    const g = probe.granule;
    // Blocks one level above the pages: each split needs a table. Mapped separately, they stay apart.
    const block = probe.sizes.find((s) => s === 1n << BigInt(geo.levels[1]?.itemLg2 ?? 0));
    const region = probe.regions[0]!;
    probe.pt.destroy();
    if (!block) return;
    const base = region.start + 4n * block;
    const build = () => {
      const t = env.table();
      for (let i = 0n; i < 3n; i++) t.pt.map(base + i * block, 8n * block + i * block, block, RW);
      return t;
    };
    const n = failEveryAllocation(
      env,
      "splitBlocks of 3 blocks",
      build,
      (t) => t.pt.splitBlocks(base, 3n * block),
      base,
    );
    eq(n, 3, "tables a split of 3 blocks allocates");
    // A cut deep inside a block two levels up needs a table at each level below it.
    const big = probe.sizes.find((s) => s === 1n << BigInt(geo.levels[2]?.itemLg2 ?? 0));
    if (big && 4n * big <= region.end - region.start && big <= 1n << 30n) {
      const at = region.start + big;
      const cutAt = at + big / 2n + g;
      const buildBig = () => {
        const t = env.table();
        t.pt.map(at, 2n * big, big, RW);
        return t;
      };
      failEveryAllocation(env, "cut inside a level-2 block", buildBig, (t) => t.pt.cut(cutAt), cutAt);
    }
    const t = build();
    t.pt.splitBlocks(base, 3n * block);
    for (let i = 0n; i < 3n; i++) {
      agreeRange(t, base + i * block, 8n * block + i * block, block, RW);
    }
    agreeAt(t, base - g, undefined);
  },
});
