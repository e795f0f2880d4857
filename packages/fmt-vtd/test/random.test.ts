// Model-based random sequences: after every map, unmap, hole unmap or DMA write, three views must agree:
// the hardware walker over raw memory, pt.iovaToPhys, and an interval model (a sorted list of mappings).
import { createPageTable, type HardwareWalker, type PageTable, Prot } from "@genpt/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";
import { expectUnchanged, finish, newMem } from "./helpers.js";

interface Mapping {
  readonly iova: bigint;
  readonly size: bigint;
  readonly pa: bigint;
  readonly prot: number;
}

type Op =
  | {
      t: "map";
      region: number;
      slot: number;
      lg2: number;
      count: number;
      extra: number;
      paHigh: boolean;
      paSlot: number;
      paAlign: number;
      prot: number;
    }
  | { t: "unmap"; pick: number; span: number }
  | { t: "hole"; pick: number }
  | { t: "dirty"; pick: number; page: number };

// Low addresses, the test_mixed neighbourhood, and the top of the 39-bit space.
const REGIONS = [0n, 0x3_fe00_0000n, (1n << 39n) - (16n << 30n)];
// The three leaf sizes.
const LG2 = [12, 21, 30];
const PAGE = 0x1000n;

const cfgArb = fc.record({
  vaBits: fc.constantFrom(39 as const, 48 as const, 57 as const),
  oaBits: fc.constantFrom(40, 46, 52),
  forceCoherence: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("map" as const),
      region: fc.nat({ max: REGIONS.length - 1 }),
      slot: fc.nat({ max: 7 }),
      lg2: fc.constantFrom(...LG2),
      count: fc.integer({ min: 1, max: 3 }),
      extra: fc.nat({ max: 2 }),
      paHigh: fc.boolean(),
      paSlot: fc.integer({ min: 1, max: 64 }),
      paAlign: fc.nat({ max: 2 }),
      prot: fc.constantFrom(Prot.READ, Prot.WRITE, Prot.READ | Prot.WRITE),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("unmap" as const), pick: fc.nat(), span: fc.nat({ max: 2 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("hole" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("dirty" as const), pick: fc.nat(), page: fc.nat() }) },
);

function overlaps(model: Mapping[], iova: bigint, size: bigint): boolean {
  return model.some((m) => m.iova < iova + size && iova < m.iova + m.size);
}

/** The three-way check: walker over raw memory, iovaToPhys and the model, inside and just outside each mapping. */
function check(pt: PageTable<unknown>, model: Mapping[], hw: HardwareWalker): void {
  const info = pt.info();
  const ctx = { root: info.root, topLevel: info.topLevel, accessDirty: false };
  for (const m of model) {
    for (const off of [0n, m.size - PAGE, (m.size / 2n) & ~0xfffn]) {
      const iova = m.iova + off + 0x18n;
      const want = m.pa + off + 0x18n;
      expect(pt.iovaToPhys(iova)).toBe(want);
      const read = (m.prot & Prot.READ) !== 0;
      const write = (m.prot & Prot.WRITE) !== 0;
      expect(hw.translate(pt.mem, ctx, iova, read ? "read" : "write")).toMatchObject({
        ok: true,
        pa: want,
        read,
        write,
      });
      if (!read || !write)
        expect(hw.translate(pt.mem, ctx, iova, read ? "write" : "read")).toMatchObject({
          ok: false,
          kind: "permission",
        });
    }
    for (const iova of [m.iova - PAGE, m.iova + m.size]) {
      if (iova < 0n || overlaps(model, iova, PAGE)) continue;
      expect(pt.iovaToPhys(iova)).toBeUndefined();
      const r = hw.translate(pt.mem, ctx, iova, "read");
      expect(r.ok).toBe(false);
      expect(["translation", "address-size"]).toContain(r.ok ? "" : r.kind);
    }
  }
  expect(pt.census().mappedBytes).toBe(model.reduce((s, m) => s + m.size, 0n));
}

function apply(pt: PageTable<unknown>, model: Mapping[], op: Op, hw: HardwareWalker): void {
  switch (op.t) {
    case "map": {
      const page = 1n << BigInt(op.lg2);
      const iova = REGIONS[op.region]! + BigInt(op.slot) * page;
      const size = BigInt(op.count) * page + BigInt(op.extra) * PAGE;
      // A PA misaligned by at most 2^4 keeps big maps to a few hundred entries.
      const align = [Math.max(12, op.lg2 - 4), op.lg2, op.lg2 + 1][op.paAlign]!;
      const pa = (op.paHigh ? 1n << 38n : 0n) + (BigInt(op.paSlot) << BigInt(align));
      if (overlaps(model, iova, size)) {
        expectUnchanged(pt, () => pt.map(iova, pa, size, op.prot), "EADDRINUSE");
        return;
      }
      pt.map(iova, pa, size, op.prot);
      model.push({ iova, size, pa, prot: op.prot });
      model.sort((a, b) => (a.iova < b.iova ? -1 : 1));
      return;
    }
    case "unmap": {
      if (model.length === 0) return;
      const i = op.pick % model.length;
      const j = Math.min(model.length - 1, i + op.span);
      const start = model[i]!.iova;
      const end = model[j]!.iova + model[j]!.size;
      const removed = model.splice(i, j - i + 1);
      expect(pt.unmap(start, end - start)).toBe(removed.reduce((s, m) => s + m.size, 0n));
      return;
    }
    case "hole": {
      const m = model.length === 0 ? undefined : model[op.pick % model.length];
      const iova = m ? m.iova + m.size : 0x1000n;
      if (overlaps(model, iova, PAGE)) return;
      expect(pt.unmap(iova, PAGE)).toBe(0n);
      return;
    }
    case "dirty": {
      const writable = model.filter((m) => (m.prot & Prot.WRITE) !== 0);
      if (writable.length === 0) return;
      const m = writable[op.pick % writable.length]!;
      const off = BigInt(op.page % Number(m.size / PAGE)) * PAGE;
      const info = pt.info();
      const r = hw.translate(
        pt.mem,
        { root: info.root, topLevel: info.topLevel, accessDirty: true },
        m.iova + off,
        "write",
      );
      if (!r.ok) throw new Error(`DMA write at ${m.iova + off} faulted: ${r.detail}`);
      expect(r.pa).toBe(m.pa + off);
      // The whole entry the write went through, and nothing else, is reported; then it is clean.
      const entry = 1n << BigInt(r.pageLg2);
      const start = (m.iova + off) & ~(entry - 1n);
      expect(start >= m.iova && start + entry <= m.iova + m.size).toBe(true);
      expect(pt.readAndClearDirty(m.iova, m.size)).toEqual([{ iova: start, size: entry }]);
      expect(pt.readAndClearDirty(m.iova, m.size)).toEqual([]);
      return;
    }
  }
}

test("walker, iovaToPhys and the interval model agree on random op sequences", () => {
  fc.assert(
    fc.property(cfgArb, fc.array(opArb, { minLength: 1, maxLength: 12 }), (cfg, ops) => {
      const pt = createPageTable(vtdss(cfg), { mem: newMem() });
      const hw = vtdssWalker({ haw: cfg.oaBits });
      const model: Mapping[] = [];
      for (const op of ops) {
        apply(pt, model, op, hw);
        check(pt, model, hw);
      }
      finish(pt);
    }),
    { seed: 0x5eed_7d55, numRuns: 300 },
  );
}, 60_000);
