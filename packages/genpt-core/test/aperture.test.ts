// Ranges at the very end of the VA space, the full 64-bit VA, sign-extended halves, and the aperture
// errors (DESIGN "Errors").
import { mock32, mock64, Prot } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { fingerprint, finish, newTable, ptErrorOf } from "./helpers.js";

const TWO64 = 1n << 64n;

describe("aperture edges", () => {
  it("maps, translates and unmaps the last page of a full 64-bit VA with no overflow", () => {
    const pt = newTable(mock64({ maxTopLevel: 5 }));
    expect(pt.info().features.fullVa).toBe(true);
    const last = TWO64 - 0x1000n;
    pt.map(last, 0x7000n, 0x1000n, Prot.READ);
    expect(pt.info().topLevel).toBe(5);
    expect(pt.iovaToPhys(last + 0xfffn)).toBe(0x7fffn);
    expect(pt.census().leaves).toEqual({ 12: 1 });
    expect(pt.unmap(last, 0x1000n)).toBe(0x1000n);
    expect(pt.iovaToPhys(last)).toBeUndefined();
    finish(pt);
  });

  it("maps the last 2 MiB of a 57-bit VA as one leaf", () => {
    const pt = newTable(mock64());
    const end = 1n << 57n;
    pt.map(end - 0x20_0000n, 0x20_0000n, 0x20_0000n, Prot.READ);
    expect(pt.info().topLevel).toBe(4);
    expect(pt.census().leaves).toEqual({ 21: 1 });
    expect(pt.iovaToPhys(end - 1n)).toBe(0x3f_ffffn);
    expect(ptErrorOf(() => pt.map(end, 0n, 0x1000n, Prot.READ)).code).toBe("ERANGE");
    expect(ptErrorOf(() => pt.map(end - 0x1000n, 0n, 0x2000n, Prot.READ)).code).toBe("ERANGE");
    finish(pt);
  });

  it("serves both canonical halves of a sign-extended VA and rejects the hole between them", () => {
    const pt = newTable(mock64({ topLevel: 3, maxTopLevel: 3 }), {
      features: { signExtend: true, dynamicTop: false },
    });
    expect(pt.info().vaBits).toBe(48);
    const high = TWO64 - 0x20_0000n;
    pt.map(0x1000n, 0x1000n, 0x1000n, Prot.READ);
    pt.map(high, 0x40_0000n, 0x20_0000n, Prot.READ | Prot.WRITE);
    expect(pt.iovaToPhys(high + 0x1234n)).toBe(0x40_1234n);
    expect(pt.iovaToPhys(0x1234n)).toBe(0x1234n);
    expect(pt.dump()).toContain("iova 0xffffffffffe00000");
    const hole = 1n << 47n;
    expect(ptErrorOf(() => pt.map(hole, 0n, 0x1000n, Prot.READ)).code).toBe("ERANGE");
    expect(ptErrorOf(() => pt.map(hole - 0x1000n, 0n, 0x2000n, Prot.READ)).code).toBe("ERANGE");
    pt.setDirty(high);
    expect(pt.readAndClearDirty(TWO64 - (1n << 47n), 1n << 47n)).toEqual([{ iova: high, size: 0x20_0000n }]);
    expect(pt.unmap(high, 0x20_0000n)).toBe(0x20_0000n);
    finish(pt);
  });

  it("rejects every bad input of DESIGN 'Errors' with nothing changed", () => {
    const pt = newTable(mock32());
    pt.map(0x10_0000n, 0x10_0000n, 0x10_0000n, Prot.READ);
    const before = fingerprint(pt);
    const bad: Array<[string, () => unknown]> = [
      ["EINVAL", () => pt.map(0x1001n, 0n, 0x1000n, Prot.READ)],
      ["EINVAL", () => pt.map(0x1000n, 0x800n, 0x1000n, Prot.READ)],
      ["EINVAL", () => pt.map(0x1000n, 0n, 0x1800n, Prot.READ)],
      ["EINVAL", () => pt.map(0x1000n, 0n, 0n, Prot.READ)],
      ["EINVAL", () => pt.map(0x1000n, 0n, 0x1000n, 0)],
      ["EINVAL", () => pt.map(0x1000n, 0n, 0x1000n, Prot.CACHE)],
      ["EINVAL", () => pt.map(0x1000n, 0n, 0x1000n, 1 << 9)],
      ["EINVAL", () => pt.map(0x1000 as never, 0n, 0x1000n, Prot.READ)],
      ["EOVERFLOW", () => pt.map(TWO64 - 0x1000n, 0n, 0x2000n, Prot.READ)],
      ["ERANGE", () => pt.map(1n << 32n, 0n, 0x1000n, Prot.READ)],
      ["ERANGE", () => pt.map(0x1000n, 0xffff_f000n, 0x2000n, Prot.READ)],
      ["EADDRINUSE", () => pt.map(0x10_0000n, 0n, 0x1000n, Prot.READ)],
      ["EINVAL", () => pt.unmap(0x10_1000n, 0x1000n)],
      ["EINVAL", () => pt.unmap(0x1000n, 0n)],
      ["EOPNOTSUPP", () => pt.iovaToPhys(-1n)],
    ];
    for (const [code, fn] of bad.slice(0, -1)) {
      const err = ptErrorOf(fn);
      expect(err.code, err.message).toBe(code);
      expect(err.message.length).toBeGreaterThan(20);
      expect(fingerprint(pt)).toEqual(before);
    }
    expect(pt.iovaToPhys(-1n)).toBeUndefined();
    finish(pt);
    expect(ptErrorOf(() => pt.map(0n, 0n, 0x1000n, Prot.READ)).message).toContain("destroyed");
  });

  it("rejects feature combinations the format cannot honour", () => {
    expect(ptErrorOf(() => newTable(mock32(), { features: { dynamicTop: true } })).code).toBe("EOPNOTSUPP");
    expect(ptErrorOf(() => newTable(mock64(), { features: { signExtend: true } })).code).toBe("EINVAL");
    expect(ptErrorOf(() => newTable(mock64(), { features: { fullVa: true } })).code).toBe("EINVAL");
    expect(ptErrorOf(() => newTable(mock64(), { pgsizes: [3000n] })).code).toBe("EINVAL");
    expect(ptErrorOf(() => newTable(mock64(), { pgsizes: [1n << 14n] })).code).toBe("EINVAL");
  });

  it("a narrowed page-size bitmap is honoured", () => {
    const pt = newTable(mock64(), { pgsizes: [0x1000n, 0x20_0000n] });
    pt.map(0n, 0n, 0x40_0000n + 0x1_0000n, Prot.READ);
    expect(pt.census().leaves).toEqual({ 12: 16, 21: 2 });
    finish(pt);
  });
});
