// The hardware walker on its own terms: presence without a present bit, R/W ANDing, reserved-bit and
// address-width faults, and SSAD's A/D updates (reference/formats.md §4.2, §4.4, §4.5).
import { checkLeafPermissions, finish, GiB, KiB, MiB, newTable, slotAddr, walkCtx } from "@genpt/conformance";
import { type PageTable, Prot, type WalkStep } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { vtdss, vtdssWalker } from "../src/index.js";

const W = 1n << 1n;
const PS = 1n << 7n;
const A = 1n << 8n;
const D = 1n << 9n;
const SNP = 1n << 11n;
const TM = 1n << 62n;

const hw = vtdssWalker();

/** Sets `bits` in the raw slot translating `iova` at `level`, as a stray write or a buggy driver would. */
function poke(pt: PageTable<unknown>, iova: bigint, level: number, bits: bigint): void {
  const at = slotAddr(pt, iova, level);
  pt.mem.writeU64(at, pt.mem.readU64(at) | bits);
}

describe("presence and permission", () => {
  test("not present: an empty top slot, and a leaf slot holding only D (no R, no W)", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    expect(hw.translate(pt.mem, walkCtx(pt), 0x1000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 3,
    });
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    pt.mem.writeU64(slotAddr(pt, 0x2000n, 0), 0xa000n | D);
    expect(hw.translate(pt.mem, walkCtx(pt), 0x2000n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
      level: 0,
    });
    pt.mem.writeU64(slotAddr(pt, 0x2000n, 0), 0n);
    finish(pt);
  });

  test("R and W are ANDed down the path", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    // R at 0x1000, W at 0x2000, RW at 0x3000: the leaf's own bits.
    checkLeafPermissions(pt, hw);
    const c = walkCtx(pt);
    // Drop W from the SS-PDE: writes below it fault there although the leaf grants W.
    const pde = slotAddr(pt, 0x3000n, 1);
    pt.mem.writeU64(pde, pt.mem.readU64(pde) & ~W);
    expect(hw.translate(pt.mem, c, 0x3000n, "write")).toMatchObject({
      ok: false,
      kind: "permission",
      level: 1,
    });
    expect(hw.translate(pt.mem, c, 0x3000n, "read")).toMatchObject({ ok: true, read: true, write: false });
    pt.mem.writeU64(pde, pt.mem.readU64(pde) | W);
    finish(pt);
  });

  test("an IOVA beyond the address width", () => {
    const pt = newTable(vtdss({ vaBits: 39 }));
    pt.map((1n << 39n) - 0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    expect(hw.translate(pt.mem, walkCtx(pt), (1n << 39n) - 0x1000n, "read")).toMatchObject({
      ok: true,
      pa: 0x9000n,
    });
    expect(hw.translate(pt.mem, walkCtx(pt), 1n << 39n, "read")).toMatchObject({
      ok: false,
      kind: "address-size",
    });
    finish(pt);
  });
});

describe("reserved bits (§4.5)", () => {
  function fresh() {
    const pt = newTable(vtdss({ vaBits: 48 }));
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ | Prot.WRITE);
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, Prot.READ | Prot.WRITE);
    pt.map(GiB, 2n * GiB, GiB, Prot.READ | Prot.WRITE);
    return pt;
  }

  const cases: Array<{
    name: string;
    iova: bigint;
    level: number;
    bits: bigint;
    walker?: ReturnType<typeof vtdssWalker>;
  }> = [
    { name: "TM (bit 62) in a 4K leaf", iova: 0x1000n, level: 0, bits: TM },
    { name: "SNP (bit 11) in an SS-PDE table entry", iova: 0x1000n, level: 1, bits: SNP },
    { name: "PS (bit 7) in an SS-PML4E", iova: 0x1000n, level: 3, bits: PS },
    { name: "address bit 12 of a 2M page", iova: 0x20_0000n, level: 1, bits: 1n << 12n },
    { name: "address bit 29 of a 1G page", iova: GiB, level: 2, bits: 1n << 29n },
    {
      name: "address bit 40 with HAW 40",
      iova: 0x1000n,
      level: 0,
      bits: 1n << 40n,
      walker: vtdssWalker({ haw: 40 }),
    },
    {
      name: "SNP in a leaf outside scalable mode",
      iova: 0x1000n,
      level: 0,
      bits: SNP,
      walker: vtdssWalker({ scalable: false }),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const pt = fresh();
      const walker = c.walker ?? hw;
      expect(walker.translate(pt.mem, walkCtx(pt), c.iova, "read")).toMatchObject({ ok: true });
      poke(pt, c.iova, c.level, c.bits);
      expect(walker.translate(pt.mem, walkCtx(pt), c.iova, "read")).toMatchObject({
        ok: false,
        kind: "reserved",
        level: c.level,
      });
      const at = slotAddr(pt, c.iova, c.level);
      pt.mem.writeU64(at, pt.mem.readU64(at) & ~c.bits);
      finish(pt);
    });
  }

  test("SNP in a leaf is fine in scalable mode, the default", () => {
    const pt = newTable(vtdss({ vaBits: 48, forceCoherence: true }));
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    expect(hw.translate(pt.mem, walkCtx(pt), 0x1000n, "read")).toMatchObject({ ok: true, pa: 0x9000n });
    finish(pt);
  });
});

describe("SSAD (§4.4)", () => {
  test("A on every entry walked; D on the leaf for a write only; nothing without SSADE or on a fault", () => {
    const pt = newTable(vtdss({ vaBits: 48 }));
    pt.map(0x20_0000n, 0x40_0000n, 2n * MiB, Prot.READ | Prot.WRITE);
    pt.map(0x40_0000n, 0x80_0000n, 2n * MiB, Prot.READ);
    const slot = (level: number) => pt.mem.readU64(slotAddr(pt, 0x20_0000n, level));
    const before = [3, 2, 1].map(slot);

    let hash = pt.mem.hash();
    hw.translate(pt.mem, walkCtx(pt), 0x20_1000n, "write");
    expect(pt.mem.hash()).toBe(hash);
    hash = pt.mem.hash();
    expect(hw.translate(pt.mem, walkCtx(pt, true), 0x40_1000n, "write")).toMatchObject({
      ok: false,
      kind: "permission",
    });
    expect(pt.mem.hash()).toBe(hash);

    expect(hw.translate(pt.mem, walkCtx(pt, true), 0x20_1000n, "read")).toMatchObject({
      ok: true,
      dirty: false,
    });
    expect([3, 2, 1].map(slot)).toEqual(before.map((e) => e | A));
    const w = hw.translate(pt.mem, walkCtx(pt, true), 0x20_1000n, "write");
    expect(w).toMatchObject({ ok: true, dirty: true, pageLg2: 21, pteAddr: slotAddr(pt, 0x20_0000n, 1) });
    expect([3, 2, 1].map(slot)).toEqual([before[0]! | A, before[1]! | A, before[2]! | A | D]);
    finish(pt);
  });

  test("steps list each table read, top first", () => {
    const pt = newTable(vtdss({ vaBits: 57 }));
    pt.map(0x1000n, 0x9000n, 4n * KiB, Prot.READ);
    const steps: WalkStep[] = [];
    hw.translate(pt.mem, walkCtx(pt), 0x1000n, "read", steps);
    expect(steps.map((s) => s.level)).toEqual([4, 3, 2, 1, 0]);
    expect(steps[0]!.table).toBe(pt.info().root);
    finish(pt);
  });
});
