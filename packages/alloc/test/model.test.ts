// Model-based test: long seeded random sequences of alloc/free/list/RCU operations checked against a
// plain Map model. Live tables never overlap, keep their content, are aligned and zeroed, and the
// accounting matches; after freeing everything assertNoLeaks passes. fast-check prints the seed on failure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem } from "../src/index.js";

type Op =
  | { kind: "alloc"; lg2: number; below4G: boolean; owner: number }
  | { kind: "free"; i: number }
  | { kind: "listFree"; n: number; rcu: boolean }
  | { kind: "quiescent" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("alloc" as const),
      lg2: fc.oneof(fc.integer({ min: 6, max: 12 }), fc.integer({ min: 6, max: 20 })),
      below4G: fc.boolean(),
      owner: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), i: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("listFree" as const),
      n: fc.integer({ min: 1, max: 6 }),
      rcu: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "quiescent" as const }) },
);

function check(debug: boolean, base: bigint, ops: Op[]): void {
  const mem = new PhysMem({ base, size: 8n << 20n });
  const a = new LevelAllocator(mem, { debug });
  const live = new Map<number, { lg2: number; tag: number; owner: number }>(); // freeable now
  const pending = new Map<number, { lg2: number; tag: number; owner: number }>(); // queued for RCU
  let tagSeq = 1;

  const overlaps = (pa: number, bytes: number): boolean => {
    for (const m of [live, pending]) {
      for (const [q, t] of m) if (pa < q + 2 ** t.lg2 && q < pa + bytes) return true;
    }
    return false;
  };

  for (const op of ops) {
    if (op.kind === "alloc") {
      const bytes = 2 ** op.lg2;
      let pa: number;
      try {
        pa = a.alloc(op.lg2, { below4G: op.below4G, owner: op.owner });
      } catch (e) {
        expect((e as { code?: string }).code).toBe("ENOMEM");
        continue;
      }
      expect(pa % bytes).toBe(0);
      expect(mem.contains(pa, bytes)).toBe(true);
      if (op.below4G) expect(pa + bytes).toBeLessThanOrEqual(2 ** 32);
      expect(overlaps(pa, bytes)).toBe(false);
      // Zeroed: check a spread of words (every word for small tables).
      const step = Math.max(4, bytes / 64);
      for (let off = 0; off < bytes; off += step) expect(mem.read32(pa + off)).toBe(0);
      const tag = tagSeq++;
      mem.write32(pa, tag);
      mem.write32(pa + bytes - 4, tag);
      live.set(pa, { lg2: op.lg2, tag, owner: op.owner });
    } else if (op.kind === "free") {
      if (live.size === 0) continue;
      const pa = [...live.keys()][op.i % live.size]!;
      a.free(pa);
      live.delete(pa);
      expect(a.isLive(pa)).toBe(false);
    } else if (op.kind === "listFree") {
      const list = a.newList();
      const picked = [...live.keys()].slice(0, op.n);
      for (const pa of picked) list.add(pa);
      expect(list.count).toBe(picked.length);
      if (op.rcu) {
        a.freeListRcu(list);
        for (const pa of picked) {
          pending.set(pa, live.get(pa)!);
          live.delete(pa);
        }
      } else {
        a.freeList(list);
        for (const pa of picked) live.delete(pa);
      }
      expect(list.count).toBe(0);
    } else {
      a.rcu.quiescent();
      for (const pa of pending.keys()) expect(a.isLive(pa)).toBe(false);
      pending.clear();
    }
    // Accounting and content agree with the model after every step.
    const st = a.stats();
    const all = [...live.values(), ...pending.values()];
    expect(st.liveTables).toBe(all.length);
    expect(st.liveBytes).toBe(all.reduce((s, t) => s + 2 ** t.lg2, 0));
    expect(st.rcuPending).toBe(pending.size);
    expect(st.highWaterBytes).toBeGreaterThanOrEqual(st.liveBytes);
    const bySize: Record<number, number> = {};
    for (const t of all) bySize[t.lg2] = (bySize[t.lg2] ?? 0) + 1;
    expect(st.bySize).toEqual(bySize);
    for (const m of [live, pending]) {
      for (const [pa, t] of m) {
        expect(mem.read32(pa)).toBe(t.tag);
        expect(mem.read32(pa + 2 ** t.lg2 - 4)).toBe(t.tag);
        expect(a.sizeLg2Of(pa)).toBe(t.lg2);
        expect(a.ownerOf(pa)).toBe(t.owner);
      }
    }
  }

  for (const pa of live.keys()) a.free(pa);
  a.rcu.synchronize();
  a.assertNoLeaks();
  expect(a.stats()).toMatchObject({ liveTables: 0, liveBytes: 0, frames: 0, rcuPending: 0, bySize: {} });
  // Everything merged back: the space takes 1 MiB tables again.
  const whole: number[] = [];
  for (let i = 0; i < 8; i++) whole.push(a.alloc(20));
  expect(new Set(whole).size).toBe(8);
}

describe("random alloc/free against a model", () => {
  it("plain mode, space under 4 GiB", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 50, maxLength: 300 }), (ops) =>
        check(false, 0x8000_0000n, ops),
      ),
      { seed: 1337, numRuns: 25 },
    );
  }, 60_000);

  it("debug mode, space straddling 4 GiB (below4G matters)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 50, maxLength: 300 }), (ops) =>
        check(true, 0xffc0_0000n, ops),
      ),
      { seed: 4242, numRuns: 25 },
    );
  }, 60_000);

  it("one long sequence", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1500, maxLength: 1500 }), (ops) => check(false, 0n, ops)),
      { seed: 99, numRuns: 1 },
    );
  }, 60_000);
});
