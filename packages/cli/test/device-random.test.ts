// The real formats, driven by their own hardware walkers: the core passes the sim checker on seeded
// random sequences for every test configuration, coherent and incoherent, with dirty tracking where the
// format has it and the format family's invalidation granule rules. It lives in the CLI package, the one
// package allowed to import every format and the sim, so the package graph keeps no cycle; the random
// driver itself is the sim's own.
import { amdv1, amdv1Walker } from "@genpt/fmt-amdv1";
import { armv7s, armv7sWalker } from "@genpt/fmt-armv7s";
import { ARMV8_TEST_CONFIGS, armv8, armv8Walker } from "@genpt/fmt-armv8";
import { vtdss, vtdssWalker } from "@genpt/fmt-vtd";
import { INVALIDATION } from "@genpt/sim";
import { describe, it } from "vitest";
import { type RandomConfig, runRandom } from "../../sim/test/random-driver.js";

const TWO64 = 1n << 64n;
const configs: RandomConfig[] = [];
for (const coherent of [true, false]) {
  const view = coherent ? "coherent" : "incoherent";
  configs.push(
    {
      name: `amdv1, ${view}`,
      format: () => amdv1(),
      walker: () => amdv1Walker(),
      coherent,
      dirty: true,
      highBase: 1n << 50n, // grows the top from Mode 3 to Mode 5
      iommu: { invalidation: INVALIDATION.amdv1 },
    },
    {
      name: `vtdss 48-bit, ${view}`,
      format: () => vtdss({ vaBits: 48 }),
      walker: () => vtdssWalker(),
      coherent,
      dirty: true,
      highBase: 1n << 46n,
      iommu: { invalidation: INVALIDATION.vtd },
    },
    {
      name: `armv7s with supersections, ${view}`,
      format: () => armv7s({ supersections: true }),
      walker: () => armv7sWalker(),
      coherent,
      dirty: false,
      highBase: 0x4000_0000n,
    },
  );
  for (const c of ARMV8_TEST_CONFIGS) {
    const span = 1n << BigInt(c.ias);
    configs.push({
      name: `armv8 ${c.granule / 1024}K stage ${c.stage} ias ${c.ias}${c.contig ? " contig" : ""}${c.ttbr1 ? " ttbr1" : ""}${c.dbm ? " dbm" : ""}, ${view}`,
      format: () => armv8(c),
      walker: () =>
        armv8Walker({ granule: c.granule, stage: c.stage, ias: c.ias, oas: c.oas, ttbr1: c.ttbr1 }),
      coherent,
      dirty: c.dbm === true,
      lowBase: c.ttbr1 ? TWO64 - span : 0n,
      highBase: c.ttbr1 ? TWO64 - (span >> 1n) : span >> 1n,
    });
  }
}
configs.push(
  {
    name: "vtdss 57-bit, incoherent",
    format: () => vtdss({ vaBits: 57 }),
    walker: () => vtdssWalker(),
    coherent: false,
    dirty: true,
    highBase: 1n << 55n,
    iommu: { invalidation: INVALIDATION.vtd },
  },
  {
    name: "armv7s MediaTek extension (no permissions)",
    format: () => armv7s({ mtkExt: true, noPerms: true }),
    walker: () => armv7sWalker({ mtkExt: true }),
    coherent: true,
    dirty: false,
    highBase: 0x2_0000_0000n,
    permissions: false,
  },
);

describe("random sequences pass the checker (real formats)", () => {
  configs.forEach((cfg, i) => {
    it(cfg.name, () => runRandom(cfg, 0xf0 + i, 6, 30));
  });
});
