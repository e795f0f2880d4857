// Bad input: configurations outside formats.md §1.1 (widths, the 52-bit rule, the 16-table limit of
// concatenation, stage-1-only options), and maps whose PA passes oas or whose IOVA passes ias. Each is
// a PtError with the right code, and a failed map changes neither memory nor the allocator.
import { expectPtError, expectUnchanged, fingerprint, finish, newMem } from "@genpt/conformance";
import { createPageTable, Prot, type PtErrorCode } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv8Config, armv8 } from "../src/index.js";

const mem = newMem();
const base: Armv8Config = { granule: 4096, stage: 1, ias: 48, oas: 48 };

describe("configuration", () => {
  test.each([
    [{ ...base, ias: 31 }, /ias 31 is outside 32\.\.48/],
    [{ ...base, ias: 49 }, /ias 49 is outside 32\.\.48/],
    [{ ...base, oas: 28 }, /oas 28 is outside 32\.\.48/],
    [{ ...base, ias: 40.5 }, /ias 40.5/],
    // 52 bits need the 64K granule (FEAT_LPA).
    [{ ...base, oas: 52 }, /oas 52 is outside 32\.\.48 for the 4K granule/],
    [{ ...base, granule: 16384, ias: 52 }, /ias 52 is outside 32\.\.48 for the 16K granule/],
    [{ ...base, granule: 65536, ias: 53 }, /ias 53 is outside 32\.\.52/],
    // oas must have an IPS/PS encoding.
    [{ ...base, oas: 38 }, /oas 38 has no IPS\/PS encoding/],
    [{ ...base, granule: 8192 }, /granule 8192/],
    [{ ...base, stage: 3 }, /stage 3/],
    [{ ...base, stage: 2, ttbr1: true }, /ttbr1 is a stage-1 feature/],
    [{ ...base, stage: 2, ns: true }, /ns .* stage-1 feature/],
    // 4K, start level 0 with oas 40 must concatenate, but 2^(48-39) = 512 tables is past the 16 allowed.
    [{ ...base, stage: 2, oas: 40 }, /needs 512 concatenated tops \(max 16\)/],
    // SMMU_IDR3.BBML is a 2-bit field with values 0..2.
    [{ ...base, bbml: 3 }, /bbml 3 is not 0, 1 or 2/],
  ] as [Armv8Config, RegExp][])("%o", (cfg, msg) => {
    expectPtError(() => armv8(cfg), "EINVAL", msg);
  });

  test("bbml decides the resize discipline: only level 2 replaces a live block in place", () => {
    expect(armv8(base).resize).toBe("break-before-make");
    expect(armv8({ ...base, bbml: 0 }).resize).toBe("break-before-make");
    // Level 1 needs the nT-bit sequence, which genpt does not model: break-before-make is always valid.
    expect(armv8({ ...base, bbml: 1 }).resize).toBe("break-before-make");
    expect(armv8({ ...base, bbml: 2 }).resize).toBe("replace");
    expect(armv8({ ...base, bbml: 2 }).config).toMatch(/bbml2$/);
    // Arm keeps no hardware status bit outside the attributes: AF is always set, dirty is AP[2] (§1.4).
    expect(armv8(base).statusBits).toBe(0n);
  });

  test("the widest valid configurations build", () => {
    for (const cfg of [
      { granule: 65536, stage: 1, ias: 52, oas: 52 },
      { granule: 65536, stage: 2, ias: 52, oas: 52 },
      { granule: 4096, stage: 2, ias: 48, oas: 44 },
    ] as Armv8Config[]) {
      const pt = createPageTable(armv8(cfg), { mem });
      expect(pt.info()).toMatchObject({ vaBits: cfg.ias, oaBits: cfg.oas });
      finish(pt);
    }
  });
});

describe("map input", () => {
  test.each([
    // A PA whose end passes oas: [2^40 - 4K, 2^40 + 4K) with a 40-bit output.
    ["PA beyond oas", { ...base, oas: 40 }, 0x1000n, (1n << 40n) - 0x1000n, 0x2000n, "ERANGE"],
    [
      "PA beyond oas (64K, oas 48)",
      { ...base, granule: 65536, oas: 48 },
      0x1_0000n,
      1n << 48n,
      0x1_0000n,
      "ERANGE",
    ],
    // An IOVA at 2^ias: outside the input range.
    ["IOVA beyond ias", { ...base, ias: 39 }, 1n << 39n, 0x1000n, 0x1000n, "ERANGE"],
    ["IOVA range running past ias", { ...base, ias: 39 }, (1n << 39n) - 0x1000n, 0x1000n, 0x2000n, "ERANGE"],
    ["TTBR1 IOVA in the lower range", { ...base, ias: 39, ttbr1: true }, 0x1000n, 0x1000n, 0x1000n, "ERANGE"],
    ["misaligned to the 16K granule", { ...base, granule: 16384 }, 0x1000n, 0x4000n, 0x4000n, "EINVAL"],
  ] as [string, Armv8Config, bigint, bigint, bigint, PtErrorCode][])(
    "%s",
    (_name, cfg, iova, pa, size, code) => {
      const pt = createPageTable(armv8(cfg), { mem });
      const there = (cfg.ttbr1 ? (1n << 64n) - (1n << BigInt(cfg.ias)) : 0n) + 0x20_0000n;
      pt.map(there, 0x20_0000n, 0x20_0000n, Prot.READ); // something already mapped
      expectUnchanged(pt, () => pt.map(iova, pa, size, Prot.READ | Prot.WRITE), code);
      expect(pt.iovaToPhys(there)).toBe(0x20_0000n);
      finish(pt);
    },
  );

  test("an overmap inside a contiguous entry fails and changes nothing", () => {
    const cfg: Armv8Config = { ...base, contig: true, dbm: true };
    const pt = createPageTable(armv8(cfg), { mem });
    pt.map(0x1_0000n, 0x5_0000n, 0x1_0000n, Prot.READ | Prot.WRITE);
    const before = fingerprint(pt);
    expectPtError(() => pt.map(0x1_8000n, 0x9_0000n, 0x1000n, Prot.READ), "EADDRINUSE");
    expectPtError(() => pt.unmap(0x1_8000n, 0x1000n), "EINVAL"); // a start inside the entry
    expect(fingerprint(pt)).toEqual(before);
    finish(pt);
  });
});
