// The SMMUv3 walker's faults and HTTU updates (formats.md §1.5 and the walker rules), on tables
// the software side built and on descriptors edited in raw memory the way a buggy driver would.
import { finish, newMem } from "@genpt/conformance";
import { createPageTable, Prot, type WalkStep } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv8Config, armv8, armv8Walker } from "../src/index.js";
import { bit, leafAt, walk } from "./helpers.js";

const { READ: R, WRITE: W, NOEXEC } = Prot;
const mem = newMem();
const s1: Armv8Config = { granule: 4096, stage: 1, ias: 48, oas: 48 };
const s2: Armv8Config = { granule: 4096, stage: 2, ias: 40, oas: 40 };

describe("translation faults", () => {
  test("an invalid descriptor, and no table for the input range", () => {
    const pt = createPageTable(armv8(s1), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R);
    expect(walk(pt, s1, 0x2000n)).toMatchObject({ ok: false, kind: "translation", level: 0 });
    expect(walk(pt, s1, 0x8000_0000_0000n)).toMatchObject({ ok: false, kind: "translation", level: 3 });
    expect(walk(pt, s1, 1n << 48n)).toMatchObject({ ok: false, kind: "translation" });
    finish(pt);
  });

  test("type 01 at L3 is reserved (§1.2): a translation fault, and the software side sees no entry", () => {
    const pt = createPageTable(armv8(s1), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R);
    const { pte, addr } = leafAt(pt, s1, 0x1000n);
    mem.writeU64(addr, pte & ~bit(1)); // [1:0] = 01
    expect(walk(pt, s1, 0x1000n)).toMatchObject({ ok: false, kind: "translation", level: 0 });
    expect(pt.iovaToPhys(0x1000n)).toBeUndefined();
    mem.writeU64(addr, pte);
    finish(pt);
  });

  test("blocks only where the granule allows them: none at L1 with 16K", () => {
    const cfg: Armv8Config = { granule: 16384, stage: 1, ias: 47, oas: 48 };
    const pt = createPageTable(armv8(cfg), { mem });
    expect(pt.info().pgsizes).toEqual([0x4000n, 0x200_0000n]);
    // A hand-made L1 block descriptor in the top table (L1 with 47 bits: VA[46:36], 64G per slot).
    const root = pt.info().root;
    mem.writeU64(root + 8n, (1n << 36n) | 0x401n); // OA 64G, AF, type 01
    expect(walk(pt, cfg, 1n << 36n)).toMatchObject({ ok: false, kind: "translation", level: 2 });
    mem.writeU64(root + 8n, 0n);
    finish(pt);
  });

  test("ttbr1: only the top 2^ias bytes of the 64-bit space translate", () => {
    const cfg: Armv8Config = { granule: 4096, stage: 1, ias: 39, oas: 48, ttbr1: true };
    const pt = createPageTable(armv8(cfg), { mem });
    const iova = 0xffff_ff80_0020_0000n; // 2^64 - 2^39 + 2M
    pt.map(iova, 0x4000_0000n, 0x20_0000n, R | W);
    expect(pt.iovaToPhys(iova + 0x1234n)).toBe(0x4000_1234n);
    expect(walk(pt, cfg, iova + 0x1234n)).toMatchObject({ ok: true, pa: 0x4000_1234n, pageLg2: 21 });
    expect(walk(pt, cfg, 0x20_0000n)).toMatchObject({ ok: false, kind: "translation" });
    finish(pt);
  });
});

describe("access-flag, permission and address-size faults", () => {
  test("AF = 0: an access-flag fault, or with HTTU (accessDirty) the walker sets AF", () => {
    const pt = createPageTable(armv8(s1), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R);
    const { pte, addr } = leafAt(pt, s1, 0x1000n);
    mem.writeU64(addr, pte & ~bit(10));
    // AF takes priority over permission: the write to a read-only page reports access-flag.
    expect(walk(pt, s1, 0x1000n, "write")).toMatchObject({ ok: false, kind: "access-flag", level: 0 });
    expect(walk(pt, s1, 0x1000n, "read", true)).toMatchObject({ ok: true, pa: 0x9000n });
    expect(mem.readU64(addr)).toBe(pte);
    finish(pt);
  });

  test("stage 1: a write with AP[2] set; AP[1] is not checked; APTable[1] forbids writes below it", () => {
    const pt = createPageTable(armv8(s1), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R | Prot.PRIV);
    pt.map(0x2000n, 0xa000n, 0x1000n, R | W);
    expect(walk(pt, s1, 0x1000n, "write")).toMatchObject({ ok: false, kind: "permission", level: 0 });
    expect(walk(pt, s1, 0x1000n, "read")).toMatchObject({ ok: true, read: true, write: false });
    expect(walk(pt, s1, 0x2000n, "write")).toMatchObject({ ok: true, read: true, write: true, dirty: true });
    const steps: WalkStep[] = [];
    walk(pt, s1, 0x2000n, "read", false, steps);
    const l2 = mem.readU64(steps[2]!.table);
    mem.writeU64(steps[2]!.table, l2 | bit(62));
    // Hierarchical permissions combine into the final lookup, so the fault is reported at the leaf.
    expect(walk(pt, s1, 0x2000n, "write")).toMatchObject({ ok: false, kind: "permission", level: 0 });
    expect(walk(pt, s1, 0x2000n, "read")).toMatchObject({ ok: true, write: false });
    mem.writeU64(steps[2]!.table, l2);
    finish(pt);
  });

  test("stage 2: the access must be in S2AP", () => {
    const pt = createPageTable(armv8(s2), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R);
    pt.map(0x2000n, 0xa000n, 0x1000n, W);
    expect(walk(pt, s2, 0x1000n, "write")).toMatchObject({ ok: false, kind: "permission" });
    expect(walk(pt, s2, 0x1000n, "read")).toMatchObject({ ok: true, read: true, write: false });
    expect(walk(pt, s2, 0x2000n, "read")).toMatchObject({ ok: false, kind: "permission" });
    expect(walk(pt, s2, 0x2000n, "write")).toMatchObject({ ok: true, read: false, write: true });
    finish(pt);
  });

  test("exec: denied by the XN bits", () => {
    for (const cfg of [s1, s2]) {
      const pt = createPageTable(armv8(cfg), { mem });
      pt.map(0x1000n, 0x9000n, 0x1000n, R | NOEXEC);
      pt.map(0x2000n, 0xa000n, 0x1000n, R);
      expect(walk(pt, cfg, 0x1000n, "exec")).toMatchObject({ ok: false, kind: "permission" });
      expect(walk(pt, cfg, 0x2000n, "exec")).toMatchObject({ ok: true, pa: 0xa000n });
      finish(pt);
    }
  });

  test("an output address or a table address beyond oas is an address-size fault", () => {
    const cfg: Armv8Config = { granule: 4096, stage: 1, ias: 36, oas: 36 };
    const pt = createPageTable(armv8(cfg), { mem });
    pt.map(0x1000n, 0x9000n, 0x1000n, R);
    const { pte, addr } = leafAt(pt, cfg, 0x1000n);
    mem.writeU64(addr, pte | bit(40));
    expect(walk(pt, cfg, 0x1000n)).toMatchObject({ ok: false, kind: "address-size", level: 0 });
    mem.writeU64(addr, pte);
    const root = pt.info().root;
    const top = mem.readU64(root);
    mem.writeU64(root, top | bit(37));
    expect(walk(pt, cfg, 0x1000n)).toMatchObject({ ok: false, kind: "address-size", level: 2 });
    mem.writeU64(root, top);
    finish(pt);
  });

  test("stage 2 alone: an input at or above 2^oas is an address-size fault, above 2^ias a translation fault", () => {
    const cfg: Armv8Config = { granule: 4096, stage: 2, ias: 36, oas: 32 };
    const pt = createPageTable(armv8(cfg), { mem });
    pt.map(0x1_0000_0000n, 0x1000n, 0x1000n, R);
    expect(pt.iovaToPhys(0x1_0000_0000n)).toBe(0x1000n);
    expect(walk(pt, cfg, 0x1_0000_0000n)).toMatchObject({ ok: false, kind: "address-size" });
    const wide = armv8Walker({ granule: 4096, stage: 2, ias: 36, oas: 40 });
    const { root, topLevel } = pt.info();
    expect(wide.translate(mem, { root, topLevel, accessDirty: false }, 0x1_0000_0000n, "read")).toMatchObject(
      { ok: true, pa: 0x1000n },
    );
    expect(wide.translate(mem, { root, topLevel, accessDirty: false }, 1n << 36n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
    });
    finish(pt);
  });

  test("a context whose start level does not fit ias is refused", () => {
    const pt = createPageTable(armv8(s1), { mem });
    const { root } = pt.info();
    const w = armv8Walker({ granule: 4096, stage: 1, ias: 48, oas: 48 });
    expect(w.translate(mem, { root, topLevel: 2, accessDirty: false }, 0n, "read")).toMatchObject({
      ok: false,
      kind: "translation",
    });
    finish(pt);
  });
});

describe("concatenated stage-2 tops", () => {
  test("16K, ias 40: sixteen 16K tables at L2, the IPA's bits [39:25] index them as one", () => {
    const cfg: Armv8Config = { granule: 16384, stage: 2, ias: 40, oas: 40 };
    const pt = createPageTable(armv8(cfg), { mem });
    const { root } = pt.info();
    expect(pt.allocator.sizeLg2Of(Number(root))).toBe(18); // 16 x 16 KiB
    const iova = (1n << 40n) - (32n << 20n); // the last 32M block: slot 32767, in the sixteenth table
    pt.map(iova, 0x40_0000_0000n, 32n << 20n, R | W);
    const steps: WalkStep[] = [];
    const r = walk(pt, cfg, iova + 0x42n, "read", false, steps);
    expect(r).toMatchObject({ ok: true, pa: 0x40_0000_0042n, level: 1, pteAddr: root + 32767n * 8n });
    expect(steps).toEqual([{ level: 1, table: root }]);
    finish(pt);
  });
});
