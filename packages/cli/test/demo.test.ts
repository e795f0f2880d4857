// The demo's figures on every format: the guest maps and unmaps whole, a dirty log split to 4K pages
// reports exactly the bytes the device wrote, and the same writes over the mapped blocks report whole
// blocks (the amplification the split exists to remove).
import { describe, expect, it } from "vitest";
import { DEMO_STEPS, demoTable, runDemo } from "../src/commands/demo.js";
import { FORMATS } from "../src/registry.js";

describe("genpt demo", () => {
  it("logs exactly the written bytes when split, and whole blocks when not", () => {
    let steps = 0;
    const results = runDemo({ step: () => steps++, done: () => {} });
    expect(steps).toBe(FORMATS.length * DEMO_STEPS);
    for (const r of results) {
      expect(r.unmapped).toBe(r.mappedBytes);
      if (r.dirtyReported < 0n) {
        expect(r.dirtyReportedSplit).toBe(-1n);
        continue;
      }
      // The writes are 256 scattered 4K pages and one 2M buffer, all distinct pages.
      expect(r.dirtyReportedSplit).toBe(r.written);
      expect(r.dirtyReported).toBeGreaterThan(100n * r.written);
    }
    expect(results.some((r) => r.dirtyReported >= 0n)).toBe(true);
    expect(demoTable(results)).toMatch(/dirty, split logging +3M +3M/);
  });
});
