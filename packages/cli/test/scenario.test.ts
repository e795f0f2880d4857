// The scenario runner: the two regression scenarios pass, expect steps fail when they should, and
// every malformed field is a UserError naming the step and the field.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario, runScenario } from "../src/scenario.js";
import { UserError } from "../src/user-error.js";

const example = (name: string) =>
  fileURLToPath(new URL(`../../../examples/scenarios/${name}`, import.meta.url));

function run(raw: unknown): { lines: string[]; failures: string[] } {
  const lines: string[] = [];
  const { pt, failures } = runScenario(parseScenario(raw, "t.json"), (l) => lines.push(l));
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
  return { lines, failures };
}

describe("scenarios", () => {
  for (const name of ["amd-pgsize-boundary.json", "vtd-mixed.json"]) {
    it(`${name} passes every step`, () => {
      const lines: string[] = [];
      const { pt, failures } = runScenario(loadScenario(example(name)), (l) => lines.push(l));
      pt.destroy();
      expect(failures).toEqual([]);
      expect(lines.filter((l) => l.includes(": ok")).length).toBeGreaterThanOrEqual(2);
    });
  }

  it("a failing expect step is reported with what was found", () => {
    const { failures } = run({
      format: "vtdss",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x200000", size: "2M" },
        { op: "expect", entries: { "4K": 512 }, translations: [{ iova: "0x200000", pa: "0x300000" }] },
      ],
    });
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain("translates to 0x200000, expected 0x300000");
    expect(failures[1]).toContain("512 entries of 4K expected, found 0 (census: 1 x 2M)");
  });

  it("an unexpected PtError fails the run; an expected one passes", () => {
    const bad = run({ format: "amdv1", steps: [{ op: "map", iova: "0x1001", pa: "0", size: "4K" }] });
    expect(bad.failures[0]).toMatch(/EINVAL: map: iova 0x1001 is not aligned/);
    const good = run({
      format: "amdv1",
      steps: [{ op: "map", iova: "0x1001", pa: "0", size: "4K", expectError: "EINVAL" }],
    });
    expect(good.failures).toEqual([]);
  });

  const badInputs: Array<[string, unknown, RegExp]> = [
    ["unknown format", { format: "sparc", steps: [] }, /unknown format "sparc"/],
    ["steps not an array", { format: "amdv1", steps: {} }, /steps: expected an array/],
    ["bad op", { format: "amdv1", steps: [{ op: "zap" }] }, /steps\[0\]\.op: "zap" is not one of/],
    [
      "bad number",
      { format: "amdv1", steps: [{ op: "map", iova: "0x12z", pa: 0, size: "4K" }] },
      /steps\[0\]\.iova: "0x12z" is not a number/,
    ],
    [
      "negative number",
      { format: "amdv1", steps: [{ op: "unmap", iova: -4096, size: "4K" }] },
      /steps\[0\]\.iova: -4096 is not a non-negative/,
    ],
    [
      "bad prot",
      { format: "amdv1", steps: [{ op: "map", iova: 0, pa: 0, size: "4K", prot: "rx" }] },
      /steps\[0\]\.prot: "rx"/,
    ],
    [
      "bad access",
      { format: "amdv1", steps: [{ op: "dma", iova: 0, size: "4K", access: "exec" }] },
      /steps\[0\]\.access/,
    ],
    [
      "bad entries",
      { format: "amdv1", steps: [{ op: "expect", entries: { "4K": -1 } }] },
      /steps\[0\]\.entries\["4K"\]/,
    ],
  ];
  for (const [what, raw, msg] of badInputs) {
    it(`rejects ${what} with a message naming the field`, () => {
      expect(() => parseScenario(raw, "t.json")).toThrow(UserError);
      expect(() => parseScenario(raw, "t.json")).toThrow(msg);
    });
  }

  it("an unreadable file is a UserError", () => {
    expect(() => loadScenario("/nonexistent/scenario.json")).toThrow(/cannot read scenario .*ENOENT/);
  });
});
