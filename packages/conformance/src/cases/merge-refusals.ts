// What mergePages must not merge, on every format: a table of smallest pages with holes, with mixed
// attributes, or with OAs one page off alignment is left exactly as it was (memory and allocator); a
// dirty page keeps its table unless the caller carries the dirty state; and, as the control that shows
// the refusals can fail, the same table filled properly is replaced by one leaf.
import { Prot } from "@genpt/core";
import { defineCase, type Probe } from "../case.js";
import { agreeRange } from "../support/agree.js";
import { check, eq, show } from "../support/assert.js";
import { leafEntries } from "../support/resize.js";
import type { TestTable } from "../support/table.js";

const RW = Prot.READ | Prot.WRITE;

/** The span of one table of smallest pages, when its parent can hold a leaf that size. */
function tableSpan(p: Probe): bigint | undefined {
  const span = 1n << BigInt(p.subject.format.geometry.levels[1]?.itemLg2 ?? 64);
  return p.info.pgsizes.includes(span) ? span : undefined;
}

/** A prot the format encodes differently from READ|WRITE, if any. */
function otherProt(t: TestTable): number | undefined {
  const fmt = t.pt.format;
  const lg2 = fmt.geometry.levels[0]!.itemLg2;
  const enc = (p: number) => {
    const a = fmt.protToAttrs(p);
    return `${fmt.leafLo(0, lg2, 0, a)}:${fmt.leafHi(0, lg2, 0, a)}`;
  };
  for (const p of [Prot.READ, Prot.READ | Prot.WRITE | Prot.NOEXEC, Prot.READ | Prot.WRITE | Prot.CACHE]) {
    try {
      if (enc(p) !== enc(RW)) return p;
    } catch {
      // The format refuses this prot: try the next.
    }
  }
  return undefined;
}

export const mergeRefusals = defineCase({
  name: "merge_refusals",
  summary:
    "mergePages leaves tables with holes, mixed attributes, misaligned OAs or (by default) dirty pages alone; a full table merges",
  skipIf: (p) => (tableSpan(p) ? undefined : "no leaf the size of a table of smallest pages"),
  run(env) {
    const t = env.table();
    const span = tableSpan({ subject: env.subject, info: t.info() })!;
    const page = t.sizes[0]!;
    const region = t.regions[0]!;
    check(
      region.end - region.start >= 16n * span,
      `the aperture holds fewer than 16 tables of ${show(span)}`,
    );
    const win = (k: bigint) => region.start + 8n * span + k * span;
    const oa = (k: bigint) => 16n * span + k * span;
    const pages = span / page;
    const fill = (k: bigint, opts: { every?: bigint; shift?: bigint; prot?: (i: bigint) => number } = {}) => {
      for (let i = 0n; i < pages; i += opts.every ?? 1n)
        t.pt.map(win(k) + i * page, oa(k) + (opts.shift ?? 0n) + i * page, page, opts.prot?.(i) ?? RW);
    };
    const clean = (k: bigint) => {
      if (env.format.dirty) t.pt.readAndClearDirty(win(k), span);
    };

    fill(0n, { every: 2n });
    const other = otherProt(t);
    if (other !== undefined) fill(1n, { prot: (i) => (i % 2n === 0n ? RW : other) });
    fill(2n, { shift: page });
    for (const k of [0n, 1n, 2n]) clean(k);
    const before = t.snapshot();
    eq(
      show(t.pt.mergePages(env.at(win(0n)), 3n * span)),
      show({ entries: 0, tables: 0 }),
      "merge of tables it must refuse",
    );
    t.unchangedSince(before, "mergePages over holes, mixed attributes and misaligned OAs");

    if (env.format.dirty) {
      fill(3n);
      clean(3n);
      const dirtyAt = win(3n) + 5n * page;
      check(t.pt.setDirty(dirtyAt), "setDirty found no tracked page", dirtyAt);
      t.pt.mergePages(win(3n), span);
      eq(leafEntries(t.pt, dirtyAt, page)[0]?.size, page, "the dirty page after a refusing merge", dirtyAt);
      eq(
        show(t.pt.readAndClearDirty(win(3n), span, { noClear: true })),
        show([{ iova: dirtyAt, size: page }]),
        "harvest after a refusing merge",
        dirtyAt,
      );
      const carried = t.pt.mergePages(win(3n), span, { dirty: "carry" });
      eq(carried.tables, 1, "tables a carrying merge frees", win(3n));
      eq(leafEntries(t.pt, win(3n), page)[0]?.size, span, "the entry after a carrying merge", win(3n));
      eq(
        show(t.pt.readAndClearDirty(win(3n), span)),
        show([{ iova: win(3n), size: span }]),
        "harvest after a carrying merge",
        win(3n),
      );
    }

    fill(4n);
    clean(4n);
    const merged = t.pt.mergePages(win(4n), span);
    eq(show(merged), show({ entries: 1, tables: 1 }), "merge of a full, uniform, aligned table", win(4n));
    eq(leafEntries(t.pt, win(4n), page)[0]?.size, span, "the entry after the merge", win(4n));
    agreeRange(t, win(4n), oa(4n), span, RW);
  },
});
