// Seeded random map/unmap sequences: after every step the SMMUv3 walker over raw memory, pt.iovaToPhys
// and an interval model (a sorted list of mapped ranges) agree, at the edges and middle of every mapping
// and at probes across the window, for reads, writes and instruction fetches. The setups cover the
// contiguous hint, the 16K granule, the 64K granule with 52-bit PAs and 4T blocks, concatenated stage-2
// tops (the window straddles two of the concatenated tables) and TTBR1. The driver is @genpt/conformance's.
import type { PhysMem } from "@genpt/alloc";
import {
  type AlignedInWindow,
  alignedInWindow,
  GiB,
  KiB,
  MIXED_PROTS,
  MiB,
  newMem,
  newTable,
  plainAllows,
  runSequences,
  TiB,
} from "@genpt/conformance";
import { test } from "vitest";
import { type Armv8Config, armv8, armv8Walker } from "../src/index.js";

/** The window the sequence works in, with the mapping lengths and IOVA/PA alignments to draw from. */
interface Setup extends Pick<AlignedInWindow, "base" | "window" | "lengths" | "aligns"> {
  readonly name: string;
  readonly cfg: Armv8Config;
  /** Shared by the runs of a setup: each run's table is freed before the next is made. */
  readonly mem: PhysMem;
  readonly seed: number;
  /** Entry sizes (log2) the sequences must have produced somewhere, so that they test what they claim. */
  readonly mustSee: readonly number[];
}

const SETUPS: Setup[] = [
  {
    name: "4K stage 1, contig, dbm",
    cfg: { granule: 4096, stage: 1, ias: 48, oas: 48, contig: true, dbm: true },
    mem: newMem(),
    base: 0x7f_f000_0000n,
    window: 256n * MiB,
    lengths: [
      4n * KiB,
      12n * KiB,
      64n * KiB,
      68n * KiB,
      2n * MiB,
      2n * MiB + 64n * KiB,
      32n * MiB,
      34n * MiB,
    ],
    aligns: [4n * KiB, 64n * KiB, 2n * MiB, 32n * MiB],
    seed: 0xa4,
    mustSee: [12, 16, 21, 25],
  },
  {
    name: "16K stage 1, ias 47, contig",
    cfg: { granule: 16384, stage: 1, ias: 47, oas: 48, contig: true },
    mem: newMem(),
    base: 0x40_0000_0000n,
    window: 4n * GiB,
    lengths: [
      16n * KiB,
      48n * KiB,
      2n * MiB,
      2n * MiB + 16n * KiB,
      32n * MiB,
      96n * MiB,
      GiB,
      GiB + 32n * MiB,
    ],
    aligns: [16n * KiB, 2n * MiB, 32n * MiB, GiB],
    seed: 0x16,
    mustSee: [14, 21, 25, 30],
  },
  {
    name: "64K stage 1, 52-bit, tables above 2^48",
    cfg: { granule: 65536, stage: 1, ias: 52, oas: 52 },
    mem: newMem({ base: 0x5_0000_0000_0000n }),
    base: (1n << 52n) - 16n * TiB,
    window: 16n * TiB,
    lengths: [64n * KiB, 192n * KiB, 512n * MiB, 512n * MiB + 64n * KiB, 4n * TiB, 4n * TiB + 512n * MiB],
    aligns: [64n * KiB, 512n * MiB, 4n * TiB],
    seed: 0x52,
    mustSee: [16, 29, 42],
  },
  {
    name: "4K stage 2, ias 40: two concatenated L1 tables, contig, dbm",
    cfg: { granule: 4096, stage: 2, ias: 40, oas: 40, contig: true, dbm: true },
    mem: newMem(),
    base: (1n << 39n) - 2n * GiB,
    window: 4n * GiB,
    lengths: [4n * KiB, 64n * KiB, 2n * MiB, 32n * MiB, GiB, GiB + 2n * MiB],
    aligns: [4n * KiB, 64n * KiB, 2n * MiB, 32n * MiB, GiB],
    seed: 0x240,
    mustSee: [12, 16, 21, 25, 30],
  },
  {
    name: "16K stage 2, ias 40: sixteen concatenated L2 tables",
    cfg: { granule: 16384, stage: 2, ias: 40, oas: 40 },
    mem: newMem(),
    base: 64n * GiB - GiB,
    window: 2n * GiB,
    lengths: [16n * KiB, 48n * KiB, 32n * MiB, 64n * MiB + 16n * KiB],
    aligns: [16n * KiB, 32n * MiB],
    seed: 0x1640,
    mustSee: [14, 25],
  },
  {
    name: "4K stage 1, TTBR1, ias 39",
    cfg: { granule: 4096, stage: 1, ias: 39, oas: 44, ttbr1: true },
    mem: newMem(),
    base: (1n << 64n) - 4n * GiB,
    window: 4n * GiB,
    lengths: [4n * KiB, 12n * KiB, 2n * MiB, 6n * MiB + 4n * KiB, GiB],
    aligns: [4n * KiB, 2n * MiB, GiB],
    seed: 0x7781,
    mustSee: [12, 21, 30],
  },
];

test.each(SETUPS)("walker, iovaToPhys and model agree: $name", (s) => {
  runSequences({
    name: s.name,
    seed: s.seed,
    runs: 15,
    ops: { min: 10, max: 30 },
    configs: [s.cfg],
    build: (cfg) => ({ pt: newTable(armv8(cfg), { mem: s.mem }), walker: armv8Walker(cfg) }),
    weights: { map: 5, unmap: 3, hole: 1 },
    // At most 4096 leaves a map: a large length takes the smallest alignment that keeps it under that.
    placement: alignedInWindow({ ...s, oaBits: s.cfg.oas, prots: MIXED_PROTS, maxLeaves: 4096n }),
    accesses: ["read", "write", "exec"],
    // Stage 1 reads always pass (AP has no write-only encoding); stage 2 needs S2AP read.
    allows: (prot, access) => (access === "read" && s.cfg.stage === 1) || plainAllows(prot, access),
    grid: { base: s.base, size: s.window, step: s.window / 32n },
    mustSee: s.mustSee,
  });
});
