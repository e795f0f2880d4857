// Model-based random sequences: after every map, unmap, hole unmap or DMA write, three views must agree:
// the hardware walker over raw memory, pt.iovaToPhys, and an interval model (a sorted list of mappings).
// The driver is @genpt/conformance's; this file holds the VT-d op mix and every configuration it runs.
import { newTable, pagesInRegions, RW_PROTS, runSequences } from "@genpt/conformance";
import { test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

// Low addresses, the test_mixed neighbourhood, and the top of the 39-bit space.
const REGIONS = [0n, 0x3_fe00_0000n, (1n << 39n) - (16n << 30n)];
// The three leaf sizes.
const LG2 = [12, 21, 30];

// Every address width, every HAW the walker checks outputs against, with and without SNP.
const CONFIGS = ([39, 48, 57] as const).flatMap((vaBits) =>
  [40, 46, 52].flatMap((oaBits) =>
    [false, true].map((forceCoherence) => ({ vaBits, oaBits, forceCoherence })),
  ),
);

test("walker, iovaToPhys and the interval model agree on random op sequences", () => {
  runSequences({
    name: "vtdss",
    seed: 0x5eed_7d55,
    runs: 300,
    ops: { min: 1, max: 12 },
    configs: CONFIGS,
    build: (cfg) => ({ pt: newTable(vtdss(cfg)), walker: vtdssWalker({ haw: cfg.oaBits }) }),
    weights: { map: 5, unmap: 2, hole: 1, dirty: 2 },
    placement: pagesInRegions({ regions: REGIONS, lg2s: LG2, paHighBit: 38, prots: RW_PROTS }),
    accesses: ["read", "write"],
    mustSee: LG2,
  });
}, 60_000);
