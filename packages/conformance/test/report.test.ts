// runConformance's report and formatReport: totals, n/a with reasons, failures with seed and IOVA,
// progress callbacks, case selection, and a factory that throws.
import { mock32, mock64, mock64Walker } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { CASES, type FormatUnderTest, formatReport, runConformance } from "../src/index.js";

describe("runConformance", () => {
  it("reports every case x config, n/a with a reason where a walker is needed, and totals", () => {
    const seen: string[] = [];
    const only = ["init", "walker_model", "sim_coherent", "dirty_lifecycle"];
    const report = runConformance(() => ({ format: mock32() }), [1, 2], {
      only,
      onProgress: (c, cfg) => seen.push(`${c}@${cfg}`),
    });
    expect(report.results).toHaveLength(8);
    expect(report.cases).toEqual(only);
    expect(report.configs).toEqual([
      "mock32: 4-byte mock, 1 KiB tables, 64-byte top",
      "mock32: 4-byte mock, 1 KiB tables, 64-byte top",
    ]);
    expect(report.totals).toEqual({ pass: 2, fail: 0, notApplicable: 6, total: 8 });
    expect(report.ok).toBe(true);
    expect(report.results.find((r) => r.case === "walker_model")?.reason).toBe("no hardware walker given");
    expect(seen).toEqual(only.flatMap((c) => [`${c}@1`]).concat(only.map((c) => `${c}@2`)));
    const text = formatReport(report);
    expect(text).toMatch(/^genpt conformance: 4 cases x 2 config\(s\), seed 1/);
    expect(text).toMatch(/\nwalker_model +n\/a +n\/a\n/);
    expect(text).toContain("OK: 2 passed, 0 failed, 6 n/a, of 8");
  });

  it("a failure carries the reason, the seed of a random case and the IOVA", () => {
    const broken = (): FormatUnderTest => {
      const f = mock64();
      return { format: { ...f, leafOa: (lo, hi, l) => f.leafOa(lo, hi, l) + 1 }, walker: mock64Walker() };
    };
    const report = runConformance(broken, [0], {
      only: ["random_map", "map_simple"],
      seed: 42,
      iterations: 50,
    });
    expect(report.ok).toBe(false);
    const rm = report.results.find((r) => r.case === "random_map")!;
    expect(rm.status).toBe("fail");
    expect(rm.seed).toBe(42);
    expect(typeof rm.iova).toBe("bigint");
    expect(rm.reason).toMatch(/iovaToPhys/);
    const ms = report.results.find((r) => r.case === "map_simple")!;
    expect(ms.seed).toBeUndefined();
    const text = formatReport(report);
    expect(text).toContain(`[1] random_map: ${rm.reason} (seed 42, iova 0x${rm.iova!.toString(16)})`);
    expect(text).toMatch(/FAILED: 0 passed, 2 failed/);
  });

  it("a factory that throws fails every case of that config with the reason", () => {
    const report = runConformance(
      (c: { bad: boolean }) => {
        if (c.bad) throw new Error("bad config");
        return { format: mock32() };
      },
      [{ bad: true }, { bad: false }],
      { only: ["init", "max_va"] },
    );
    expect(report.results.map((r) => r.status)).toEqual(["fail", "fail", "pass", "pass"]);
    expect(report.results[0]!.reason).toBe("the factory threw: bad config");
    expect(report.configs[0]).toBe('config 0: {"bad":true}');
  });

  it("rejects an unknown case name", () => {
    expect(() => runConformance(() => ({ format: mock32() }), [0], { only: ["no_such_case"] })).toThrow(
      /no_such_case/,
    );
  });

  it("has unique case names with summaries", () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    for (const c of CASES) expect(c.summary.length).toBeGreaterThan(10);
  });
});
