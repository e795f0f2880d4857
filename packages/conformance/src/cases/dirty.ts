// test_dirty (kunit_generic_pt.h) through the public API: setDirty on any item makes the whole entry
// dirty, readAndClearDirty reports it whole (noClear leaves it dirty), cleaning clears every item and
// is gathered, adjacent dirty entries merge. A format without dirty tracking must say EOPNOTSUPP.
import { type DirtyBits, Prot } from "@genpt/core";
import { defineCase } from "../case.js";
import { check, eq, fail, show } from "../support/assert.js";
import { entryItems, locate } from "../support/raw.js";
import { lg2 } from "../support/shape.js";
import type { TestTable } from "../support/table.js";

function isDirty(d: DirtyBits, lo: number, hi: number): boolean {
  return (((BigInt(hi) << 32n) | BigInt(lo)) & d.dirtyMask) === d.dirtyValue;
}

/** The raw dirty state of every item of the entry at `iova`. */
function itemStates(t: TestTable, iova: bigint, d: DirtyBits): boolean[] {
  const item = locate(t.pt, iova);
  if (!item) return fail("entry vanished", iova);
  return entryItems(t.pt, item).map((it) => isDirty(d, it.lo, it.hi));
}

/** Which items of a k-item entry to dirty: all of a small entry, a spread of a large one. */
function sampleItems(k: number): number[] {
  if (k <= 16) return Array.from({ length: k }, (_, i) => i);
  return [0, 1, k >> 1, k - 2, k - 1];
}

export const dirty = defineCase({
  name: "dirty",
  summary:
    "dirtying any item reports the whole entry; clean clears every item; noClear keeps it; EOPNOTSUPP without dirty tracking",
  run(env) {
    const t = env.table();
    const d = env.format.dirty;
    const region = t.regions[0]!;
    if (!d) {
      eq(t.info().dirtyTracking, false, "info().dirtyTracking of a format without dirty bits");
      t.pt.map(region.start, 0n, t.granule, Prot.READ | Prot.WRITE);
      t.rejects("EOPNOTSUPP", "readAndClearDirty without dirty tracking", (pt) =>
        pt.readAndClearDirty(region.start, t.granule),
      );
      t.rejects("EOPNOTSUPP", "setDirty without dirty tracking", (pt) => pt.setDirty(region.start));
      return;
    }
    eq(t.info().dirtyTracking, true, "info().dirtyTracking");
    const levels = env.format.geometry.levels;
    const span = region.end - region.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    for (const s of t.sizes.filter((x) => 4n * x <= span && 4n * x <= oaEnd)) {
      const a = env.at(region.start + s);
      const b = a + s;
      const whole = { iova: a, size: 2n * s };
      t.pt.map(a, s, 2n * s, Prot.READ | Prot.WRITE);
      // Formats whose writable entries start dirty (ARM DBM) are cleaned first.
      t.pt.readAndClearDirty(a, 2n * s);
      eq(t.pt.readAndClearDirty(a, 2n * s), [], "dirty ranges right after cleaning", a);
      const k = 2 ** (lg2(s) - levels[locate(t.pt, a)!.level]!.itemLg2);
      for (const j of sampleItems(k)) {
        const item = a + BigInt(j) * (s / BigInt(k));
        env.at(item);
        eq(t.pt.setDirty(item), true, `setDirty(item ${j})`, item);
        check(itemStates(t, a, d)[j] === true, `item ${j} not dirty in memory after setDirty`, item);
        const entry = [{ iova: a, size: s }];
        eq(t.pt.readAndClearDirty(a, 2n * s, { noClear: true }), entry, "noClear report", item);
        eq(t.pt.readAndClearDirty(a, 2n * s, { noClear: true }), entry, "second noClear report", item);
        t.rec.reset();
        eq(t.pt.readAndClearDirty(a, 2n * s), entry, "report that cleans", item);
        const left = t.rec.uncovered(a, s);
        if (left !== undefined) fail(`cleaning did not gather the entry: ${show(left)} not flushed`, left);
        const states = itemStates(t, a, d);
        check(!states.includes(true), `item ${states.indexOf(true)} still dirty after cleaning`, item);
        eq(t.pt.readAndClearDirty(a, 2n * s), [], "report after cleaning", item);
      }
      // Adjacent dirty entries come back as one range; the bitmap form marks every granule of both.
      t.pt.setDirty(a + s - t.granule);
      t.pt.setDirty(b);
      if (2n * s <= 4096n * t.granule) {
        const bits = new Uint8Array(Number((2n * s) / t.granule / 8n) + 1);
        eq(
          t.pt.readAndClearDirty(a, 2n * s, {
            noClear: true,
            bitmap: { iova: a, pageSize: t.granule, bits },
          }),
          [whole],
          "two adjacent dirty entries",
          a,
        );
        const set = bits.reduce((n, x) => n + x.toString(2).replaceAll("0", "").length, 0);
        eq(BigInt(set), (2n * s) / t.granule, "bitmap bits set for two dirty entries", a);
      }
      eq(t.pt.readAndClearDirty(a, 2n * s), [whole], "two adjacent dirty entries", a);
      eq(t.pt.unmap(a, 2n * s), 2n * s, "unmap", a);
    }
  },
});
