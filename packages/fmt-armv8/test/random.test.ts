// Seeded random map/unmap sequences: after every step the SMMUv3 walker over raw memory, pt.iovaToPhys
// and an interval model (a sorted list of mapped ranges) agree, at the edges and middle of every mapping
// and at probes across the window, for reads, writes and instruction fetches. The setups cover the
// contiguous hint, the 16K granule, the 64K granule with 52-bit PAs and 4T blocks, concatenated stage-2
// tops (the window straddles two of the concatenated tables) and TTBR1.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, type PageTable, Prot } from "@genpt/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { type Armv8Config, armv8, armv8Walker } from "../src/index.js";
import { finish, freeze, tableMem } from "./helpers.js";

interface Mapping {
  readonly iova: bigint;
  readonly size: bigint;
  readonly pa: bigint;
  readonly prot: number;
}

/** The model: disjoint mappings sorted by IOVA. */
class Model {
  readonly list: Mapping[] = [];
  overlaps(iova: bigint, size: bigint): boolean {
    return this.list.some((m) => iova < m.iova + m.size && m.iova < iova + size);
  }
  add(m: Mapping): void {
    this.list.push(m);
    this.list.sort((a, b) => (a.iova < b.iova ? -1 : 1));
  }
  find(iova: bigint): Mapping | undefined {
    return this.list.find((m) => iova >= m.iova && iova < m.iova + m.size);
  }
}

type Op =
  | { t: "map"; align: number; slot: number; len: number; paSlot: bigint; prot: number }
  | { t: "unmap"; pick: number; span: number }
  | { t: "hole"; slot: number; len: number };

const PROTS = [
  Prot.READ,
  Prot.READ | Prot.WRITE,
  Prot.WRITE,
  Prot.READ | Prot.NOEXEC,
  Prot.READ | Prot.WRITE | Prot.CACHE,
  Prot.READ | Prot.WRITE | Prot.MMIO | Prot.NOEXEC,
];

interface Setup {
  readonly name: string;
  readonly cfg: Armv8Config;
  readonly mem: PhysMem;
  /** First IOVA of the window the sequence works in, and its size. */
  readonly base: bigint;
  readonly window: bigint;
  /** Mapping lengths and IOVA/PA alignments to draw from. */
  readonly lengths: readonly bigint[];
  readonly aligns: readonly bigint[];
  readonly seed: number;
  /** Entry sizes (log2) the sequences must have produced somewhere, so that they test what they claim. */
  readonly mustSee: readonly number[];
  readonly seen: Set<number>;
}

const K = 1024n;
const M = K * K;
const G = M * K;
const T = G * K;
const SETUPS: Setup[] = [
  {
    name: "4K stage 1, contig, dbm",
    cfg: { granule: 4096, stage: 1, ias: 48, oas: 48, contig: true, dbm: true },
    mem: tableMem(),
    base: 0x7f_f000_0000n,
    window: 256n * M,
    lengths: [4n * K, 12n * K, 64n * K, 68n * K, 2n * M, 2n * M + 64n * K, 32n * M, 34n * M],
    aligns: [4n * K, 64n * K, 2n * M, 32n * M],
    seed: 0xa4,
    mustSee: [12, 16, 21, 25],
    seen: new Set(),
  },
  {
    name: "16K stage 1, ias 47, contig",
    cfg: { granule: 16384, stage: 1, ias: 47, oas: 48, contig: true },
    mem: tableMem(),
    base: 0x40_0000_0000n,
    window: 4n * G,
    lengths: [16n * K, 48n * K, 2n * M, 2n * M + 16n * K, 32n * M, 96n * M, G, G + 32n * M],
    aligns: [16n * K, 2n * M, 32n * M, G],
    seed: 0x16,
    mustSee: [14, 21, 25, 30],
    seen: new Set(),
  },
  {
    name: "64K stage 1, 52-bit, tables above 2^48",
    cfg: { granule: 65536, stage: 1, ias: 52, oas: 52 },
    mem: new PhysMem({ base: 0x5_0000_0000_0000n, size: 64n * M }),
    base: (1n << 52n) - 16n * T,
    window: 16n * T,
    lengths: [64n * K, 192n * K, 512n * M, 512n * M + 64n * K, 4n * T, 4n * T + 512n * M],
    aligns: [64n * K, 512n * M, 4n * T],
    seed: 0x52,
    mustSee: [16, 29, 42],
    seen: new Set(),
  },
  {
    name: "4K stage 2, ias 40: two concatenated L1 tables, contig, dbm",
    cfg: { granule: 4096, stage: 2, ias: 40, oas: 40, contig: true, dbm: true },
    mem: tableMem(),
    base: (1n << 39n) - 2n * G,
    window: 4n * G,
    lengths: [4n * K, 64n * K, 2n * M, 32n * M, G, G + 2n * M],
    aligns: [4n * K, 64n * K, 2n * M, 32n * M, G],
    seed: 0x240,
    mustSee: [12, 16, 21, 25, 30],
    seen: new Set(),
  },
  {
    name: "16K stage 2, ias 40: sixteen concatenated L2 tables",
    cfg: { granule: 16384, stage: 2, ias: 40, oas: 40 },
    mem: tableMem(),
    base: 64n * G - G,
    window: 2n * G,
    lengths: [16n * K, 48n * K, 32n * M, 64n * M + 16n * K],
    aligns: [16n * K, 32n * M],
    seed: 0x1640,
    mustSee: [14, 25],
    seen: new Set(),
  },
  {
    name: "4K stage 1, TTBR1, ias 39",
    cfg: { granule: 4096, stage: 1, ias: 39, oas: 44, ttbr1: true },
    mem: tableMem(),
    base: (1n << 64n) - 4n * G,
    window: 4n * G,
    lengths: [4n * K, 12n * K, 2n * M, 6n * M + 4n * K, G],
    aligns: [4n * K, 2n * M, G],
    seed: 0x7781,
    mustSee: [12, 21, 30],
    seen: new Set(),
  },
];

function opArb(s: Setup): fc.Arbitrary<Op> {
  const len = fc.nat(s.lengths.length - 1);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        t: fc.constant("map" as const),
        align: fc.nat(s.aligns.length - 1),
        slot: fc.nat(),
        len,
        paSlot: fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }),
        prot: fc.constantFrom(...PROTS),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant("unmap" as const),
        pick: fc.nat(),
        span: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("hole" as const), slot: fc.nat(), len }) },
  );
}

function run(s: Setup, ops: Op[]): void {
  const pt = createPageTable(armv8(s.cfg), { mem: s.mem });
  const model = new Model();
  try {
    for (const op of ops) {
      step(pt, s, model, op);
      check(pt, s, model);
    }
  } finally {
    finish(pt);
  }
}

function step(pt: PageTable<unknown>, s: Setup, model: Model, op: Op): void {
  if (op.t === "map") {
    const len = s.lengths[op.len]!;
    // At most 4096 leaves a map: a large length takes the smallest alignment that keeps it under that.
    const align =
      s.aligns.find((a, i) => i >= op.align && len / a <= 4096n) ?? s.aligns[s.aligns.length - 1]!;
    const iova = s.base + (((BigInt(op.slot) * align) % (s.window - len + 1n)) & ~(align - 1n));
    const pa = (op.paSlot % ((1n << BigInt(s.cfg.oas)) - len + 1n)) & ~(align - 1n);
    if (model.overlaps(iova, len)) {
      const before = freeze(pt);
      expect(() => pt.map(iova, pa, len, op.prot)).toThrow(/EADDRINUSE/);
      expect(freeze(pt)).toEqual(before);
    } else {
      pt.map(iova, pa, len, op.prot);
      model.add({ iova, size: len, pa, prot: op.prot });
    }
  } else if (op.t === "unmap") {
    if (model.list.length === 0) return;
    // From the start of one mapping to the end of up to `span` mappings after it: holes are skipped.
    const i = op.pick % model.list.length;
    const j = Math.min(model.list.length, i + op.span) - 1;
    const first = model.list[i]!;
    const last = model.list[j]!;
    const removed = model.list.splice(i, j - i + 1);
    const bytes = removed.reduce((a, m) => a + m.size, 0n);
    expect(pt.unmap(first.iova, last.iova + last.size - first.iova)).toBe(bytes);
  } else {
    const len = s.lengths[op.len]!;
    const granule = BigInt(s.cfg.granule);
    const iova = s.base + (((BigInt(op.slot) * granule) % (s.window - len + 1n)) & ~(granule - 1n));
    if (model.overlaps(iova, len)) return;
    expect(pt.unmap(iova, len)).toBe(0n);
  }
}

function check(pt: PageTable<unknown>, s: Setup, model: Model): void {
  const { root, topLevel } = pt.info();
  const walker = armv8Walker({
    granule: s.cfg.granule,
    stage: s.cfg.stage,
    ias: s.cfg.ias,
    oas: s.cfg.oas,
    ttbr1: s.cfg.ttbr1,
  });
  const ctx = { root, topLevel, accessDirty: false };
  for (const m of model.list) {
    for (const off of [0n, m.size / 2n + 0x7n, m.size - 1n]) {
      const iova = m.iova + off;
      const pa = m.pa + off;
      expect(pt.iovaToPhys(iova)).toBe(pa);
      // Stage 1 reads always pass (AP has no write-only); stage 2 needs S2AP read.
      const canRead = s.cfg.stage === 1 || (m.prot & Prot.READ) !== 0;
      const r = walker.translate(pt.mem, ctx, iova, canRead ? "read" : "write");
      if (!r.ok) throw new Error(`walker faulted at 0x${iova.toString(16)}: ${r.kind} ${r.detail}`);
      expect(r.pa).toBe(pa);
      // The (possibly contiguous) entry the walker used lies inside the mapping, its output aligned to its size.
      const page = 1n << BigInt(r.pageLg2);
      const pageStart = iova & ~(page - 1n);
      expect(pageStart >= m.iova && pageStart + page <= m.iova + m.size).toBe(true);
      expect((pa - (iova - pageStart)) % page).toBe(0n);
      s.seen.add(r.pageLg2);
    }
    expect(walker.translate(pt.mem, ctx, m.iova, "read").ok).toBe(
      s.cfg.stage === 1 || (m.prot & Prot.READ) !== 0,
    );
    expect(walker.translate(pt.mem, ctx, m.iova, "write").ok).toBe((m.prot & Prot.WRITE) !== 0);
    expect(walker.translate(pt.mem, ctx, m.iova, "exec").ok).toBe((m.prot & Prot.NOEXEC) === 0);
  }
  // Probes across the window at an odd offset, and just past each mapping.
  const probes: bigint[] = [];
  for (let a = 0n; a < s.window; a += s.window / 32n) probes.push(s.base + a + 0x5_4321n);
  for (const m of model.list) if (m.iova + m.size < s.base + s.window) probes.push(m.iova + m.size + 0x10n);
  for (const iova of probes) {
    const m = model.find(iova);
    const r = walker.translate(pt.mem, ctx, iova, "write");
    if (m) {
      expect(pt.iovaToPhys(iova)).toBe(m.pa + (iova - m.iova));
      if ((m.prot & Prot.WRITE) !== 0) expect(r).toMatchObject({ ok: true, pa: m.pa + (iova - m.iova) });
      else expect(r).toMatchObject({ ok: false, kind: "permission" });
    } else {
      expect(pt.iovaToPhys(iova)).toBeUndefined();
      expect(r).toMatchObject({ ok: false, kind: "translation" });
    }
  }
}

test.each(SETUPS)("walker, iovaToPhys and model agree: $name", (s) => {
  fc.assert(
    fc.property(fc.array(opArb(s), { minLength: 10, maxLength: 30 }), (ops) => run(s, ops)),
    { seed: s.seed, numRuns: 15 },
  );
  expect([...s.seen].sort((a, b) => a - b)).toEqual(expect.arrayContaining([...s.mustSee]));
});
