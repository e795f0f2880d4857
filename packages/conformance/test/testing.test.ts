// The testing kit the format packages share must pass on a correct format and catch broken ones: the
// fixture's leak check, the PtError checks, the raw radix reader, the walker checks, and the random
// sequence driver with its placements, each against mock64 and copies of its walker with one thing wrong.
import { type HardwareWalker, mock64, mock64Walker, Prot, PtError } from "@genpt/core";
import { describe, expect, it } from "vitest";
import {
  alignedInWindow,
  checkLeafPermissions,
  expectOneLeaf,
  expectPtError,
  expectUnchanged,
  fingerprint,
  finish,
  KiB,
  MIXED_PROTS,
  MiB,
  newMem,
  newTable,
  pagesInRegions,
  ptErrorOf,
  RW_PROTS,
  rawAt,
  runSequences,
  type SequenceOptions,
  slotAddr,
  walkCtx,
} from "../src/index.js";

type Wrap = (w: HardwareWalker) => HardwareWalker;

/** mock64's walker with `translate` changed by `patch`. */
function broken(patch: (w: HardwareWalker) => HardwareWalker["translate"]): Wrap {
  return (w) => ({ ...w, translate: patch(w) });
}

describe("fixture and errors", () => {
  it("finish passes on a clean table and catches a table of another owner left alive", () => {
    const mem = newMem();
    const a = newTable(mock64(), { mem });
    const b = newTable(mock64(), { mem });
    b.map(0x1000n, 0x9000n, 0x1000n, Prot.READ);
    expect(() => finish(a)).toThrow();
    finish(b);
    const c = newTable(mock64(), { mem });
    const d = newTable(mock64(), { mem });
    finish(c, true);
    finish(d);
  });

  it("expectPtError wants the code, the message, and a PtError at all", () => {
    const e = new PtError("EINVAL", "bad thing");
    expect(
      expectPtError(
        () => {
          throw e;
        },
        "EINVAL",
        /bad/,
      ),
    ).toBe(e);
    expect(() =>
      expectPtError(() => {
        throw e;
      }, "ERANGE"),
    ).toThrow(/ERANGE/);
    expect(() =>
      expectPtError(
        () => {
          throw e;
        },
        "EINVAL",
        /good/,
      ),
    ).toThrow(/does not match/);
    expect(() =>
      expectPtError(() => {
        throw new Error("plain");
      }, "EINVAL"),
    ).toThrow(/plain/);
    expect(() => expectPtError(() => 1, "EINVAL")).toThrow(/returned/);
    expect(
      ptErrorOf(() => {
        throw e;
      }),
    ).toBe(e);
    expect(
      ptErrorOf(() => {
        throw new Error("plain");
      }),
    ).toBeUndefined();
    expect(ptErrorOf(() => 1)).toBeUndefined();
  });

  it("expectUnchanged catches a call that changes the table before it fails", () => {
    const pt = newTable(mock64());
    pt.map(0x1000n, 0x9000n, 0x1000n, Prot.READ);
    const before = fingerprint(pt);
    expectUnchanged(pt, () => pt.map(0x1000n, 0x9000n, 0x1000n, Prot.READ), "EADDRINUSE", /EADDRINUSE/);
    expect(fingerprint(pt)).toEqual(before);
    const sneaky = () => {
      pt.map(0x40_0000n, 0x9000n, 0x1000n, Prot.READ);
      throw new PtError("EINVAL", "after the fact");
    };
    expect(() => expectUnchanged(pt, sneaky, "EINVAL")).toThrow(/changed/);
    finish(pt);
  });
});

describe("raw reader and walker checks", () => {
  it("slotAddr and rawAt read the 512-entry radix tree the way the spec says", () => {
    const pt = newTable(mock64());
    pt.map(0x20_3000n, 0x12_3456_7000n, 0x1000n, Prot.READ | Prot.WRITE);
    const leaf = rawAt(pt, 0x20_3000n, 0);
    expect(leaf & 0x000f_ffff_ffff_f000n).toBe(0x12_3456_7000n);
    // Slot 3 of its level-0 table, slot 1 of the level-1 table.
    expect(slotAddr(pt, 0x20_3000n, 0) & 0xfffn).toBe(3n * 8n);
    expect(slotAddr(pt, 0x20_3000n, 1) & 0xfffn).toBe(1n * 8n);
    expect(slotAddr(pt, 0x20_3000n, 2)).toBe(pt.info().root);
    finish(pt);
  });

  it("checkLeafPermissions and expectOneLeaf pass on mock64 and catch a walker that grants too much", () => {
    const pt = newTable(mock64());
    checkLeafPermissions(pt, mock64Walker());
    const lax = broken((w) => (m, c, iova, _a, s) => w.translate(m, c, iova, "read", s))(mock64Walker());
    expect(() => checkLeafPermissions(newTable(mock64(), { mem: newMem() }), lax)).toThrow(
      /write to a read-only page/,
    );
    finish(pt);
    const one = newTable(mock64());
    one.map(0x20_0000n, 0x40_0000n, 2n * MiB, Prot.WRITE);
    expectOneLeaf(one, mock64Walker(), {
      iova: 0x20_0000n,
      pa: 0x40_0000n,
      size: 2n * MiB,
      prot: Prot.WRITE,
    });
    expect(() =>
      expectOneLeaf(one, mock64Walker(), {
        iova: 0x20_0000n,
        pa: 0x40_0000n,
        size: 2n * MiB,
        prot: Prot.READ,
      }),
    ).toThrow();
    expect(walkCtx(one, true)).toEqual({
      root: one.info().root,
      topLevel: one.info().topLevel,
      accessDirty: true,
    });
    finish(one);
  });
});

describe("runSequences", () => {
  const options = (wrap: Wrap = (w) => w): SequenceOptions<number> => ({
    name: "mock64",
    seed: 0x5eed,
    runs: 60,
    ops: { min: 1, max: 12 },
    configs: [2, 4],
    build: (topLevel) => ({
      pt: newTable(mock64({ topLevel, maxTopLevel: 4 })),
      walker: wrap(mock64Walker()),
    }),
    weights: { map: 5, unmap: 2, hole: 1, dirty: 2 },
    placement: pagesInRegions({
      regions: [0n, 0xfe00_0000n, 1n << 39n],
      lg2s: [12, 13, 16, 21, 30],
      paHighBit: 40,
      prots: RW_PROTS,
    }),
    accesses: ["read", "write"],
    mustSee: [12, 13, 16, 21, 30],
  });

  it("passes on mock64, reporting what it did", () => {
    const r = runSequences(options());
    for (const n of Object.values(r.done)) expect(n).toBeGreaterThan(0);
    expect([...r.seen]).toEqual(expect.arrayContaining([12, 13, 16, 21, 30]));
  });

  it("passes with windowed placement and a grid", () => {
    const r = runSequences({
      ...options(),
      ops: { min: 10, max: 30 },
      runs: 20,
      weights: { map: 5, unmap: 3, hole: 1 },
      placement: alignedInWindow({
        base: 0x40_0000_0000n,
        window: 64n * MiB,
        lengths: [4n * KiB, 12n * KiB, 2n * MiB, 2n * MiB + 4n * KiB],
        aligns: [4n * KiB, 64n * KiB, 2n * MiB],
        oaBits: 40,
        prots: MIXED_PROTS,
        maxLeaves: 512n,
      }),
      accesses: ["read", "write"],
      grid: { base: 0x40_0000_0000n, size: 64n * MiB, step: MiB },
      mustSee: [12, 21],
    });
    expect(r.done.dirty).toBe(0);
  });

  const bugs: Array<[string, Wrap, RegExp]> = [
    [
      "a walker off by a granule in the middle of 2M leaves",
      broken((w) => (m, c, iova, a, s) => {
        const r = w.translate(m, c, iova, a, s);
        return r.ok && r.pageLg2 === 21 && (iova & 0xfffn) === 7n ? { ...r, pa: r.pa ^ 0x1000n } : r;
      }),
      /walker (read|write) at .* expected pa/,
    ],
    [
      "a walker that lets writes through read-only leaves",
      broken((w) => (m, c, iova, a, s) => {
        const r = w.translate(m, c, iova, a, s);
        return !r.ok && r.kind === "permission" && a === "write" ? w.translate(m, c, iova, "read", s) : r;
      }),
      /walker write at .* expected a permission fault/,
    ],
    [
      "a walker that reports a leaf one size too large",
      broken((w) => (m, c, iova, a, s) => {
        const r = w.translate(m, c, iova, a, s);
        return r.ok ? { ...r, pageLg2: r.pageLg2 + 1 } : r;
      }),
      /outside it or misaligned|its entry leaves the mapping/,
    ],
    [
      "a walker that never sets dirty bits",
      broken((w) => (m, c, iova, a, s) => w.translate(m, { ...c, accessDirty: false }, iova, a, s)),
      /harvest/,
    ],
    [
      "a walker that faults the wrong way where nothing is mapped",
      broken((w) => (m, c, iova, a, s) => {
        const r = w.translate(m, c, iova, a, s);
        return !r.ok && r.kind === "translation" ? { ...r, kind: "permission" } : r;
      }),
      /expected a translation fault/,
    ],
  ];
  for (const [name, wrap, why] of bugs)
    it(`catches ${name}`, () => {
      expect(() => runSequences(options(wrap))).toThrow(why);
    });

  it("fails when the mix never produced a size it must see, or never collided", () => {
    expect(() => runSequences({ ...options(), mustSee: [12, 42] })).toThrow(/never used a leaf of 2\^42/);
    expect(() => runSequences({ ...options(), runs: 1, ops: { min: 1, max: 1 } })).toThrow(
      /took effect|collided/,
    );
  });
});
