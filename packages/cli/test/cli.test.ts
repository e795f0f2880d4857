// The genpt command end to end through its real launcher: output, exit codes, and one clean line on
// stderr for a user's mistake.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/genpt.mjs", import.meta.url));
const example = (name: string) =>
  fileURLToPath(new URL(`../../../examples/scenarios/${name}`, import.meta.url));

function genpt(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("genpt", () => {
  it("formats lists every format with levels, sizes and widths", () => {
    const r = genpt("formats");
    expect(r.code).toBe(0);
    for (const f of ["amdv1", "vtdss", "armv8", "armv7s"]) expect(r.out).toContain(`${f}:`);
    expect(r.out).toContain("4 levels, 48-bit VA, 52-bit OA, 8-byte entries");
    expect(r.out).toContain("page sizes: 4K 64K 1M 16M");
  });

  it("run passes the AMD regression scenario and exits 0", () => {
    const r = genpt("run", example("amd-pgsize-boundary.json"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("all 8 steps passed");
  });

  it("run exits 1 when an expect step fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "genpt-"));
    const file = join(dir, "s.json");
    writeFileSync(
      file,
      JSON.stringify({
        format: "armv7s",
        steps: [{ op: "expect", translations: [{ iova: "0x1000", pa: "0x1000" }] }],
      }),
    );
    const r = genpt("run", file);
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL iova 0x1000 translates to nothing, expected 0x1000");
  });

  it("dump prints the tree and writes an SVG", () => {
    const dir = mkdtempSync(join(tmpdir(), "genpt-"));
    const svg = join(dir, "t.svg");
    const file = join(dir, "s.json");
    const steps = [{ op: "map", iova: "0x3fe400000", pa: "0x3fe400000", size: "0xc2200000" }];
    writeFileSync(file, JSON.stringify({ format: "vtdss", steps }));
    const r = genpt("dump", file, "--svg", svg);
    expect(r.code).toBe(0);
    expect(r.out).toContain("vtdss (4 levels, 48-bit VA, 52-bit OA)");
    expect(r.out).toContain("14 x leaf 2M");
    const text = readFileSync(svg, "utf8");
    expect(text.startsWith("<svg")).toBe(true);
    expect(text).toContain("leaf 2M");
  });

  const mistakes: Array<[string[], RegExp]> = [
    [["frob"], /unknown command "frob"/],
    [["run", "/nonexistent.json"], /cannot read scenario/],
    [["demo", "--bogus"], /Unknown option/],
    [["check", "/nonexistent.ts"], /cannot load module/],
  ];
  for (const [args, msg] of mistakes) {
    it(`${args.join(" ")}: one line on stderr, exit 2, no stack trace`, () => {
      const r = genpt(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).not.toContain("    at ");
    });
  }
});
