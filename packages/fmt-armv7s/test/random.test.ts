// Seeded random map/unmap sequences: after every step the hardware walker over raw memory, pt.iovaToPhys
// and an interval model (a sorted list of mapped ranges) agree, at the edges and middle of every mapping
// and at probes across the window. Runs with and without supersections, with NS, and with the MediaTek
// extension (PAs above 4 GiB, tables above 4 GiB with TTBR_EXT). The driver is @genpt/conformance's.
import {
  alignedInWindow,
  KiB,
  MIXED_PROTS,
  MiB,
  newMem,
  newTable,
  plainAllows,
  runSequences,
} from "@genpt/conformance";
import { test } from "vitest";
import { type Armv7sConfig, type Armv7sWalkerConfig, armv7s, armv7sWalker } from "../src/index.js";

const WINDOW = 64n * MiB; // four supersections, so mappings collide often
const LENGTHS = [
  0x1000n,
  0x3000n,
  0x1_0000n,
  0x1_3000n,
  0x10_0000n,
  0x11_1000n,
  0x20_0000n,
  0x100_0000n,
  0x110_0000n,
];
const ALIGNS = [4n * KiB, 64n * KiB, MiB, 16n * MiB];

interface Setup {
  readonly name: string;
  readonly config: Armv7sConfig;
  readonly walker: Armv7sWalkerConfig;
  /** Table memory; by default 64 MiB at 2 GiB, below 4 GiB as v7s without TTBR_EXT needs. */
  readonly memBase?: bigint;
  /** First IOVA of the window the sequence works in. */
  readonly base: bigint;
  readonly oaBits: number;
  readonly seed: number;
  /** Entry sizes (log2) the sequences must have produced somewhere. */
  readonly mustSee: readonly number[];
}

const SETUPS: Setup[] = [
  { name: "default", config: {}, walker: {}, base: 0n, oaBits: 32, seed: 0x7a11, mustSee: [12, 16, 20] },
  {
    name: "supersections + NS",
    config: { supersections: true, ns: true },
    walker: {},
    base: 0xf000_0000n,
    oaBits: 32,
    seed: 0x5e5e,
    mustSee: [12, 16, 20, 24],
  },
  {
    name: "MTK, supersections",
    config: { mtkExt: true, noPerms: true, supersections: true },
    walker: { mtkExt: true },
    base: 0x3_0000_0000n,
    oaBits: 35,
    seed: 0x3435,
    mustSee: [12, 16, 20, 24],
  },
  {
    name: "MTK + TTBR_EXT, tables above 4 GiB",
    config: { mtkExt: true, ttbrExt: true, noPerms: true, supersections: true },
    walker: { mtkExt: true, ttbrExt: true },
    memBase: 0x6_0000_0000n,
    base: 0x1_0000_0000n,
    oaBits: 35,
    seed: 0x6e7,
    mustSee: [12, 16, 20, 24],
  },
];

test.each(SETUPS)(
  "walker, iovaToPhys and model agree: $name",
  (s) => {
    runSequences({
      name: s.name,
      seed: s.seed,
      runs: 40,
      ops: { min: 10, max: 50 },
      configs: [s.config],
      build: (config) => ({
        pt: newTable(armv7s(config), { mem: newMem({ base: s.memBase }) }),
        walker: armv7sWalker(s.walker),
      }),
      weights: { map: 5, unmap: 3, hole: 1 },
      placement: alignedInWindow({
        base: s.base,
        window: WINDOW,
        lengths: LENGTHS,
        aligns: ALIGNS,
        oaBits: s.oaBits,
        prots: MIXED_PROTS,
      }),
      accesses: ["read", "write", "exec"],
      // Reads always pass (AP has no write-only encoding); without permissions (MTK) everything does.
      allows: (prot, access) => s.config.noPerms === true || access === "read" || plainAllows(prot, access),
      // One probe per 1M slot.
      grid: { base: s.base, size: WINDOW, step: MiB },
      mustSee: s.mustSee,
    });
  },
  120_000,
);
