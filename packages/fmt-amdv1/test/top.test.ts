// The dynamic top (reference/formats.md §3.1, genpt-upstream §2.5): increase_level grows Mode by one per
// map just past the top, the driver is switched before the new top is published, and the walker keeps
// translating old mappings through the new root.
import { expectUnchanged, finish, GiB, KiB, newMem, newTable } from "@genpt/conformance";
import { createPageTable, Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

const PR = 1n << 0n;
const NL = (n: bigint) => n << 9n;
const IR = 1n << 61n;
const IW = 1n << 62n;
const hw = amdv1Walker();

describe("increase_level", () => {
  for (const startLevel of [1, 3]) {
    test(`from Mode ${startLevel}: each map just past the top grows it by exactly one, up to Mode 6`, () => {
      const seen: Array<{ root: bigint; level: number; publishedLevel: number }> = [];
      const pt = createPageTable(amdv1({ startLevel }), {
        mem: newMem(),
        driver: {
          // The hardware is switched before the core publishes the new top.
          changeTop: (root, level) => seen.push({ root, level, publishedLevel: pt.info().topLevel }),
        },
      });
      const mapped: Array<{ iova: bigint; pa: bigint }> = [];
      let pa = 0x10_0000n;
      for (let mode = startLevel; mode < 6; mode++) {
        const before = pt.info();
        expect(before.mode).toBe(mode);
        // The first IOVA the current Mode cannot translate: 2^(12 + 9 * Mode).
        const iova = 1n << BigInt(12 + 9 * mode);
        pt.map(iova, pa, 4n * KiB, Prot.READ | Prot.WRITE);
        mapped.push({ iova, pa });
        pa += 0x1000n;
        const after = pt.info();
        expect(after.topLevel).toBe(before.topLevel + 1);
        expect(after.mode).toBe(mode + 1);
        expect(after.hostPtRoot).toBe(after.root);
        expect(seen.at(-1)).toEqual({
          root: after.root,
          level: after.topLevel,
          publishedLevel: before.topLevel,
        });
        // §3.1: the new root's slot 0 points at the old root, with NextLevel = the old Mode.
        expect(pt.mem.readU64(after.root)).toBe(before.root | PR | NL(BigInt(mode)) | IR | IW);
        // The walker, given the new root and Mode, still translates every earlier mapping.
        for (const m of mapped) {
          const r = hw.translate(
            pt.mem,
            { root: after.root, topLevel: after.topLevel, accessDirty: false },
            m.iova + 0x42n,
            "read",
          );
          expect(r).toMatchObject({ ok: true, pa: m.pa + 0x42n });
          expect(pt.iovaToPhys(m.iova + 0x42n)).toBe(m.pa + 0x42n);
        }
      }
      // At Mode 6 the whole 64-bit space is in range: the last page maps without growing.
      pt.map((1n << 64n) - 0x1000n, 0x7000n, 4n * KiB, Prot.READ);
      expect(pt.info().mode).toBe(6);
      expect(seen.length).toBe(6 - startLevel);
      finish(pt);
    });
  }

  test("the top never holds a leaf: a 1G page at Mode 3 grows the top to Mode 4", () => {
    const pt = newTable(amdv1());
    pt.map(GiB, 2n * GiB, GiB, Prot.READ);
    expect(pt.info().mode).toBe(4);
    expect(pt.census().leaves).toEqual({ 30: 1 });
    finish(pt);
  });

  test("maxLevel bounds the growth: beyond Mode 4 is ERANGE and nothing changes", () => {
    const pt = newTable(amdv1({ maxLevel: 4 }));
    pt.map(0x1000n, 0x1000n, 4n * KiB, Prot.READ);
    expect(pt.info().vaBits).toBe(48);
    expectUnchanged(pt, () => pt.map(1n << 48n, 0x1000n, 4n * KiB, Prot.READ), "ERANGE");
    // A range ending past 2^48 is ERANGE too, even though it starts inside.
    expectUnchanged(pt, () => pt.map((1n << 48n) - 0x1000n, 0x1000n, 8n * KiB, Prot.READ), "ERANGE");
    pt.map((1n << 48n) - 0x1000n, 0x2000n, 4n * KiB, Prot.READ);
    expect(pt.info().mode).toBe(4);
    finish(pt);
  });

  test("a map that fails after growing the top leaves the old top in place", () => {
    const pt = newTable(amdv1());
    pt.map(0x1000n, 0x1000n, 4n * KiB, Prot.READ);
    // The second page collides with the first, so the map fails after the walk through the new top.
    expectUnchanged(pt, () => pt.map(0x1000n, 0x1000n, (1n << 39n) + 0x1000n, Prot.READ), "EADDRINUSE");
    expect(pt.info().mode).toBe(3);
    finish(pt);
  });
});
