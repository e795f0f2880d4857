// Model-based random sequences: after every map, unmap, hole unmap or DMA write, three views must agree:
// the hardware walker over raw memory, pt.iovaToPhys, and an interval model (a sorted list of mappings).
// The driver is @genpt/conformance's; this file holds the AMD v1 op mix.
import { newTable, pagesInRegions, RW_PROTS, runSequences } from "@genpt/conformance";
import { test } from "vitest";
import { AMDV1_TEST_CONFIGS, amdv1, amdv1Walker } from "../src/index.js";

// Low addresses, the 0xfef80000 neighbourhood, and regions only Mode 4 and Mode 5 reach (growing the top).
const REGIONS = [0n, 0xfe00_0000n, 1n << 39n, 1n << 48n];
// 4K, replicated sizes at levels 0 and 1, the level defaults, and a 1G page.
const LG2 = [12, 13, 14, 16, 20, 21, 22, 25, 30];

test("walker, iovaToPhys and the interval model agree on random op sequences", () => {
  runSequences({
    name: "amdv1",
    seed: 0x5eed_a3d1,
    runs: 300,
    ops: { min: 1, max: 12 },
    configs: AMDV1_TEST_CONFIGS,
    build: (cfg) => ({ pt: newTable(amdv1(cfg)), walker: amdv1Walker() }),
    weights: { map: 5, unmap: 2, hole: 1, dirty: 2 },
    placement: pagesInRegions({ regions: REGIONS, lg2s: LG2, paHighBit: 44, prots: RW_PROTS }),
    accesses: ["read", "write"],
    mustSee: LG2,
  });
}, 60_000);
