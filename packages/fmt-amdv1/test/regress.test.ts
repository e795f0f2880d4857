// Regressions and bad input: the Linux pgsize-boundary case, the missing 512G page size, and inputs that
// must fail with a PtError while leaving memory and the allocator exactly as they were.
import {
  expectPtError,
  expectUnchanged,
  finish,
  GiB,
  KiB,
  newTable,
  ptErrorOf,
  rawAt,
  walkCtx,
} from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

const PR = 1n << 0n;
const FC = 1n << 60n;
const IR = 1n << 61n;
const IW = 1n << 62n;

describe("test_pgsize_boundary (AMD regression)", () => {
  test("VA 0xfef80000-0xfef9ffff -> OA 0x208b95d000 uses 32 4K pages", () => {
    const pt = newTable(amdv1());
    const iova = 0xfef8_0000n;
    const pa = 0x20_8b95_d000n;
    const size = 0xfef9_ffffn - iova + 1n;
    pt.map(iova, pa, size, Prot.READ | Prot.WRITE);
    // The OA is only 4K aligned, so no larger size fits anywhere in the range.
    expect(pt.census().leaves).toEqual({ 12: 32 });
    const hw = amdv1Walker();
    for (let off = 0n; off < size; off += 4n * KiB) {
      // §3.4: PR | NL 0 | FC | IR | IW | the page.
      expect(rawAt(pt, iova + off, 0)).toBe((pa + off) | PR | FC | IR | IW);
      expect(pt.iovaToPhys(iova + off + 0x10n)).toBe(pa + off + 0x10n);
      const r = hw.translate(pt.mem, walkCtx(pt), iova + off, "read");
      expect(r).toMatchObject({ ok: true, pa: pa + off, pageLg2: 12 });
    }
    expect(pt.iovaToPhys(iova - 1n)).toBeUndefined();
    expect(pt.iovaToPhys(iova + size)).toBeUndefined();
    expect(pt.unmap(iova, size)).toBe(size);
    expect(pt.census().leaves).toEqual({});
    finish(pt);
  });
});

describe("512G is never a page size (§3.1, §3.3)", () => {
  test("pgsizes has every power of two from 4K to 2^51 except 512G", () => {
    const pt = newTable(amdv1());
    const expected: bigint[] = [];
    for (let s = 12n; s <= 51n; s++) if (s !== 39n) expected.push(1n << s);
    expect(pt.info().pgsizes).toEqual(expected);
    finish(pt);
  });

  test("a 512 GiB map uses two 256G entries of 256 1G-slot copies each, not a level-3 leaf", () => {
    const pt = newTable(amdv1());
    pt.map(512n * GiB, 512n * GiB, 512n * GiB, Prot.READ | Prot.WRITE);
    const c = pt.census();
    expect(c.leaves).toEqual({ 38: 2 });
    expect(c.leafItems).toBe(512);
    expect(pt.iovaToPhys(1024n * GiB - 1n)).toBe(1024n * GiB - 1n);
    finish(pt);
  });

  test("narrowed to 4K/2M/1G, a 512 GiB map is 512 1G entries", () => {
    const pt = newTable(amdv1(), { pgsizes: [4096n, 2n << 20n, GiB] });
    pt.map(512n * GiB, 512n * GiB, 512n * GiB, Prot.READ);
    expect(pt.census().leaves).toEqual({ 30: 512 });
    finish(pt);
  });

  test("asking for 512G alone leaves no page size: EINVAL", () => {
    expectPtError(() => newTable(amdv1(), { pgsizes: [512n * GiB] }), "EINVAL");
  });
});

describe("bad input: a PtError, and nothing changed", () => {
  function populated(maxLevel?: number) {
    const pt = newTable(amdv1(maxLevel === undefined ? {} : { maxLevel }));
    pt.map(0x10_0000n, 0x20_0000n, 64n * KiB, Prot.READ | Prot.WRITE);
    pt.map(0x4000_0000n, 0x8000_0000n, GiB, Prot.READ);
    return pt;
  }

  test("an IOVA beyond the largest Mode", () => {
    const pt = populated(5);
    // Mode 5 is 57 bits.
    expectUnchanged(pt, () => pt.map(1n << 57n, 0x1000n, 4n * KiB, Prot.READ), "ERANGE");
    expectUnchanged(pt, () => pt.unmap(1n << 57n, 4n * KiB), "ERANGE");
    finish(pt);
    const full = populated();
    // Mode 6 is the whole 64-bit space: only running off its end is left.
    expectUnchanged(full, () => full.map((1n << 64n) - 0x1000n, 0x1000n, 8n * KiB, Prot.READ), "EOVERFLOW");
    expectUnchanged(full, () => full.map(1n << 64n, 0x1000n, 4n * KiB, Prot.READ), "EINVAL");
    finish(full);
  });

  test("a PA beyond 52 bits, a misaligned address, no READ or WRITE, and an overlapping map", () => {
    const pt = populated();
    expectUnchanged(pt, () => pt.map(0x1000n, 1n << 52n, 4n * KiB, Prot.READ), "ERANGE");
    expectUnchanged(pt, () => pt.map(0x1800n, 0x1000n, 4n * KiB, Prot.READ), "EINVAL");
    expectUnchanged(pt, () => pt.map(0x1000n, 0x1000n, 4n * KiB, Prot.CACHE), "EINVAL");
    expectUnchanged(pt, () => pt.map(0xf_f000n, 0x1000n, 8n * KiB, Prot.READ), "EADDRINUSE");
    // Starting inside the 64K entry (16 copies) is EINVAL for unmap.
    expectUnchanged(pt, () => pt.unmap(0x10_1000n, 4n * KiB), "EINVAL");
    finish(pt);
  });

  test("config validation", () => {
    const bad: Array<Parameters<typeof amdv1>[0]> = [
      { startLevel: 0 },
      { startLevel: 7 },
      { startLevel: 2.5 },
      { maxLevel: 1 },
      { maxLevel: 7 },
      { startLevel: 5, maxLevel: 4 },
      { forceCoherence: "yes" as unknown as boolean },
    ];
    for (const cfg of bad) expect(ptErrorOf(() => amdv1(cfg))?.code, JSON.stringify(cfg)).toBe("EINVAL");
    // A fixed top: startLevel = maxLevel turns the dynamic top off.
    const pt = newTable(amdv1({ startLevel: 4, maxLevel: 4 }));
    expect(pt.info().features.dynamicTop).toBe(false);
    expect(pt.info().maxTopLevel).toBe(3);
    pt.map(0x1000n, 0x1000n, 4n * KiB, Prot.READ);
    finish(pt);
  });
});
