// Known-answer encodings, each expected descriptor built from literal bits with the rule it follows
// (reference/formats.md §1.2 descriptor bits, §1.3 Linux's leaf encoding, §1.1 the 52-bit PA), and the
// driver-facing fields of info() (§1.1 TCR/VTCR).
import { PhysMem } from "@genpt/alloc";
import { finish, newMem } from "@genpt/conformance";
import { createPageTable, Prot, type WalkStep } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv8Config, armv8 } from "../src/index.js";
import { bit, leafAt, walk } from "./helpers.js";

const { READ: R, WRITE: W, CACHE, MMIO, NOEXEC, PRIV } = Prot;
const mem = newMem();

// §1.2/§1.3 bits, named here once for the expectations below.
const PAGE = 0b11n; // [1:0] = 11 at L3
const BLOCK = 0b01n; // [1:0] = 01 at L1/L2
const TABLE = 0b11n;
const ATTR = (i: bigint) => i << 2n; // AttrIndx [4:2]
const MEMATTR = (m: bigint) => m << 2n; // stage-2 MemAttr [5:2]
const NS = bit(5);
const AP1 = bit(6); // stage 1: EL0 access; stage 2: S2AP read
const AP2 = bit(7); // stage 1: read-only; stage 2: S2AP write
const SH_OUTER = 0b10n << 8n;
const SH_INNER = 0b11n << 8n;
const AF = bit(10);
const NG = bit(11);
const DBM = bit(51);
const CONT = bit(52);
const XN = bit(53) | bit(54); // PXN|UXN at stage 1, XN[1:0] at stage 2
const NSTABLE = bit(63);

/** Maps one page of `size` at iova -> pa with `prot` and returns its raw descriptor. */
function encode(cfg: Armv8Config, iova: bigint, pa: bigint, size: bigint, prot: number): bigint {
  const pt = createPageTable(armv8(cfg), { mem });
  pt.map(iova, pa, size, prot);
  const { pte } = leafAt(pt, cfg, iova);
  expect(pt.iovaToPhys(iova + 0x123n)).toBe(pa + 0x123n);
  finish(pt);
  return pte;
}

describe("stage 1, 4K granule (§1.3 left column)", () => {
  const s1: Armv8Config = { granule: 4096, stage: 1, ias: 48, oas: 48 };
  const pa = 0x12_3456_7000n;
  test.each([
    // nG|AF always; AP[1] since not PRIV; AttrIndx 1 and inner-shareable for CACHE.
    ["R|W|CACHE", R | W | CACHE, PAGE | ATTR(1n) | AP1 | SH_INNER | AF | NG],
    // Read-only sets AP[2]; no CACHE: AttrIndx 0 (Normal-NC) and outer-shareable.
    ["R", R, PAGE | ATTR(0n) | AP1 | AP2 | SH_OUTER | AF | NG],
    // MMIO: AttrIndx 2 (Device-nGnRE).
    ["R|W|MMIO", R | W | MMIO, PAGE | ATTR(2n) | AP1 | SH_OUTER | AF | NG],
    // MMIO wins the AttrIndx but CACHE still picks inner shareability, as in Linux.
    ["R|W|MMIO|CACHE", R | W | MMIO | CACHE, PAGE | ATTR(2n) | AP1 | SH_INNER | AF | NG],
    // NOEXEC: PXN (53) and UXN (54).
    ["R|W|NOEXEC", R | W | NOEXEC, PAGE | AP1 | SH_OUTER | AF | NG | XN],
    // PRIV: no AP[1], so EL0 has no access.
    ["R|W|PRIV", R | W | PRIV, PAGE | SH_OUTER | AF | NG],
    // Write-only has no stage-1 encoding: it maps read-write.
    ["W", W, PAGE | AP1 | SH_OUTER | AF | NG],
  ])("%s", (_name, prot, attrs) => {
    expect(encode(s1, 0x1000n, pa, 0x1000n, prot)).toBe(pa | attrs);
  });

  test("blocks are type 01: a 2M block at L2 and a 1G block at L1", () => {
    expect(encode(s1, 0x20_0000n, 0x4060_0000n, 0x20_0000n, R | W)).toBe(
      0x4060_0000n | BLOCK | AP1 | SH_OUTER | AF | NG,
    );
    expect(encode(s1, 0x4000_0000n, 0xc000_0000n, 0x4000_0000n, R)).toBe(
      0xc000_0000n | BLOCK | AP1 | AP2 | SH_OUTER | AF | NG,
    );
  });

  test("dbm: writable leaves carry DBM with AP[2] clear (already dirty, §1.4); read-only ones no DBM", () => {
    const cfg = { ...s1, dbm: true };
    expect(encode(cfg, 0x1000n, pa, 0x1000n, R | W)).toBe(pa | PAGE | AP1 | SH_OUTER | AF | NG | DBM);
    expect(encode(cfg, 0x1000n, pa, 0x1000n, R)).toBe(pa | PAGE | AP1 | AP2 | SH_OUTER | AF | NG);
  });

  test("ns: NS (bit 5) on leaves and NSTable (bit 63) on every table descriptor", () => {
    const cfg = { ...s1, ns: true };
    const pt = createPageTable(armv8(cfg), { mem });
    pt.map(0x1000n, pa, 0x1000n, R | W | CACHE);
    const steps: WalkStep[] = [];
    const r = walk(pt, cfg, 0x1000n, "read", false, steps);
    expect(r.ok).toBe(true);
    expect(steps.map((s) => s.level)).toEqual([3, 2, 1, 0]);
    // Every table descriptor: next table PA | type 11 | NSTable; iova 0x1000 uses index 0 above L3.
    for (let i = 0; i < 3; i++) {
      expect(mem.readU64(steps[i]!.table)).toBe(steps[i + 1]!.table | TABLE | NSTABLE);
    }
    expect(leafAt(pt, cfg, 0x1000n).pte).toBe(pa | PAGE | ATTR(1n) | NS | AP1 | SH_INNER | AF | NG);
    finish(pt);
  });

  test("table descriptors are the next table's PA with type 11 and nothing else", () => {
    const pt = createPageTable(armv8(s1), { mem });
    pt.map(0x7f_c000_5000n, pa, 0x1000n, R);
    const steps: WalkStep[] = [];
    expect(walk(pt, s1, 0x7f_c000_5000n, "read", false, steps).ok).toBe(true);
    // 0x7f_c000_5000: L0 index 0 (VA[47:39]), L1 index 0x1ff (VA[38:30]), L2 index 0 (VA[29:21]).
    expect(mem.readU64(steps[0]!.table)).toBe(steps[1]!.table | TABLE);
    expect(mem.readU64(steps[1]!.table + 0x1ffn * 8n)).toBe(steps[2]!.table | TABLE);
    expect(mem.readU64(steps[2]!.table)).toBe(steps[3]!.table | TABLE);
    finish(pt);
  });
});

describe("stage 2, 4K granule, concatenated top (§1.3 right column)", () => {
  const s2: Armv8Config = { granule: 4096, stage: 2, ias: 40, oas: 40 };
  const pa = 0xab_cdef_1000n;
  test.each([
    // AF; S2AP read (6) and write (7); MemAttr 1111 (write-back) and inner-shareable for CACHE.
    ["R|W|CACHE", R | W | CACHE, PAGE | MEMATTR(0b1111n) | AP1 | AP2 | SH_INNER | AF],
    // Read only: S2AP 01; MemAttr 0101 (Normal-NC) and outer-shareable.
    ["R", R, PAGE | MEMATTR(0b0101n) | AP1 | SH_OUTER | AF],
    // Write only is expressible at stage 2: S2AP 10. MMIO: MemAttr 0001 (Device-nGnRE).
    ["W|MMIO", W | MMIO, PAGE | MEMATTR(0b0001n) | AP2 | SH_OUTER | AF],
    // NOEXEC sets both XN bits (53, 54), as Linux does even without FEAT_XNX.
    ["R|W|NOEXEC", R | W | NOEXEC, PAGE | MEMATTR(0b0101n) | AP1 | AP2 | SH_OUTER | AF | XN],
    // PRIV means nothing at stage 2 and there is no nG.
    ["R|W|PRIV", R | W | PRIV, PAGE | MEMATTR(0b0101n) | AP1 | AP2 | SH_OUTER | AF],
  ])("%s", (_name, prot, attrs) => {
    expect(encode(s2, 0x1000n, pa, 0x1000n, prot)).toBe(pa | attrs);
  });

  test("dbm: writable leaves carry DBM with S2AP[1] set (writable-dirty, §1.4)", () => {
    const cfg = { ...s2, dbm: true };
    expect(encode(cfg, 0x1000n, pa, 0x1000n, R | W)).toBe(
      pa | PAGE | MEMATTR(0b0101n) | AP1 | AP2 | SH_OUTER | AF | DBM,
    );
    expect(encode(cfg, 0x1000n, pa, 0x1000n, R)).toBe(pa | PAGE | MEMATTR(0b0101n) | AP1 | SH_OUTER | AF);
  });

  test("the top is two concatenated 4K tables at L1, indexed by IPA[39:30]", () => {
    const pt = createPageTable(armv8(s2), { mem });
    const info = pt.info();
    expect(pt.allocator.sizeLg2Of(Number(info.root))).toBe(13); // 2 x 4 KiB, size-aligned
    expect(info.root % 8192n).toBe(0n);
    // The last 1G of the IPA space: index 1023, in the second table.
    pt.map(0xff_c000_0000n, 0x40_0000_0000n, 0x4000_0000n, R | W);
    expect(mem.readU64(info.root + 1023n * 8n)).toBe(
      0x40_0000_0000n | BLOCK | MEMATTR(0b0101n) | AP1 | AP2 | SH_OUTER | AF,
    );
    finish(pt);
  });
});

describe("64K granule with a 52-bit PA (§1.1: PA[51:48] in bits [15:12])", () => {
  const cfg: Armv8Config = { granule: 65536, stage: 1, ias: 52, oas: 52 };
  // Tables above 2^48 too, so table descriptors carry PA[51:48] as well: PA[51:48] = 0xA.
  const highMem = new PhysMem({ base: 0xa_0000_0000_0000n, size: 16n << 20n });

  test("leaves and tables fold PA[51:48] into bits [15:12]", () => {
    const pt = createPageTable(armv8(cfg), { mem: highMem });
    const pa = 0xb_cdef_0123_0000n; // PA[51:48] = 0xB, PA[47:16] = 0xcdef0123
    pt.map(0x1_0000n, pa, 0x1_0000n, R | W);
    expect(leafAt(pt, cfg, 0x1_0000n).pte).toBe(
      0xcdef_0123_0000n | (0xbn << 12n) | PAGE | AP1 | SH_OUTER | AF | NG,
    );
    expect(pt.iovaToPhys(0x1_0042n)).toBe(pa + 0x42n);
    const steps: WalkStep[] = [];
    expect(walk(pt, cfg, 0x1_0000n, "read", false, steps)).toMatchObject({ ok: true, pa });
    for (let i = 0; i < 2; i++) {
      const next = steps[i + 1]!.table;
      expect(next >> 48n).toBe(0xan);
      expect(highMem.readU64(steps[i]!.table)).toBe((next & 0xffff_ffff_0000n) | (0xan << 12n) | TABLE);
    }
    finish(pt);
  });

  test("a 4T block at L1 exists only with oas > 48", () => {
    const pt = createPageTable(armv8(cfg), { mem: highMem });
    expect(pt.info().pgsizes).toEqual([1n << 16n, 1n << 29n, 1n << 42n]);
    const pa = 0xf_0000_0000_0000n; // PA[51:48] = 0xF, bits [47:42] = 0
    pt.map(1n << 42n, pa, 1n << 42n, R | W);
    expect(leafAt(pt, cfg, 1n << 42n).pte).toBe((0xfn << 12n) | BLOCK | AP1 | SH_OUTER | AF | NG);
    expect(walk(pt, cfg, (1n << 42n) + 0x1234n)).toMatchObject({
      ok: true,
      pa: pa + 0x1234n,
      pageLg2: 42,
      level: 2,
    });
    finish(pt);
    const pt48 = createPageTable(armv8({ ...cfg, oas: 48 }), { mem: highMem });
    expect(pt48.info().pgsizes).toEqual([1n << 16n, 1n << 29n]);
    finish(pt48);
  });
});

describe("the contiguous hint (§1.2: N adjacent items, each with its own OA, bit 52)", () => {
  test.each([
    // granule, generic level, items, entry size
    [4096, 0, 16, 0x1_0000n], // 16 x 4K = 64K at L3
    [4096, 1, 16, 0x200_0000n], // 16 x 2M = 32M at L2
    [16384, 0, 128, 0x20_0000n], // 128 x 16K = 2M at L3
    [16384, 1, 32, 0x4000_0000n], // 32 x 32M = 1G at L2
    [65536, 0, 32, 0x20_0000n], // 32 x 64K = 2M at L3
    [65536, 1, 32, 0x4_0000_0000n], // 32 x 512M = 16G at L2
  ] as const)("%i granule, level %i: %i items", (granule, level, items, size) => {
    const cfg: Armv8Config = { granule, stage: 1, ias: 48, oas: 48, contig: true };
    const pt = createPageTable(armv8(cfg), { mem });
    expect(pt.info().pgsizes).toContain(size);
    const iova = size * 3n;
    const pa = size * 5n;
    pt.map(iova, pa, size, R | W);
    const item = size / BigInt(items);
    const type = level === 0 ? PAGE : BLOCK;
    for (const i of [0n, 1n, BigInt(items) - 1n]) {
      const { pte } = leafAt(pt, cfg, iova + i * item);
      expect(pte).toBe((pa + i * item) | type | AP1 | SH_OUTER | AF | NG | CONT);
      expect(walk(pt, cfg, iova + i * item + 0x42n)).toMatchObject({
        ok: true,
        pa: pa + i * item + 0x42n,
        pageLg2: size.toString(2).length - 1,
      });
    }
    expect(pt.iovaToPhys(iova + size - 1n)).toBe(pa + size - 1n);
    expect(pt.iovaToPhys(iova + size)).toBeUndefined();
    // Unmapping the first item removes the whole contiguous entry.
    expect(pt.unmap(iova, item)).toBe(size);
    finish(pt);
  });

  test("without contig (the default, as in Linux) bit 52 is never set", () => {
    const cfg: Armv8Config = { granule: 4096, stage: 1, ias: 48, oas: 48 };
    const pt = createPageTable(armv8(cfg), { mem });
    expect(pt.info().pgsizes).toEqual([0x1000n, 0x20_0000n, 0x4000_0000n]);
    pt.map(0x1_0000n, 0x5_0000n, 0x1_0000n, R | W);
    for (let i = 0n; i < 16n; i++) {
      expect(leafAt(pt, cfg, 0x1_0000n + i * 0x1000n).pte).toBe(
        (0x5_0000n + i * 0x1000n) | PAGE | AP1 | SH_OUTER | AF | NG,
      );
    }
    finish(pt);
  });
});

describe("info(): what a driver programs (§1.1)", () => {
  test.each([
    // T0SZ = 64 - ias; TG0 4K=0 / 64K=1 / 16K=2; IPS 48 -> 5; MAIR 0x44, 0xff, 0x04, 0xf4 in slots 0..3.
    [
      { granule: 4096, stage: 1, ias: 48, oas: 48 },
      { startLevel: 0, topLevel: 3, t0sz: 16, tg0: 0, ips: 5, mair: 0xf404ff44n },
    ],
    [
      { granule: 16384, stage: 1, ias: 36, oas: 40 },
      { startLevel: 2, topLevel: 1, t0sz: 28, tg0: 2, ips: 2 },
    ],
    [
      { granule: 65536, stage: 1, ias: 52, oas: 52 },
      { startLevel: 1, topLevel: 2, t0sz: 12, tg0: 1, ips: 6 },
    ],
    // TTBR1 uses T1SZ and the TG1 encoding: 4K = 2.
    [
      { granule: 4096, stage: 1, ias: 39, oas: 48, ttbr1: true },
      { startLevel: 1, t1sz: 25, tg1: 2, ips: 5 },
    ],
    // Stage 2: SL0 = ~(start + 1) & 3 for 4K, ~start & 3 otherwise; PS encodes oas.
    [
      { granule: 4096, stage: 2, ias: 48, oas: 48 },
      { startLevel: 0, sl0: 2, t0sz: 16, tg0: 0, ps: 5, concatenatedTables: 1 },
    ],
    [
      { granule: 4096, stage: 2, ias: 40, oas: 40 },
      { startLevel: 1, sl0: 1, t0sz: 24, ps: 2, concatenatedTables: 2 },
    ],
    [
      { granule: 4096, stage: 2, ias: 42, oas: 42 },
      { startLevel: 1, sl0: 1, t0sz: 22, ps: 3, concatenatedTables: 8 },
    ],
    [
      { granule: 16384, stage: 2, ias: 48, oas: 48 },
      { startLevel: 1, sl0: 2, tg0: 2, ps: 5, concatenatedTables: 2 },
    ],
    [
      { granule: 16384, stage: 2, ias: 40, oas: 40 },
      { startLevel: 2, sl0: 1, ps: 2, concatenatedTables: 16 },
    ],
    [
      { granule: 65536, stage: 2, ias: 48, oas: 48, dbm: true },
      { startLevel: 1, sl0: 2, tg0: 1, hd: true, ha: true },
    ],
  ] as [Armv8Config, Record<string, unknown>][])("%o", (cfg, fields) => {
    const pt = createPageTable(armv8(cfg), { mem });
    const info = pt.info();
    expect(info).toMatchObject({ vaBits: cfg.ias, oaBits: cfg.oas, ...fields });
    const { topLevel: _top, ...hwFields } = fields;
    expect(info.hw).toMatchObject(hwFields);
    finish(pt);
  });
});
