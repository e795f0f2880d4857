// The bad-input battery (DESIGN "Errors"): every rejected call is a PtError with the right code and leaves
// table memory, the allocator and the top exactly as they were. The table is populated first, so that
// "nothing changed" means something.
import { Prot } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { eq, expectPtError } from "../support/assert.js";
import type { CaseEnv } from "../support/env.js";
import type { TestTable } from "../support/table.js";

const RW = Prot.READ | Prot.WRITE;
const TWO64 = 1n << 64n;
/** Casts a wrong-typed argument past the type checker, as JavaScript callers can. */
const asBig = (v: unknown) => v as bigint;

/** A table with a large entry and a few granules mapped; returns it with a free IOVA to aim at. */
function populated(env: CaseEnv): { t: TestTable; free: bigint; big: bigint; bigSize: bigint } {
  const t = env.table();
  const r = t.regions[0]!;
  const g = t.granule;
  const oaEnd = 1n << BigInt(t.info().oaBits);
  const bigSize = t.sizes.filter((s) => 8n * s <= r.end - r.start && 8n * s <= oaEnd).at(-1)!;
  const big = r.start + 2n * bigSize;
  t.pt.map(big, bigSize, bigSize, RW);
  t.pt.map(r.start, 5n * g, 3n * g, RW);
  return { t, free: r.start + 8n * g, big, bigSize };
}

export const badArgs = defineCase({
  name: "bad_args",
  summary:
    "misaligned, zero-sized, negative, non-bigint and prot-less arguments are EINVAL and change nothing",
  run(env) {
    const { t, free } = populated(env);
    const g = t.granule;
    const half = g / 2n;
    const map = (iova: bigint, pa: bigint, size: bigint, prot = RW) =>
      t.rejects(
        "EINVAL",
        `map(${iova}, ${pa}, ${size}, ${prot})`,
        (pt) => pt.map(iova, pa, size, prot),
        iova,
      );
    map(free + half, 0n, g);
    map(free, half, g);
    map(free, 0n, g + half);
    map(free, 0n, 0n);
    map(free, 0n, -g);
    map(-g, 0n, g);
    map(TWO64, 0n, g);
    map(free, -g, g);
    for (const prot of [
      0,
      Prot.CACHE,
      Prot.CACHE | Prot.NOEXEC | Prot.MMIO | Prot.PRIV,
      64,
      RW | 128,
      -1,
      1.5,
      Number.NaN,
    ])
      map(free, 0n, g, prot);
    const unmap = (iova: bigint, size: bigint) =>
      t.rejects("EINVAL", `unmap(${iova}, ${size})`, (pt) => pt.unmap(iova, size), iova);
    unmap(free + half, g);
    unmap(free, half);
    unmap(free, 0n);
    unmap(-g, g);
    const num = Number(free);
    t.rejects("EINVAL", "map with a number iova", (pt) => pt.map(asBig(num), 0n, g, RW));
    t.rejects("EINVAL", "map with a number pa", (pt) => pt.map(free, asBig(0), g, RW));
    t.rejects("EINVAL", "map with a number size", (pt) => pt.map(free, 0n, asBig(Number(g)), RW));
    t.rejects("EINVAL", "map with a string iova", (pt) => pt.map(asBig(String(free)), 0n, g, RW));
    t.rejects("EINVAL", "unmap with a number iova", (pt) => pt.unmap(asBig(num), g));
    t.rejects("EINVAL", "unmap with a number size", (pt) => pt.unmap(free, asBig(Number(g))));
    t.rejects("EINVAL", "iovaToPhys with a number", (pt) => pt.iovaToPhys(asBig(num)));
    if (env.format.dirty) {
      t.rejects("EINVAL", "readAndClearDirty with size 0", (pt) => pt.readAndClearDirty(free, 0n));
      t.rejects("EINVAL", "readAndClearDirty with a number iova", (pt) =>
        pt.readAndClearDirty(asBig(num), g),
      );
      t.rejects("EINVAL", "setDirty with a number", (pt) => pt.setDirty(asBig(num)));
    }
  },
});

export const badRanges = defineCase({
  name: "bad_ranges",
  summary:
    "iova + size overflow is EOVERFLOW; outside the aperture or above the OA width is ERANGE; nothing changes",
  run(env) {
    const { t, free } = populated(env);
    const g = t.granule;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    t.rejects("EOVERFLOW", "map wrapping past 2^64", (pt) => pt.map(TWO64 - g, 0n, 2n * g, RW));
    t.rejects("EOVERFLOW", "unmap wrapping past 2^64", (pt) => pt.unmap(TWO64 - g, 2n * g));
    // Every gap around and between the regions is outside the aperture.
    const outside: bigint[] = [];
    const [first, last] = [t.regions[0]!, t.regions[t.regions.length - 1]!];
    if (first.start > 0n) outside.push(0n, first.start - g);
    if (last.end < TWO64) outside.push(last.end, TWO64 - g);
    if (t.regions.length === 2) outside.push(first.end, t.regions[1]!.start - g);
    for (const iova of outside) {
      t.rejects("ERANGE", "map outside the aperture", (pt) => pt.map(iova, 0n, g, RW), iova);
      t.rejects("ERANGE", "unmap outside the aperture", (pt) => pt.unmap(iova, g), iova);
      eq(t.pt.iovaToPhys(iova), undefined, "iovaToPhys outside the aperture", iova);
    }
    for (const r of t.regions) {
      if (r.end < TWO64)
        t.rejects(
          "ERANGE",
          "map running past a region's end",
          (pt) => pt.map(r.end - g, 0n, 2n * g, RW),
          r.end - g,
        );
    }
    t.rejects("ERANGE", "map of a pa at the OA width", (pt) => pt.map(free, oaEnd, g, RW), free);
    t.rejects(
      "ERANGE",
      "map of a pa range crossing the OA width",
      (pt) => pt.map(free, oaEnd - g, 2n * g, RW),
      free,
    );
    const before = t.snapshot();
    eq(t.pt.unmap(free, 4n * g), 0n, "unmap of a range with nothing mapped", free);
    t.unchangedSince(before, "unmap of nothing");
  },
});

export const overlap = defineCase({
  name: "overlap",
  summary: "a map over anything mapped is EADDRINUSE, even after allocating tables, and changes nothing",
  run(env) {
    const { t, big, bigSize } = populated(env);
    const g = t.granule;
    // The OA keeps the IOVA's alignment, so the free part maps with large pages, not millions of small ones.
    const clash = (iova: bigint, size: bigint, what: string) =>
      t.rejects("EADDRINUSE", what, (pt) => pt.map(iova, iova - big + 2n * bigSize, size, RW), iova);
    clash(big, bigSize, "map of exactly a mapped range");
    clash(big - g, 2n * g, "map overlapping the start of an entry");
    clash(big + bigSize - g, 2n * g, "map overlapping the end of an entry");
    clash(big - bigSize, 3n * bigSize, "map containing an entry");
    if (bigSize > g) {
      clash(big + g, g, "map inside a large entry");
      t.rejects("EINVAL", "unmap starting inside a large entry", (pt) => pt.unmap(big + g, g), big + g);
    }
    // Fresh tables are built for the free part before the walk meets the entry; they must go again.
    clash(big - bigSize + g, bigSize, "map that allocates tables and then meets an entry");
    clash(t.regions[0]!.start + g, g, "map over a granule");
    agreeRange(t, big, bigSize, bigSize, RW);
    agreeAt(t, big - g, undefined);
  },
});

export const useAfterDestroy = defineCase({
  name: "use_after_destroy",
  summary: "destroy frees every table; every later call is EINVAL",
  run(env) {
    const { t, free } = populated(env);
    const g = t.granule;
    t.pt.destroy();
    t.pt.allocator.assertNoLeaks(t.pt.owner);
    const calls: Array<[string, () => unknown]> = [
      ["map", () => t.pt.map(free, 0n, g, RW)],
      ["unmap", () => t.pt.unmap(free, g)],
      ["iovaToPhys", () => t.pt.iovaToPhys(free)],
      ["readAndClearDirty", () => t.pt.readAndClearDirty(free, g)],
      ["setDirty", () => t.pt.setDirty(free)],
      ["info", () => t.pt.info()],
      ["dump", () => t.pt.dump()],
      ["census", () => t.pt.census()],
      ["destroy", () => t.pt.destroy()],
    ];
    for (const [what, fn] of calls) expectPtError(fn, "EINVAL", `${what} after destroy`);
  },
});
