// The scenario runner: every example scenario passes, expect steps fail when they should, the resize and
// dirty-log steps print what they did, and every malformed field is a UserError naming the step and the
// field.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario, runScenario } from "../src/scenario.js";
import { UserError } from "../src/user-error.js";

const example = (name: string) =>
  fileURLToPath(new URL(`../../../examples/scenarios/${name}`, import.meta.url));
const examples = readdirSync(fileURLToPath(new URL("../../../examples/scenarios/", import.meta.url)))
  .filter((f) => f.endsWith(".json"))
  .sort();

function run(raw: unknown): { lines: string[]; failures: string[] } {
  const lines: string[] = [];
  const { pt, failures } = runScenario(parseScenario(raw, "t.json"), (l) => lines.push(l));
  pt.destroy();
  pt.allocator.assertNoLeaks(pt.owner);
  return { lines, failures };
}

describe("scenarios", () => {
  it("finds the example scenarios", () => {
    expect(examples).toEqual(
      expect.arrayContaining(["amd-pgsize-boundary.json", "dirty-log-split.json", "vtd-mixed.json"]),
    );
  });

  for (const name of examples) {
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

  it("dirty-log-split.json splits the 1G page for logging and merges it back", () => {
    const lines: string[] = [];
    const { pt, failures } = runScenario(loadScenario(example("dirty-log-split.json")), (l) => lines.push(l));
    pt.destroy();
    pt.allocator.assertNoLeaks(pt.owner);
    expect(failures).toEqual([]);
    expect(lines).toContain(
      "step 3 startDirtyLog 0x40000000 1G split: 1 entry split, 513 tables allocated, dirty bits cleared",
    );
    expect(lines).toContain("step 6 dirty 0x40000000 1G: 0x40123000+4K");
    expect(lines).toContain("step 8 stopDirtyLog 0x40000000 1G merge: 1 entry written, 513 tables freed");
  });

  it("cut splits only the entry spanning the iova, keeping the largest entries on each side", () => {
    const { lines, failures } = run({
      format: "vtdss",
      steps: [
        { op: "map", iova: "0x40000000", pa: "0x80000000", size: "1G" },
        { op: "cut", iova: "0x40201000" },
        {
          op: "expect",
          entries: { "1G": 0, "2M": 511, "4K": 512 },
          translations: [
            { iova: "0x40200fff", pa: "0x80200fff" },
            { iova: "0x40201000", pa: "0x80201000" },
            { iova: "0x7fffffff", pa: "0xbfffffff" },
          ],
        },
        { op: "cut", iova: "0x40201000" },
        { op: "cut", iova: "0x1000" },
        { op: "cut", iova: "0x40201800", expectError: "EINVAL" },
        { op: "unmap", iova: "0x40000000", size: "0x201000" },
        {
          op: "expect",
          unmapped: "0x201000",
          translations: [
            { iova: "0x40200000", pa: null },
            { iova: "0x40201000", pa: "0x80201000" },
          ],
        },
      ],
    });
    expect(failures).toEqual([]);
    expect(lines[2]).toBe("step 2 cut 0x40201000: entry split (census: 512 x 4K, 511 x 2M)");
    expect(lines[4]).toBe("step 4 cut 0x40201000: already an entry boundary or unmapped, nothing to do");
    expect(lines[5]).toBe("step 5 cut 0x1000: already an entry boundary or unmapped, nothing to do");
    expect(lines[6]).toBe("step 6 cut 0x40201800: EINVAL as expected");
  });

  it("split turns blocks into smallest pages and merge puts them back", () => {
    const { lines, failures } = run({
      format: "amdv1",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x600000", size: "2M" },
        { op: "split", iova: "0x200000", size: "2M" },
        {
          op: "expect",
          entries: { "2M": 0, "4K": 512 },
          translations: [{ iova: "0x3ff123", pa: "0x7ff123" }],
        },
        { op: "split", iova: "0x200000", size: "2M" },
        { op: "merge", iova: "0x200000", size: "2M" },
        {
          op: "expect",
          entries: { "2M": 1, "4K": 0 },
          translations: [{ iova: "0x3ff123", pa: "0x7ff123" }],
        },
        { op: "merge", iova: "0x200000", size: "2M" },
      ],
    });
    expect(failures).toEqual([]);
    expect(lines.slice(2)).toEqual([
      "step 2 split 0x200000 2M: 1 entry split, 1 table allocated",
      "step 3 expect: ok",
      "step 4 split 0x200000 2M: nothing to split",
      "step 5 merge 0x200000 2M: 1 entry written, 1 table freed",
      "step 6 expect: ok",
      "step 7 merge 0x200000 2M: nothing to merge",
    ]);
  });

  it("merge leaves dirty pages alone unless told to carry the dirty state", () => {
    const { lines, failures } = run({
      format: "vtdss",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x200000", size: "2M" },
        { op: "split", iova: "0x200000", size: "2M" },
        { op: "dma", iova: "0x234000", size: "4K", access: "write" },
        { op: "merge", iova: "0x200000", size: "2M" },
        { op: "expect", entries: { "2M": 0, "4K": 512 } },
        { op: "merge", iova: "0x200000", size: "2M", dirty: "carry" },
        { op: "expect", entries: { "2M": 1, "4K": 0 } },
        { op: "dirty", iova: "0x200000", size: "2M" },
        { op: "expect", dirty: [{ iova: "0x200000", size: "2M" }] },
      ],
    });
    expect(failures).toEqual([]);
    expect(lines).toContain("step 4 merge 0x200000 2M: nothing to merge");
    expect(lines).toContain("step 6 merge 0x200000 2M carrying dirty: 1 entry written, 1 table freed");
  });

  it("startDirtyLog cleans earlier writes; without split or merge the entries stay as they are", () => {
    const { lines, failures } = run({
      format: "vtdss",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x200000", size: "2M" },
        { op: "dma", iova: "0x200000", size: "4K", access: "write" },
        { op: "startDirtyLog", iova: "0x200000", size: "2M" },
        { op: "dirty", iova: "0x200000", size: "2M" },
        { op: "expect", dirty: [], entries: { "2M": 1 } },
        { op: "dma", iova: "0x3ff000", size: "4K", access: "write" },
        { op: "stopDirtyLog", iova: "0x200000", size: "2M" },
        { op: "dirty", iova: "0x200000", size: "2M" },
        { op: "expect", dirty: [{ iova: "0x200000", size: "2M" }], entries: { "2M": 1 } },
      ],
    });
    expect(failures).toEqual([]);
    expect(lines).toContain("step 3 startDirtyLog 0x200000 2M: dirty bits cleared");
    expect(lines).toContain("step 4 dirty 0x200000 2M: nothing dirty");
    expect(lines).toContain("step 7 stopDirtyLog 0x200000 2M: stopped, tables left as they are");
  });

  it("stopDirtyLog with merge keeps a page written since the last harvest small", () => {
    const { lines, failures } = run({
      format: "amdv1",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x200000", size: "2M" },
        { op: "startDirtyLog", iova: "0x200000", size: "2M", split: true },
        { op: "dma", iova: "0x3ff000", size: "4K", access: "write" },
        { op: "stopDirtyLog", iova: "0x200000", size: "2M", merge: true },
        // AMD v1 merges the clean pages into the largest aligned sizes around the dirty one.
        {
          op: "expect",
          entries: { "2M": 0, "1M": 1, "8K": 1, "4K": 2 },
          translations: [{ iova: "0x3ff123", pa: "0x3ff123" }],
        },
        { op: "dirty", iova: "0x200000", size: "2M" },
        { op: "expect", dirty: [{ iova: "0x3ff000", size: "4K" }] },
        { op: "stopDirtyLog", iova: "0x200000", size: "2M", merge: true },
        { op: "expect", entries: { "2M": 1, "4K": 0 } },
      ],
    });
    expect(failures).toEqual([]);
    expect(lines).toContain(
      "step 2 startDirtyLog 0x200000 2M split: 1 entry split, 1 table allocated, dirty bits cleared",
    );
    expect(lines).toContain("step 4 stopDirtyLog 0x200000 2M merge: 8 entries written, 0 tables freed");
    expect(lines).toContain("step 8 stopDirtyLog 0x200000 2M merge: 1 entry written, 1 table freed");
  });

  it("dirty logging on a format without dirty tracking is EOPNOTSUPP", () => {
    const steps = [
      { op: "map", iova: "0x100000", pa: "0x100000", size: "1M" },
      { op: "startDirtyLog", iova: "0x100000", size: "1M", split: true, expectError: "EOPNOTSUPP" },
      { op: "stopDirtyLog", iova: "0x100000", size: "1M", merge: true, expectError: "EOPNOTSUPP" },
      { op: "expect", entries: { "1M": 1 } },
    ];
    const good = run({ format: "armv7s", steps });
    expect(good.failures).toEqual([]);
    expect(good.lines).toContain("step 2 startDirtyLog 0x100000 1M split: EOPNOTSUPP as expected");
    expect(good.lines).toContain("step 3 stopDirtyLog 0x100000 1M merge: EOPNOTSUPP as expected");
    const bad = run({
      format: "armv7s",
      steps: steps.map(({ expectError: _, ...s }) => s),
    });
    expect(bad.failures).toHaveLength(2);
    expect(bad.failures[0]).toMatch(/^step 2 startDirtyLog: 0x100000 1M split: EOPNOTSUPP/);
    expect(bad.failures[1]).toMatch(/^step 3 stopDirtyLog: 0x100000 1M merge: EOPNOTSUPP/);
  });

  it("a resize step that succeeds against expectError fails the run", () => {
    const { failures } = run({
      format: "amdv1",
      steps: [
        { op: "map", iova: "0x200000", pa: "0x200000", size: "2M" },
        { op: "split", iova: "0x200000", size: "2M", expectError: "EINVAL" },
      ],
    });
    expect(failures).toEqual([
      "step 2 split: 0x200000 2M: expected EINVAL, but it succeeded (1 entry split, 1 table allocated)",
    ]);
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
    ["cut without iova", { format: "amdv1", steps: [{ op: "cut" }] }, /steps\[0\]\.iova: expected a number/],
    [
      "split with a bad size",
      { format: "amdv1", steps: [{ op: "split", iova: 0, size: "2Q" }] },
      /steps\[0\]\.size: "2Q" is not a number/,
    ],
    [
      "bad merge dirty",
      { format: "amdv1", steps: [{ op: "merge", iova: 0, size: "2M", dirty: "keep" }] },
      /steps\[0\]\.dirty: "keep" is not "refuse" or "carry"/,
    ],
    [
      "startDirtyLog split not a boolean",
      { format: "amdv1", steps: [{ op: "startDirtyLog", iova: 0, size: "2M", split: "true" }] },
      /steps\[0\]\.split: expected true or false, got "true"/,
    ],
    [
      "stopDirtyLog merge not a boolean",
      { format: "amdv1", steps: [{ op: "stopDirtyLog", iova: 0, size: "2M", merge: 1 }] },
      /steps\[0\]\.merge: expected true or false, got 1/,
    ],
    [
      "bad expectError on a resize step",
      { format: "amdv1", steps: [{ op: "cut", iova: 0, expectError: 22 }] },
      /steps\[0\]\.expectError: expected a string, got 22/,
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
