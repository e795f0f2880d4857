// The hardware walker on its own terms: faults, permission ANDing, NextLevel decoding (including level
// skips the software never writes), and the A/D updates of host dirty tracking (reference/formats.md §3).
import { checkLeafPermissions, finish, KiB, newMem, newTable, slotAddr, walkCtx } from "@genpt/conformance";
import { Prot, type WalkStep } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

const PR = 1n << 0n;
const A = 1n << 5n;
const D = 1n << 6n;
const NL = (n: bigint) => n << 9n;
const IR = 1n << 61n;
const IW = 1n << 62n;

const hw = amdv1Walker();

describe("faults", () => {
  test("not present: at the top of an empty table, and at the leaf level next to a page", () => {
    const pt = newTable(amdv1());
    expect(hw.translate(pt.mem, walkCtx(pt), 0x1000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 2,
    });
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    expect(hw.translate(pt.mem, walkCtx(pt), 0x2000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 0,
    });
    finish(pt);
  });

  test("permission: the leaf's IR/IW, the DTE's IR/IW, and a PDE's IR/IW are ANDed", () => {
    const pt = newTable(amdv1());
    // R at 0x1000, W at 0x2000, RW at 0x3000: the leaf's own bits.
    checkLeafPermissions(pt, hw);
    const c = walkCtx(pt);
    // DTE IR = 0 / IW = 0 deny at the device level.
    expect(amdv1Walker({ ir: false }).translate(pt.mem, c, 0x3000n, "read")).toMatchObject({
      kind: "permission",
    });
    expect(amdv1Walker({ iw: false }).translate(pt.mem, c, 0x3000n, "write")).toMatchObject({
      kind: "permission",
    });
    expect(amdv1Walker({ iw: false }).translate(pt.mem, c, 0x3000n, "read")).toMatchObject({
      ok: true,
      write: false,
    });
    // Clear IW in the level-1 PDE: a write through it faults although the leaf grants IW.
    const pde = slotAddr(pt, 0x3000n, 1);
    pt.mem.writeU64(pde, pt.mem.readU64(pde) & ~IW);
    expect(hw.translate(pt.mem, c, 0x3000n, "write")).toMatchObject({ ok: false, kind: "permission" });
    expect(hw.translate(pt.mem, c, 0x3000n, "read")).toMatchObject({ ok: true, read: true, write: false });
    pt.mem.writeU64(pde, pt.mem.readU64(pde) | IW);
    finish(pt);
  });

  test("an IOVA beyond the DTE Mode", () => {
    const pt = newTable(amdv1());
    // Mode 3 translates 39 bits.
    expect(hw.translate(pt.mem, walkCtx(pt), 1n << 39n, "read")).toMatchObject({
      ok: false,
      kind: "address-size",
    });
    pt.map(1n << 63n, 0x9000n, 4n * KiB, Prot.READ);
    // Mode 6 translates all 64 bits.
    expect(pt.info().mode).toBe(6);
    expect(hw.translate(pt.mem, walkCtx(pt), (1n << 63n) + 0x10n, "read")).toMatchObject({
      ok: true,
      pa: 0x9010n,
    });
    finish(pt);
  });
});

describe("hand-built tables", () => {
  const T3 = 0x8000_0000n; // spec level 3 (root of Mode 3)
  const T1 = 0x8000_1000n; // spec level 1
  const T2 = 0x8000_2000n; // spec level 2

  test("a PDE may skip levels when the skipped index bits are zero", () => {
    const mem = newMem();
    // Root slot 0 points straight at a level-1 table: NextLevel 1 skips level 2.
    mem.writeU64(T3, T1 | PR | NL(1n) | IR | IW);
    mem.writeU64(T1 + 5n * 8n, 0x7_7000n | PR | NL(0n) | IR);
    const steps: WalkStep[] = [];
    const ctx = { root: T3, topLevel: 2, accessDirty: false };
    expect(hw.translate(mem, ctx, 0x5123n, "read", steps)).toMatchObject({
      ok: true,
      pa: 0x7_7123n,
      level: 0,
      pageLg2: 12,
    });
    expect(steps).toEqual([
      { level: 2, table: T3 },
      { level: 0, table: T1 },
    ]);
    // IOVA bit 21 would index the skipped level 2.
    expect(hw.translate(mem, ctx, 0x20_5000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 2,
    });
  });

  test("NextLevel 7 at level 2 decodes the size from the first zero bit; NextLevel that does not go down faults", () => {
    const mem = newMem();
    mem.writeU64(T3, T2 | PR | NL(2n) | IR | IW);
    // 8M at spec level 2: bits [21:12] ones, bit 22 zero.
    mem.writeU64(T2 + 8n * 4n, 0x1_0080_0000n | 0x3f_f000n | PR | NL(7n) | IR | IW);
    const ctx = { root: T3, topLevel: 2, accessDirty: false };
    expect(hw.translate(mem, ctx, 0x87_6543n, "write")).toMatchObject({
      ok: true,
      pa: 0x1_0087_6543n,
      pageLg2: 23,
      level: 1,
    });
    mem.writeU64(T3 + 8n, T2 | PR | NL(3n) | IR | IW);
    expect(hw.translate(mem, ctx, 1n << 30n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 2,
    });
  });

  test("a level-6 entry can never translate", () => {
    const mem = newMem();
    mem.writeU64(T3, 0x1000n | PR | NL(0n) | IR | IW);
    const ctx = { root: T3, topLevel: 5, accessDirty: false };
    expect(hw.translate(mem, ctx, 0x1000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 5,
    });
  });
});

describe("host access/dirty (DTE HAD = 11b)", () => {
  test("a read sets A on the walked entries and the one indexed copy; a write adds D there only", () => {
    const pt = newTable(amdv1());
    pt.map(0x10_0000n, 0x40_0000n, 64n * KiB, Prot.READ | Prot.WRITE);
    const first = slotAddr(pt, 0x10_0000n, 0);
    const copy = (i: number) => pt.mem.readU64(first + BigInt(i) * 8n);
    const before = Array.from({ length: 16 }, (_, i) => copy(i));

    // Without HAD nothing is written.
    const hash = pt.mem.hash();
    hw.translate(pt.mem, walkCtx(pt), 0x10_3000n, "write");
    expect(pt.mem.hash()).toBe(hash);

    const r = hw.translate(pt.mem, walkCtx(pt, true), 0x10_3000n, "read");
    expect(r).toMatchObject({ ok: true, dirty: false, pteAddr: first + 3n * 8n });
    expect(copy(3)).toBe(before[3]! | A);
    expect(pt.mem.readU64(slotAddr(pt, 0x10_0000n, 1)) & A).toBe(A);
    expect(pt.mem.readU64(slotAddr(pt, 0x10_0000n, 2)) & A).toBe(A);

    const w = hw.translate(pt.mem, walkCtx(pt, true), 0x10_5000n, "write");
    expect(w).toMatchObject({ ok: true, dirty: true, pteAddr: first + 5n * 8n, pageLg2: 16 });
    for (let i = 0; i < 16; i++) {
      const expected = i === 5 ? before[i]! | A | D : i === 3 ? before[i]! | A : before[i]!;
      expect(copy(i)).toBe(expected);
    }
    finish(pt);
  });

  test("a faulting access sets nothing", () => {
    const pt = newTable(amdv1());
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    const hash = pt.mem.hash();
    expect(hw.translate(pt.mem, walkCtx(pt, true), 0x1000n, "write")).toMatchObject({
      ok: false,
      kind: "permission",
    });
    expect(pt.mem.hash()).toBe(hash);
    finish(pt);
  });

  test("steps list each table read, top first", () => {
    const pt = newTable(amdv1());
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    const steps: WalkStep[] = [];
    hw.translate(pt.mem, walkCtx(pt), 0x1000n, "read", steps);
    expect(steps.map((s) => s.level)).toEqual([2, 1, 0]);
    expect(steps[0]!.table).toBe(pt.info().root);
    expect(steps[2]!.table).toBe(slotAddr(pt, 0x1000n, 0) & ~0xfffn);
    finish(pt);
  });
});
