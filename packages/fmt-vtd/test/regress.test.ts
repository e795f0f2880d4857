// Regressions and bad input: Linux's VT-d superpage regression (test_mixed), and inputs that must fail
// with a PtError while leaving memory and the allocator exactly as they were.
import {
  expectUnchanged,
  finish,
  GiB,
  KiB,
  MiB,
  newMem,
  newTable,
  ptErrorOf,
  walkCtx,
} from "@genpt/conformance";
import { createPageTable, Prot, PtError } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

describe("test_mixed (VT-d superpage regression)", () => {
  for (const offset of [0n, 0x40_0000_0000n]) {
    test(`[0x3fe400000, 0x4c0600000) -> iova + ${offset.toString(16)}: 14 x 2M + 3 x 1G + 3 x 2M = 20 entries`, () => {
      const pt = newTable(vtdss({ vaBits: 39 }));
      const start = 0x3_fe40_0000n;
      const end = 0x4_c060_0000n;
      pt.map(start, start + offset, end - start, Prot.READ | Prot.WRITE);
      const c = pt.census();
      expect(c.leaves).toEqual({ 21: 17, 30: 3 });
      expect(c.leafItems).toBe(20);
      const hw = vtdssWalker();
      for (let iova = start; iova < end; iova += 2n * MiB) {
        const want = iova + offset + 0x123n;
        expect(pt.iovaToPhys(iova + 0x123n)).toBe(want);
        const r = hw.translate(pt.mem, walkCtx(pt), iova + 0x123n, "write");
        expect(r).toMatchObject({
          ok: true,
          pa: want,
          pageLg2: iova >= 0x4_0000_0000n && iova < 0x4_c000_0000n ? 30 : 21,
        });
      }
      expect(pt.unmap(start, end - start)).toBe(end - start);
      expect(pt.census().leafItems).toBe(0);
      finish(pt);
    });
  }
});

describe("bad input: a PtError, and nothing changed", () => {
  function populated(oaBits?: number) {
    const pt = createPageTable(vtdss(oaBits === undefined ? { vaBits: 39 } : { vaBits: 39, oaBits }), {
      mem: newMem(),
    });
    pt.map(0x1000n, 0x2000n, 4n * KiB, Prot.READ | Prot.WRITE);
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, Prot.READ);
    return pt;
  }

  test("a PA beyond oaBits", () => {
    const pt = populated(40);
    expect(pt.info().oaBits).toBe(40);
    expectUnchanged(pt, () => pt.map(0x4000_0000n, 1n << 40n, 4n * KiB, Prot.READ), "ERANGE");
    expectUnchanged(pt, () => pt.map(0x4000_0000n, (1n << 40n) - 0x1000n, 8n * KiB, Prot.READ), "ERANGE");
    // The last page below 2^40 is fine, and the walker with HAW 40 finds no reserved bit in it.
    pt.map(0x4000_0000n, (1n << 40n) - 0x1000n, 4n * KiB, Prot.READ);
    const r = vtdssWalker({ haw: 40 }).translate(pt.mem, walkCtx(pt), 0x4000_0000n, "read");
    expect(r).toMatchObject({ ok: true, pa: (1n << 40n) - 0x1000n });
    finish(pt);
  });

  test("an IOVA beyond vaBits", () => {
    const pt = populated();
    expectUnchanged(pt, () => pt.map(1n << 39n, 0x1000n, 4n * KiB, Prot.READ), "ERANGE");
    expectUnchanged(pt, () => pt.map((1n << 39n) - 0x1000n, 0x1000n, 8n * KiB, Prot.READ), "ERANGE");
    expectUnchanged(pt, () => pt.unmap(1n << 39n, 4n * KiB), "ERANGE");
    finish(pt);
  });

  test("misaligned, no READ or WRITE, overlapping, and a start inside a 2M page", () => {
    const pt = populated();
    expectUnchanged(pt, () => pt.map(0x3000n, 0x2800n, 4n * KiB, Prot.READ), "EINVAL");
    expectUnchanged(pt, () => pt.map(0x3000n, 0x3000n, 4n * KiB, Prot.NOEXEC), "EINVAL");
    expectUnchanged(pt, () => pt.map(0x1f_f000n, 0x3000n, 8n * KiB, Prot.READ), "EADDRINUSE");
    expectUnchanged(pt, () => pt.unmap(0x20_1000n, 4n * KiB), "EINVAL");
    finish(pt);
  });

  test("config validation", () => {
    const bad = [
      {},
      { vaBits: 40 },
      { vaBits: 64 },
      { vaBits: 48, oaBits: 53 },
      { vaBits: 48, oaBits: 31 },
      { vaBits: 48, oaBits: 40.5 },
      { vaBits: 48, forceCoherence: 1 },
      { vaBits: 48, forceWriteable: "no" },
    ] as unknown as Array<Parameters<typeof vtdss>[0]>;
    for (const cfg of bad) expect(ptErrorOf(() => vtdss(cfg))?.code, JSON.stringify(cfg)).toBe("EINVAL");
    expect(() => vtdssWalker({ haw: 53 })).toThrow(PtError);
    const pt = newTable(vtdss({ vaBits: 57, oaBits: 46 }));
    expect(pt.info()).toMatchObject({ topLevel: 4, vaBits: 57, oaBits: 46, aw: 3 });
    finish(pt);
  });

  test("a 1G page needs a 1G-aligned PA: otherwise 2M pages", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    pt.map(GiB, GiB + 2n * MiB, GiB, Prot.READ);
    expect(pt.census().leaves).toEqual({ 21: 512 });
    finish(pt);
  });
});
