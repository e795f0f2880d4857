// The real core passes the checker on seeded random sequences over the mock formats, with the device
// coherent and incoherent, with dirty tracking, and under each invalidation model.
import { mock32, mock32Walker, mock64, mock64Walker } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { INVALIDATION } from "../src/index.js";
import { type RandomConfig, runRandom } from "./random-driver.js";

const mocks: RandomConfig[] = [];
for (const coherent of [true, false]) {
  const view = coherent ? "coherent" : "incoherent";
  mocks.push(
    {
      name: `mock64, ${view}`,
      format: () => mock64(),
      walker: mock64Walker,
      coherent,
      dirty: true,
      highBase: 1n << 44n,
    },
    { name: `mock32, ${view}`, format: () => mock32(), walker: mock32Walker, coherent, dirty: true },
  );
}
mocks.push(
  {
    name: "mock64, AMD-style pow2 invalidation, drop-entry",
    format: () => mock64(),
    walker: mock64Walker,
    coherent: true,
    dirty: true,
    highBase: 1n << 50n,
    iommu: { invalidation: INVALIDATION.amdv1, partialInvalidation: "drop-entry" },
  },
  {
    name: "mock64 at top level 4, VT-d-style invalidation",
    format: () => mock64({ topLevel: 4 }),
    walker: mock64Walker,
    coherent: false,
    dirty: false,
    highBase: 1n << 52n,
    iommu: { invalidation: INVALIDATION.vtd },
  },
);

describe("random sequences pass the checker (mock formats)", () => {
  mocks.forEach((cfg, i) => {
    it(cfg.name, () => runRandom(cfg, 0x5eed + i, 12, 40));
  });
});

// The same sequences are strong enough to find each rule the core's test switches break, without being
// told where to look. skipNewTableFlush can only show on an incoherent device, and freeBeforeFlush only
// on a coherent one (an incoherent device never sees the poison the free writes).
describe("random sequences catch every broken rule", () => {
  const catches: Array<[string, RandomConfig, RegExp]> = [
    ["shortGather", mocks[0]!, /still translates an unmapped iova/],
    ["skipNewTableFlush", mocks[3]!, /iova 0x[0-9a-f]+: /],
    ["skipDirtyGather", mocks[1]!, /dirty translation whose PTE is clean|missing from the dirty harvest/],
    ["freeBeforeFlush", mocks[0]!, /inside the flush window[\s\S]*still translates an unmapped iova/],
  ];
  for (const [rule, cfg, message] of catches) {
    it(`${rule} (${cfg.name})`, () => {
      expect(
        failureOf(() => runRandom({ ...cfg, breaks: { [rule]: true } }, 0xb0 + rule.length, 12, 40)),
      ).toMatch(message);
    });
  }
});

/** The message of what `fn` threw, with fast-check's cause (the failed assertion) included. */
function failureOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { cause?: { message?: string } };
    return `${err.message}\n${err.cause?.message ?? ""}`;
  }
  return "nothing was thrown";
}
