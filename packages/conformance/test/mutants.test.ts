// The suite must catch bugs, not just pass: each test breaks one thing in a copy of mock64 (or its
// walker) and checks that the cases meant to catch it fail, with a reason, while unrelated cases pass.
import { type HardwareWalker, type MockAttrs, mock64, mock64Walker, type PtFormat } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { type FormatUnderTest, runConformance } from "../src/index.js";

/** Runs `only` on one configuration and returns each case's status. */
function verdicts(subject: () => FormatUnderTest, only: string[]): Record<string, string> {
  const report = runConformance(subject, [0], { only, iterations: 200 });
  return Object.fromEntries(report.results.map((r) => [r.case, r.status]));
}

const good = mock64();

function withFormat(patch: Partial<PtFormat<MockAttrs>>): () => FormatUnderTest {
  return () => ({ format: { ...mock64(), ...patch }, walker: mock64Walker() });
}

function withWalker(wrap: (w: HardwareWalker) => HardwareWalker): () => FormatUnderTest {
  return () => ({ format: mock64(), walker: wrap(mock64Walker()) });
}

describe("the suite catches broken formats", () => {
  it("attrsFromEntry that loses the W bit fails attr_from_entry (the ARM DBM bug of genpt-upstream §6.6)", () => {
    const f = withFormat({
      attrsFromEntry: (lo, hi, l) => ({ bits: good.attrsFromEntry(lo, hi, l).bits & ~8 }),
    });
    expect(verdicts(f, ["init", "attr_from_entry"])).toEqual({ init: "pass", attr_from_entry: "fail" });
  });

  it("a leafOa off by one granule for multi-item entries fails entry_oa and map_simple", () => {
    const f = withFormat({
      leafOa: (lo, hi, l) => good.leafOa(lo, hi, l) + (good.leafLg2(lo, hi, l) > 12 + 9 * l ? 1 : 0),
    });
    expect(verdicts(f, ["table_radix", "entry_oa", "map_simple"])).toEqual({
      table_radix: "pass",
      entry_oa: "fail",
      map_simple: "fail",
    });
  });

  it("dirty bits that cleaning does not clear fail dirty", () => {
    const f = withFormat({ dirty: { ...good.dirty!, clean: {} } });
    expect(verdicts(f, ["dirty"])).toEqual({ dirty: "fail" });
  });

  it("protToAttrs throwing a plain Error fails attr_from_entry", () => {
    const f = withFormat({
      protToAttrs: (prot) => {
        if (prot & 32) throw new Error("no PRIV here");
        return good.protToAttrs(prot);
      },
    });
    expect(verdicts(f, ["attr_from_entry"])).toEqual({ attr_from_entry: "fail" });
  });
});

describe("the suite catches broken walkers", () => {
  it("a walker that ignores VA bit 22 fails table_radix and walker_model", () => {
    const f = withWalker((w) => ({
      ...w,
      translate: (m, c, iova, a, s) => w.translate(m, c, iova & ~(1n << 22n), a, s),
    }));
    expect(verdicts(f, ["init", "table_radix", "walker_model"])).toEqual({
      init: "pass",
      table_radix: "fail",
      walker_model: "fail",
    });
  });

  it("a walker that never sets dirty bits fails dirty_lifecycle", () => {
    const f = withWalker((w) => ({
      ...w,
      translate: (m, c, iova, a, s) => w.translate(m, { ...c, accessDirty: false }, iova, a, s),
    }));
    expect(verdicts(f, ["dirty", "dirty_lifecycle"])).toEqual({ dirty: "pass", dirty_lifecycle: "fail" });
  });

  it("a walker that reports the page one size too large fails entry_oa", () => {
    const f = withWalker((w) => ({
      ...w,
      translate: (m, c, iova, a, s) => {
        const r = w.translate(m, c, iova, a, s);
        return r.ok ? { ...r, pageLg2: r.pageLg2 + 1 } : r;
      },
    }));
    expect(verdicts(f, ["entry_oa"])).toEqual({ entry_oa: "fail" });
  });
});
