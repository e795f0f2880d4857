// LevelAllocator basics: sizes, alignment, zeroing, sub-page frames, bad input, ENOMEM, below4G,
// fault injection, debug poisoning, the shared allocator and leak checks.
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem } from "../src/index.js";
import { expectPtError, expectUnchanged } from "./helpers.js";

function setup(size = 16n << 20n, opts?: { debug?: boolean; base?: bigint }) {
  const mem = new PhysMem({ base: opts?.base ?? 0x8000_0000n, size });
  const a = new LevelAllocator(mem, { debug: opts?.debug ?? false });
  return { mem, a };
}

function allZero(mem: PhysMem, pa: number, bytes: number): boolean {
  for (let p = pa; p < pa + bytes; p += 4) if (mem.read32(p) !== 0) return false;
  return true;
}

describe("alignment and zeroing", () => {
  for (const debug of [false, true]) {
    it(`every size 2^6..2^20 is aligned, in range and zeroed (debug=${debug})`, () => {
      const { mem, a } = setup(16n << 20n, { debug });
      const live: number[] = [];
      for (let lg2 = 6; lg2 <= 20; lg2++) {
        for (let k = 0; k < 3; k++) {
          const pa = a.alloc(lg2);
          expect(pa % 2 ** lg2).toBe(0);
          expect(mem.contains(pa, 2 ** lg2)).toBe(true);
          expect(allZero(mem, pa, 2 ** lg2)).toBe(true);
          expect(a.sizeLg2Of(pa)).toBe(lg2);
          // Dirty it, free it, and check the next table of that size is zero again.
          mem.fill32(pa, 2 ** lg2, 0x1234_5678);
          a.free(pa);
          const again = a.alloc(lg2);
          expect(allZero(mem, again, 2 ** lg2)).toBe(true);
          mem.write32(again, 0xffff_ffff);
          live.push(again);
        }
      }
      expect(a.stats().liveTables).toBe(live.length);
      for (const pa of live) a.free(pa);
      a.assertNoLeaks();
      expect(a.stats().liveBytes).toBe(0);
    });
  }

  it("zero-fills freed memory, or poisons it with 0xDEADBEEF in debug mode", () => {
    const plain = setup();
    const p = plain.a.alloc(12);
    plain.mem.fill32(p, 4096, 7);
    plain.a.free(p);
    expect(allZero(plain.mem, p, 4096)).toBe(true);

    const dbg = setup(16n << 20n, { debug: true });
    const q = dbg.a.alloc(10);
    dbg.mem.write32(q, 7);
    dbg.a.free(q);
    for (let i = 0; i < 1024; i += 4) expect(dbg.mem.read32(q + i)).toBe(0xdead_beef);
    expect(dbg.mem.readU64(BigInt(q))).toBe(0xdead_beef_dead_beefn);
  });

  it("hands out low addresses first and never overlaps", () => {
    const { mem, a } = setup(1n << 20n);
    const x = a.alloc(12);
    const y = a.alloc(12);
    const z = a.alloc(16);
    expect(x).toBe(mem.baseNum);
    expect(y).toBe(mem.baseNum + 0x1000);
    expect(z).toBe(mem.baseNum + 0x10000);
  });
});

describe("sub-page tables", () => {
  it("four 1 KiB tables share one 4 KiB frame, which goes back when all are free", () => {
    const { a } = setup();
    const base = a.stats().frames;
    const t = [a.alloc(10), a.alloc(10), a.alloc(10), a.alloc(10)];
    const frame = Math.floor(t[0]! / 4096);
    for (const pa of t) expect(Math.floor(pa / 4096)).toBe(frame);
    expect(new Set(t).size).toBe(4);
    expect(a.stats().frames).toBe(base + 1);
    expect(a.stats().bySize).toEqual({ 10: 4 });
    a.free(t[0]!);
    a.free(t[1]!);
    a.free(t[2]!);
    expect(a.stats().frames).toBe(base + 1); // one piece still live
    a.free(t[3]!);
    expect(a.stats().frames).toBe(base);
    // The frame really is whole again: a 4 KiB table can take it.
    expect(a.alloc(12)).toBe(frame * 4096);
  });

  it("mixed sub-page sizes pack into frames", () => {
    const { a } = setup();
    const pieces = [a.alloc(11), a.alloc(10), a.alloc(9), a.alloc(8), a.alloc(7), a.alloc(6), a.alloc(6)];
    const frames = new Set(pieces.map((pa) => Math.floor(pa / 4096)));
    expect(frames.size).toBe(1); // 2048+1024+512+256+128+64+64 = 4096
    expect(a.stats().frames).toBe(1);
    expect(a.stats().liveBytes).toBe(4096);
    const next = a.alloc(6);
    expect(Math.floor(next / 4096)).not.toBe([...frames][0]);
    expect(a.stats().frames).toBe(2);
    for (const pa of [...pieces, next]) a.free(pa);
    expect(a.stats().frames).toBe(0);
    a.assertNoLeaks();
  });
});

describe("accounting", () => {
  it("tracks live tables, bytes by size, the high-water mark and cumulative counters", () => {
    const { a } = setup();
    const x = a.alloc(12);
    const y = a.alloc(16);
    const z = a.alloc(6, { owner: 3 });
    expect(a.stats()).toEqual({
      liveTables: 3,
      liveBytes: 4096 + 65536 + 64,
      bySize: { 6: 1, 12: 1, 16: 1 },
      highWaterBytes: 4096 + 65536 + 64,
      frames: 3,
      allocs: 3,
      frees: 0,
      rcuPending: 0,
    });
    expect(a.ownerOf(z)).toBe(3);
    expect(a.ownerOf(x)).toBe(0);
    a.free(y);
    a.free(x);
    expect(a.stats()).toMatchObject({ liveTables: 1, liveBytes: 64, bySize: { 6: 1 }, frees: 2 });
    expect(a.stats().highWaterBytes).toBe(4096 + 65536 + 64);
    expect(() => a.assertNoLeaks()).toThrow(/1 live table.*0x[0-9a-f]+ \(2\^6 B, owner 3\)/);
    expect(() => a.assertNoLeaks(3)).toThrow(/owner 3/);
    a.assertNoLeaks(0);
    a.free(z);
    a.assertNoLeaks();
    a.assertNoLeaks(3);
    expect(a.allocCount()).toBe(3);
  });

  it("lists at most ten leaked tables", () => {
    const { a } = setup();
    for (let i = 0; i < 25; i++) a.alloc(12, { owner: 9 });
    let msg = "";
    try {
      a.assertNoLeaks(9);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^leak: 25 live table/);
    expect(msg.match(/2\^12 B/g)).toHaveLength(10);
    expect(msg).toMatch(/and 15 more/);
  });
});

describe("bad input changes nothing", () => {
  it("double free, a never-allocated address, a table interior and junk are EINVAL", () => {
    const { mem, a } = setup();
    const x = a.alloc(12);
    const y = a.alloc(10);
    mem.write32(x, 5);
    a.free(y);
    expectUnchanged(a, () => a.free(y), "EINVAL", new RegExp(`free\\(0x${y.toString(16)}\\)`));
    expectUnchanged(a, () => a.free(x + 64), "EINVAL", /no live table/);
    expectUnchanged(a, () => a.free(mem.baseNum + (8 << 20)), "EINVAL", /0x80800000/);
    expectUnchanged(a, () => a.free(0), "EINVAL");
    expectUnchanged(a, () => a.free(x + 0.5), "EINVAL");
    expectUnchanged(a, () => a.free(Number.NaN), "EINVAL");
    expectUnchanged(a, () => a.sizeLg2Of(y), "EINVAL");
    expectUnchanged(a, () => a.ownerOf(y), "EINVAL");
    expect(a.isLive(x)).toBe(true);
    expect(a.isLive(y)).toBe(false);
    expect(a.isLive(x + 64)).toBe(false);
    expect(a.isLive(-1)).toBe(false);
    expect(mem.read32(x)).toBe(5);
  });

  it("sizes that are not integers or out of range are EINVAL", () => {
    const { a } = setup();
    a.alloc(12);
    for (const bad of [5, 21, 12.5, -1, Number.NaN, 4096]) {
      expectUnchanged(a, () => a.alloc(bad), "EINVAL", /sizeLg2/);
    }
    expectUnchanged(a, () => a.alloc(12, { owner: 1.5 }), "EINVAL", /owner/);
    expectUnchanged(a, () => a.alloc(12, { owner: 2 ** 40 }), "EINVAL", /owner/);
    const narrow = new LevelAllocator(new PhysMem({ size: 1n << 20n }), { minLg2: 10, maxLg2: 14 });
    expectPtError(() => narrow.alloc(9), "EINVAL", /\[10, 14\]/);
    expectPtError(() => narrow.alloc(15), "EINVAL");
    expect(narrow.alloc(14) % 16384).toBe(0);
  });

  it("bad allocator options are EINVAL", () => {
    const mem = () => new PhysMem({ size: 1n << 20n });
    expectPtError(() => new LevelAllocator(mem(), { minLg2: 5 }), "EINVAL", /minLg2/);
    expectPtError(() => new LevelAllocator(mem(), { maxLg2: 21 }), "EINVAL", /maxLg2/);
    expectPtError(() => new LevelAllocator(mem(), { minLg2: 12, maxLg2: 10 }), "EINVAL", /maxLg2/);
    expectPtError(() => new LevelAllocator(mem(), { minLg2: 6.5 }), "EINVAL");
    expectPtError(() => new LevelAllocator({} as PhysMem), "EINVAL", /PhysMem/);
  });

  it("running out of space is ENOMEM naming the size and the space", () => {
    const { mem, a } = setup(64n << 10n);
    const tables: number[] = [];
    for (let i = 0; i < 16; i++) tables.push(a.alloc(12));
    mem.write32(tables[3]!, 9);
    expectUnchanged(a, () => a.alloc(12), "ENOMEM", /2\^12-byte.*\[0x80000000, 0x80010000\)/);
    expectUnchanged(a, () => a.alloc(6), "ENOMEM", /out of memory/);
    expectUnchanged(a, () => a.alloc(17), "ENOMEM", /larger than physical memory/);
    // Freed memory is reusable at any size: 16 x 4 KiB freed make one 64 KiB table.
    for (const pa of tables) a.free(pa);
    expect(a.alloc(16)).toBe(mem.baseNum);
    expectUnchanged(a, () => a.alloc(6), "ENOMEM");
  });

  it("a pinned frame keeps the other half of the space usable, but not the whole", () => {
    const { a } = setup(64n << 10n);
    for (let i = 0; i < 16; i++) a.alloc(6); // packed into one frame
    expect(a.stats().frames).toBe(1);
    expectUnchanged(a, () => a.alloc(16), "ENOMEM");
    const big = a.alloc(15);
    expectUnchanged(a, () => a.alloc(15), "ENOMEM");
    a.free(big);
    expect(a.alloc(15)).toBe(big);
  });
});

describe("below4G", () => {
  it("is trivially met when the space ends under 4 GiB", () => {
    const { a } = setup();
    const pa = a.alloc(14, { below4G: true });
    expect(pa + 16384).toBeLessThanOrEqual(2 ** 32);
  });

  it("picks memory under 4 GiB in a space that straddles it", () => {
    const mem = new PhysMem({ base: 0xffff_0000n, size: 1n << 32n });
    const a = new LevelAllocator(mem);
    const low = a.alloc(14, { below4G: true });
    expect(low + 16384).toBeLessThanOrEqual(2 ** 32);
    const high = a.alloc(20);
    expect(high).toBeGreaterThanOrEqual(2 ** 32);
    const more = [
      a.alloc(14, { below4G: true }),
      a.alloc(14, { below4G: true }),
      a.alloc(14, { below4G: true }),
    ];
    for (const pa of more) expect(pa + 16384).toBeLessThanOrEqual(2 ** 32);
    // The 64 KiB under 4 GiB are used up: 4 x 16 KiB.
    expectUnchanged(a, () => a.alloc(14, { below4G: true }), "ENOMEM", /below 4 GiB/);
    expect(a.alloc(14)).toBeGreaterThanOrEqual(2 ** 32);
    a.free(more[1]!);
    expect(a.alloc(12, { below4G: true })).toBe(more[1]!);
  });

  it("is ENOMEM naming the 4 GiB constraint when the space starts above 4 GiB", () => {
    const mem = new PhysMem({ base: 1n << 32n, size: 1n << 24n });
    const a = new LevelAllocator(mem);
    a.alloc(12);
    expectUnchanged(a, () => a.alloc(10, { below4G: true }), "ENOMEM", /4 GiB/);
  });
});

describe("limit", () => {
  it("keeps every table ending at or below an arbitrary address, and names it when it cannot", () => {
    // 64 KiB below 2^35, the rest above: room for exactly four 16 KiB tables under the limit.
    const mem = new PhysMem({ base: (1n << 35n) - 0x1_0000n, size: 1n << 20n });
    const a = new LevelAllocator(mem);
    const under = [0, 1, 2, 3].map(() => a.alloc(14, { limit: 2 ** 35 }));
    for (const pa of under) expect(pa + 16384).toBeLessThanOrEqual(2 ** 35);
    expectUnchanged(a, () => a.alloc(14, { limit: 2 ** 35 }), "ENOMEM", /below 0x800000000 \(2\^35\)/);
    expect(a.alloc(14)).toBeGreaterThanOrEqual(2 ** 35);
  });

  it("takes the lower of limit and below4G, and rejects a limit that is not a positive address", () => {
    const mem = new PhysMem({ base: 0xffff_0000n, size: 1n << 32n });
    const a = new LevelAllocator(mem);
    expect(a.alloc(14, { below4G: true, limit: 2 ** 40 }) + 16384).toBeLessThanOrEqual(2 ** 32);
    expectUnchanged(a, () => a.alloc(12, { limit: 0 }), "EINVAL", /limit 0 must be a positive address/);
  });
});

describe("fault injection", () => {
  it("fails exactly the n-th allocation from now, once, with consistent accounting", () => {
    const { mem, a } = setup();
    a.alloc(12);
    expect(a.allocCount()).toBe(1);
    a.failAt(3);
    const x = a.alloc(12);
    const y = a.alloc(10);
    const before = a.stats();
    const hash = mem.hash();
    expectPtError(() => a.alloc(12), "ENOMEM", /injected/);
    expect(a.stats()).toEqual(before);
    expect(mem.hash()).toBe(hash);
    expect(a.allocCount()).toBe(4);
    const z = a.alloc(12); // fires once only
    expect(a.stats().allocs).toBe(4);
    for (const pa of [x, y, z]) a.free(pa);
    expect(a.stats().liveTables).toBe(1);
  });

  it("can be disabled and rejects a bad n", () => {
    const { a } = setup();
    a.failAt(1);
    a.failAt(undefined);
    expect(a.alloc(12)).toBeGreaterThan(0);
    expectPtError(() => a.failAt(0), "EINVAL");
    expectPtError(() => a.failAt(1.5), "EINVAL");
  });
});

describe("one allocator per PhysMem", () => {
  it("LevelAllocator.for shares it and refuses a second or conflicting one", () => {
    const mem = new PhysMem({ size: 1n << 20n });
    const a = LevelAllocator.for(mem, { debug: true });
    expect(LevelAllocator.for(mem)).toBe(a);
    expect(LevelAllocator.for(mem, { debug: true })).toBe(a);
    expect(a.mem).toBe(mem);
    expectPtError(() => LevelAllocator.for(mem, { debug: false }), "EINVAL", /other options/);
    expectPtError(() => new LevelAllocator(mem), "EINVAL", /already has an allocator/);
    const mem2 = new PhysMem({ size: 1n << 20n });
    const b = new LevelAllocator(mem2);
    expect(LevelAllocator.for(mem2)).toBe(b);
    expect(b).not.toBe(a);
  });
});

describe("small and odd spaces", () => {
  it("a 1 TiB space stays lazy: metadata and memory grow only with what is handed out", () => {
    const mem = new PhysMem({ size: 1n << 40n });
    const a = new LevelAllocator(mem);
    const ts = [a.alloc(20), a.alloc(12), a.alloc(10), a.alloc(16)];
    for (const pa of ts) mem.write32(pa, 1);
    expect(mem.touchedChunks()).toBeLessThanOrEqual(2);
    expect(Math.max(...ts)).toBeLessThan(4 << 20);
    const h = mem.hash();
    for (const pa of ts) a.free(pa);
    expect(mem.hash()).not.toBe(h);
    expect(mem.hash()).toBe(new PhysMem({ size: 1n << 40n }).hash());
    a.assertNoLeaks();
  });

  it("a 4 KiB space holds one 4 KiB table or 64 pieces of 64 B", () => {
    const mem = new PhysMem({ base: 0x7000n, size: 4096n });
    const a = new LevelAllocator(mem);
    const t = a.alloc(12);
    expect(t).toBe(0x7000);
    expectPtError(() => a.alloc(6), "ENOMEM");
    a.free(t);
    const pieces = Array.from({ length: 64 }, () => a.alloc(6));
    expect(new Set(pieces).size).toBe(64);
    expectPtError(() => a.alloc(6), "ENOMEM");
    for (const p of pieces) a.free(p);
    expect(a.alloc(12)).toBe(0x7000);
  });

  it("a base that is only 4 KiB aligned still gives naturally aligned tables", () => {
    const mem = new PhysMem({ base: 0x1000n, size: 1n << 21n });
    const a = new LevelAllocator(mem);
    const big = a.alloc(20);
    expect(big % (1 << 20)).toBe(0);
    expect(mem.contains(big, 1 << 20)).toBe(true);
    const all = [big];
    for (;;) {
      try {
        all.push(a.alloc(12));
      } catch {
        break;
      }
    }
    // 2 MiB space minus the 1 MiB table = 256 pages.
    expect(all.length).toBe(1 + 256);
    for (const pa of all) a.free(pa);
    a.assertNoLeaks();
    expect(a.alloc(20)).toBe(big);
  });
});
