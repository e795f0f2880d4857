// checkpoint/rollback/commit: a rolled-back transaction leaves memory, stats() and future addresses
// exactly as if it never happened, in plain and debug mode, nested or not.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem } from "../src/index.js";
import { expectPtError } from "./helpers.js";

type Setup = { mem: PhysMem; a: LevelAllocator; keep: number[] };

// Same history on a fresh pair: some live tables with content, some freed (poisoned in debug mode).
function make(debug: boolean): Setup {
  const mem = new PhysMem({ base: 0x4000_0000n, size: 8n << 20n });
  const a = new LevelAllocator(mem, { debug });
  const keep: number[] = [];
  const tmp: number[] = [];
  for (const lg2 of [12, 10, 16, 6, 12, 14, 9]) {
    const pa = a.alloc(lg2);
    mem.write32(pa, 0xc0de_0000 + lg2);
    keep.push(pa);
    tmp.push(a.alloc(lg2));
  }
  for (const pa of tmp) {
    mem.write32(pa, 0xbad);
    a.free(pa);
  }
  a.startIncoherent(keep[0]!);
  return { mem, a, keep };
}

const SIZES = [12, 10, 6, 16, 20, 12, 11, 14, 9, 12];

function scribble(mem: PhysMem, pa: number, lg2: number, salt: number): void {
  const bytes = 2 ** lg2;
  for (let off = 0; off < bytes; off += Math.max(4, bytes / 16)) mem.write32(pa + off, salt ^ off);
}

describe("rollback", () => {
  for (const debug of [false, true]) {
    it(`restores hash, stats and future addresses after mixed work (debug=${debug})`, () => {
      const s = make(debug);
      const control = make(debug);
      const hash = s.mem.hash();
      const stats = s.a.stats();
      expect(control.mem.hash()).toBe(hash);

      const t = s.a.checkpoint();
      const got: number[] = [];
      SIZES.forEach((lg2, i) => {
        const pa = s.a.alloc(lg2, { owner: 5 });
        scribble(s.mem, pa, lg2, i + 1);
        got.push(pa);
      });
      // Also: free a pre-existing table, put new ones on lists, flag them, free one of the new ones.
      s.a.free(s.keep[3]!);
      const list = s.a.newList();
      list.add(got[0]!);
      list.add(got[1]!);
      s.a.startIncoherentList(list);
      s.a.setStillFlushing(got[2]!);
      s.a.stopIncoherent(s.keep[0]!);
      s.a.free(got[5]!);
      const l2 = s.a.newList();
      l2.add(got[3]!);
      list.splice(l2);
      expect(s.a.stats()).not.toEqual(stats);
      s.a.rollback(t);

      expect(s.mem.hash()).toBe(hash);
      expect(s.a.stats()).toEqual(stats);
      expect(s.a.isLive(s.keep[3]!)).toBe(true);
      expect(s.mem.read32(s.keep[3]!)).toBe(0xc0de_0006);
      expect(s.a.isIncoherent(s.keep[0]!)).toBe(true);
      for (const pa of got) {
        expect(s.a.isIncoherent(pa)).toBe(false);
        expect(s.a.isStillFlushing(pa)).toBe(false);
      }
      expect(list.isEmpty()).toBe(true);
      expect(l2.isEmpty()).toBe(true);
      // Next allocations: the same addresses as in the transaction and as an allocator that never ran it.
      const again = SIZES.map((lg2) => s.a.alloc(lg2));
      const fresh = SIZES.map((lg2) => control.a.alloc(lg2));
      expect(again).toEqual(got);
      expect(fresh).toEqual(got);
      expect(s.mem.hash()).toBe(control.mem.hash());
      expect(s.a.stats()).toEqual(control.a.stats());
    });
  }

  it("undoes a transaction that hit ENOMEM from failAt, as the core's map would", () => {
    const s = make(false);
    const hash = s.mem.hash();
    const stats = s.a.stats();
    s.a.failAt(3);
    const t = s.a.checkpoint();
    const a1 = s.a.alloc(12);
    s.mem.write32(a1, 0x1003);
    s.a.alloc(12);
    expectPtError(() => s.a.alloc(12), "ENOMEM", /injected/);
    s.a.rollback(t);
    expect(s.a.stats()).toEqual(stats);
    expect(s.mem.hash()).toBe(hash);
    expect(s.a.alloc(12)).toBe(a1);
  });

  it("nests: an inner rollback keeps the outer work, an outer rollback undoes committed inner work", () => {
    for (const debug of [false, true]) {
      const s = make(debug);
      const h0 = s.mem.hash();
      const st0 = s.a.stats();
      const outer = s.a.checkpoint();
      const x = s.a.alloc(12);
      s.mem.write32(x, 1);
      const h1 = s.mem.hash();
      const st1 = s.a.stats();
      const inner = s.a.checkpoint();
      expect(inner).toBe(outer + 1);
      const y = s.a.alloc(10);
      s.mem.write32(y, 2);
      s.a.free(x);
      expectPtError(() => s.a.rollback(outer), "EINVAL", /innermost/);
      expectPtError(() => s.a.commit(outer), "EINVAL", /innermost/);
      s.a.rollback(inner);
      expect(s.mem.hash()).toBe(h1);
      expect(s.a.stats()).toEqual(st1);
      expect(s.a.isLive(x)).toBe(true);
      const inner2 = s.a.checkpoint();
      const z = s.a.alloc(16);
      s.mem.write32(z, 3);
      s.a.commit(inner2);
      expect(s.a.isLive(z)).toBe(true);
      s.a.rollback(outer);
      expect(s.mem.hash()).toBe(h0);
      expect(s.a.stats()).toEqual(st0);
      expect(s.a.isLive(x)).toBe(false);
      expect(s.a.isLive(z)).toBe(false);
      expectPtError(() => s.a.rollback(outer), "EINVAL");
    }
  });

  it("commit keeps the allocations and later work is not undone", () => {
    const s = make(false);
    const t = s.a.checkpoint();
    const x = s.a.alloc(12);
    s.a.commit(t);
    expect(s.a.isLive(x)).toBe(true);
    expectPtError(() => s.a.commit(t), "EINVAL");
    const t2 = s.a.checkpoint();
    expect(t2).toBe(1);
    s.a.rollback(t2);
    expect(s.a.isLive(x)).toBe(true);
  });

  it("cancels an RCU free queued inside the transaction", () => {
    const s = make(true);
    const hash = s.mem.hash();
    const stats = s.a.stats();
    const list = s.a.newList();
    list.add(s.keep[1]!);
    const t = s.a.checkpoint();
    const n = s.a.alloc(12);
    list.add(n);
    s.a.freeListRcu(list);
    expect(s.a.rcu.pending()).toBe(1);
    // A grace period ending inside the transaction defers the free rather than doing it.
    expect(s.a.rcu.quiescent()).toBe(1);
    expect(s.a.isLive(n)).toBe(true);
    s.a.rollback(t);
    expect(s.a.rcu.pending()).toBe(0);
    expect([...list]).toEqual([s.keep[1]]);
    expect(s.a.stats()).toEqual(stats);
    expect(s.mem.hash()).toBe(hash);
    s.a.freeList(list);
    expect(s.a.isLive(s.keep[1]!)).toBe(false);
  });

  it("random transactions roll back exactly (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("alloc" as const), lg2: fc.integer({ min: 6, max: 18 }), v: fc.nat() }),
      fc.record({ kind: fc.constant("free" as const), i: fc.nat() }),
    );
    let replayed = 0;
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(op, { maxLength: 30 }),
        fc.array(op, { maxLength: 30 }),
        (debug, pre, tx) => {
          const mem = new PhysMem({ size: 1n << 20n }); // small, so ENOMEM and re-merging happen too
          const a = new LevelAllocator(mem, { debug });
          const live: number[] = [];
          const run = (ops: typeof pre) => {
            for (const o of ops) {
              if (o.kind === "alloc") {
                try {
                  const pa = a.alloc(o.lg2);
                  mem.write32(pa, o.v);
                  live.push(pa);
                } catch {
                  // ENOMEM is fine here
                }
              } else if (live.length > 0) {
                a.free(live.splice(o.i % live.length, 1)[0]!);
              }
            }
          };
          run(pre);
          const hash = mem.hash();
          const stats = a.stats();
          const snapshotLive = [...live];
          const t = a.checkpoint();
          const firstLive = live.length;
          run(tx);
          const made = live.slice(firstLive);
          a.rollback(t);
          expect(mem.hash()).toBe(hash);
          expect(a.stats()).toEqual(stats);
          for (const pa of snapshotLive) expect(a.isLive(pa)).toBe(true);
          // If the transaction only allocated, and every allocation succeeded, replaying its first few
          // allocations now gives the same addresses.
          const allocOps = tx.flatMap((o) => (o.kind === "alloc" ? [o.lg2] : []));
          if (allocOps.length === tx.length && made.length === allocOps.length) {
            const again = allocOps.slice(0, 3).map((lg2) => a.alloc(lg2));
            expect(again).toEqual(made.slice(0, 3));
            replayed++;
          }
        },
      ),
      { seed: 20261121, numRuns: 120 },
    );
    expect(replayed).toBeGreaterThan(0);
  });
});
