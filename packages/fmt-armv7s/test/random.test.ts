// Seeded random map/unmap sequences: after every step the hardware walker over raw memory, pt.iovaToPhys
// and an interval model (a sorted list of mapped ranges) agree, at the edges and middle of every mapping
// and at probes across the window. Runs with and without supersections, with NS, and with the MediaTek
// extension (PAs above 4 GiB, tables above 4 GiB with TTBR_EXT).
import { PhysMem } from "@genpt/alloc";
import { createPageTable, type PageTable, Prot } from "@genpt/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { type Armv7sConfig, type Armv7sWalkerConfig, armv7s, armv7sWalker } from "../src/index.js";
import { finish, freeze, lowMem } from "./helpers.js";

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
  | { t: "map"; alignLg2: number; slot: number; len: bigint; paSlot: bigint; prot: number }
  | { t: "unmap"; pick: number; span: number }
  | { t: "hole"; slot: number; len: bigint };

const WINDOW = 64n << 20n; // 64 MiB: four supersections, so mappings collide often
const TABLE_SPAN = 1n << 20n;
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
const PROTS = [
  Prot.READ,
  Prot.READ | Prot.WRITE,
  Prot.WRITE,
  Prot.READ | Prot.NOEXEC,
  Prot.READ | Prot.WRITE | Prot.CACHE,
  Prot.READ | Prot.WRITE | Prot.MMIO | Prot.NOEXEC,
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("map" as const),
      alignLg2: fc.constantFrom(12, 16, 20, 24),
      slot: fc.nat(),
      len: fc.constantFrom(...LENGTHS),
      paSlot: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
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
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("hole" as const),
      slot: fc.nat(),
      len: fc.constantFrom(...LENGTHS),
    }),
  },
);

interface Setup {
  readonly name: string;
  readonly config: Armv7sConfig;
  readonly walker: Armv7sWalkerConfig;
  readonly mem: () => PhysMem;
  /** First IOVA of the window the sequence works in. */
  readonly base: bigint;
  readonly oaBits: bigint;
  readonly seed: number;
}

const SETUPS: Setup[] = [
  { name: "default", config: {}, walker: {}, mem: () => lowMem(), base: 0n, oaBits: 32n, seed: 0x7a11 },
  {
    name: "supersections + NS",
    config: { supersections: true, ns: true },
    walker: {},
    mem: () => lowMem(),
    base: 0xf000_0000n,
    oaBits: 32n,
    seed: 0x5e5e,
  },
  {
    name: "MTK, supersections",
    config: { mtkExt: true, noPerms: true, supersections: true },
    walker: { mtkExt: true },
    mem: () => lowMem(),
    base: 0x3_0000_0000n,
    oaBits: 35n,
    seed: 0x3435,
  },
  {
    name: "MTK + TTBR_EXT, tables above 4 GiB",
    config: { mtkExt: true, ttbrExt: true, noPerms: true, supersections: true },
    walker: { mtkExt: true, ttbrExt: true },
    mem: () => new PhysMem({ base: 0x6_0000_0000n, size: 64n << 20n }),
    base: 0x1_0000_0000n,
    oaBits: 35n,
    seed: 0x6e7,
  },
];

function run(s: Setup, ops: Op[]): void {
  const pt = createPageTable(armv7s(s.config), { mem: s.mem() });
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
    const align = 1n << BigInt(op.alignLg2);
    const iova = s.base + (((BigInt(op.slot) * align) % (WINDOW - op.len + 1n)) & ~(align - 1n));
    const paSpan = (1n << s.oaBits) - op.len;
    const pa = ((op.paSlot * align) % paSpan) & ~(align - 1n);
    if (model.overlaps(iova, op.len)) {
      // Every table lies in the first 1 MiB: at most 64 KiB of L1 and 64 L2 tables of 1 KiB, lowest first.
      const before = freeze(pt, TABLE_SPAN);
      expect(() => pt.map(iova, pa, op.len, op.prot)).toThrow(/EADDRINUSE/);
      expect(freeze(pt, TABLE_SPAN)).toEqual(before);
    } else {
      pt.map(iova, pa, op.len, op.prot);
      model.add({ iova, size: op.len, pa, prot: op.prot });
    }
  } else if (op.t === "unmap") {
    if (model.list.length === 0) return;
    // From the start of one mapping to the end of up to `span` mappings after it: holes in between are skipped.
    const i = op.pick % model.list.length;
    const j = Math.min(model.list.length, i + op.span) - 1;
    const first = model.list[i]!;
    const last = model.list[j]!;
    const removed = model.list.splice(i, j - i + 1);
    const bytes = removed.reduce((a, m) => a + m.size, 0n);
    expect(pt.unmap(first.iova, last.iova + last.size - first.iova)).toBe(bytes);
  } else {
    const iova = s.base + (((BigInt(op.slot) << 12n) % (WINDOW - op.len + 1n)) & ~0xfffn);
    if (model.overlaps(iova, op.len)) return;
    // Nothing is mapped there, though an emptied L2 table wholly inside the range may be freed.
    const leaves = pt.census().leaves;
    expect(pt.unmap(iova, op.len)).toBe(0n);
    expect(pt.census().leaves).toEqual(leaves);
  }
}

/** A cheap assertion for the hot loop (expect() per probe would dominate the run). */
function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

function check(pt: PageTable<unknown>, s: Setup, model: Model): void {
  const info = pt.info();
  const walker = armv7sWalker(s.walker);
  const ctx = { root: info.root, topLevel: info.topLevel, accessDirty: false };
  const perms = !s.config.noPerms;
  for (const m of model.list) {
    for (const off of [0n, m.size / 2n + 0x7n, m.size - 1n]) {
      const iova = m.iova + off;
      const pa = m.pa + off;
      const at = `iova 0x${iova.toString(16)}`;
      same(pt.iovaToPhys(iova), pa, `iovaToPhys(${at})`);
      const r = walker.translate(pt.mem, ctx, iova, "read");
      if (!r.ok) throw new Error(`walker faulted at ${at}: ${r.detail}`);
      same(r.pa, pa, `walker pa at ${at}`);
      // The leaf the walker used lies inside the mapping, and its output is aligned to its size.
      const page = 1n << BigInt(r.pageLg2);
      const pageStart = iova & ~(page - 1n);
      same(
        pageStart >= m.iova && pageStart + page <= m.iova + m.size,
        true,
        `walker leaf inside the mapping at ${at}`,
      );
      same((pa - (iova - pageStart)) % page, 0n, `walker leaf output aligned at ${at}`);
      const canWrite = !perms || (m.prot & Prot.WRITE) !== 0;
      same(walker.translate(pt.mem, ctx, iova, "write").ok, canWrite, `walker write at ${at}`);
      const canExec = !perms || (m.prot & Prot.NOEXEC) === 0;
      same(walker.translate(pt.mem, ctx, iova, "exec").ok, canExec, `walker exec at ${at}`);
    }
  }
  // Probes across the window, one per 1M slot at an odd offset, and the byte after each mapping.
  const probes: bigint[] = [];
  for (let a = 0n; a < WINDOW; a += 0x10_0000n) probes.push(s.base + a + 0x5_4321n);
  for (const m of model.list) probes.push(m.iova + m.size + 0x10n);
  for (const iova of probes) {
    const m = model.find(iova);
    const at = `iova 0x${iova.toString(16)}`;
    const r = walker.translate(pt.mem, ctx, iova, "read");
    const pa = m ? m.pa + (iova - m.iova) : undefined;
    same(pt.iovaToPhys(iova), pa, `iovaToPhys(${at})`);
    if (pa === undefined) same(!r.ok && r.kind, "translation", `walker fault kind at ${at}`);
    else same(r.ok && r.pa, pa, `walker pa at ${at}`);
  }
}

test.each(SETUPS)(
  "walker, iovaToPhys and model agree: $name",
  (s) => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 50 }), (ops) => run(s, ops)),
      { seed: s.seed, numRuns: 40 },
    );
  },
  120_000,
);
