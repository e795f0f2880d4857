// Linux's io-pgtable-arm selftest (drivers/iommu/io-pgtable-arm-selftests.c) in all 126 configurations:
// {4K, 16K, 64K} x every ias <= oas in {32, 36, 40, 42, 44, 48} x stage 1 and 2. Each run: an empty table
// translates nothing; one mapping of every page size at 1 GiB steps, an overmap fails, iova_to_phys is
// right; unmap everything and remap write-only; map and unmap the last largest page of the input range,
// the corner of a concatenated stage-2 top. The walker checks every translation over raw memory, and
// the top table is checked against the Linux geometry rules (formats.md §1.1), computed here afresh.
import { expectUnchanged, finish, newMem } from "@genpt/conformance";
import { createPageTable, Prot } from "@genpt/core";
import { expect, test } from "vitest";
import { type Armv8Config, armv8 } from "../src/index.js";
import { walk } from "./helpers.js";

const K = 1024n;
const M = K * K;
const G = M * K;
const GRANULES = [
  { granule: 4096, sizes: [4n * K, 2n * M, G] },
  { granule: 16384, sizes: [16n * K, 32n * M] },
  { granule: 65536, sizes: [64n * K, 512n * M] },
] as const;
const WIDTHS = [32, 36, 40, 42, 44, 48];

interface Case {
  readonly name: string;
  readonly cfg: Armv8Config;
  readonly sizes: readonly bigint[];
}

const CASES: Case[] = [];
for (const { granule, sizes } of GRANULES) {
  for (let j = 0; j < WIDTHS.length; j++) {
    for (let k = 0; k <= j; k++) {
      for (const stage of [1, 2] as const) {
        const cfg: Armv8Config = { granule, stage, ias: WIDTHS[k]!, oas: WIDTHS[j]! };
        CASES.push({ name: `${granule >> 10}K S${stage} ias ${cfg.ias} oas ${cfg.oas}`, cfg, sizes });
      }
    }
  }
}

/**
 * §1.1, written out again: levels = ceil((ias - granule bits) / bits per level), start = 4 - levels,
 * top index bits = what the lower levels leave; stage 2 concatenates (one level down, bits per level
 * more index bits) for 16K start 0 with ias or oas 48, 4K start 0 with oas 40/42, 16K start 1 with oas 40.
 */
function expectedTop(cfg: Armv8Config): { startLevel: number; indexBits: number; tables: number } {
  const pg = Math.log2(cfg.granule);
  const bpl = pg - 3;
  const levels = Math.ceil((cfg.ias - pg) / bpl);
  const startLevel = 4 - levels;
  const indexBits = cfg.ias - pg - bpl * (levels - 1);
  const concat =
    cfg.stage === 2 &&
    ((pg === 14 && startLevel === 0 && (cfg.oas === 48 || cfg.ias === 48)) ||
      (pg === 12 && startLevel === 0 && (cfg.oas === 40 || cfg.oas === 42)) ||
      (pg === 14 && startLevel === 1 && cfg.oas === 40));
  if (!concat) return { startLevel, indexBits, tables: 1 };
  return { startLevel: startLevel + 1, indexBits: indexBits + bpl, tables: 2 ** indexBits };
}

const mem = newMem();

test("the matrix has the 126 configurations of the Linux selftest", () => {
  expect(CASES.length).toBe(126);
});

test.for(CASES)("$name", ({ cfg, sizes }) => {
  const pt = createPageTable(armv8(cfg), { mem });
  const info = pt.info();
  expect(info.pgsizes).toEqual(sizes);

  const top = expectedTop(cfg);
  expect(info.topLevel).toBe(3 - top.startLevel);
  expect(info.startLevel).toBe(top.startLevel);
  expect(pt.allocator.sizeLg2Of(Number(info.root))).toBe(Math.max(6, top.indexBits + 3));
  if (cfg.stage === 2) {
    expect(info.concatenatedTables).toBe(top.tables);
    // QEMU decodes the start level as 2 - SL0 for the 4K granule and 3 - SL0 otherwise.
    expect((cfg.granule === 4096 ? 2 : 3) - (info.sl0 as number)).toBe(top.startLevel);
  }

  // Empty page tables provide no translations.
  for (const iova of [42n, G + 42n, 2n * G + 42n]) {
    expect(pt.iovaToPhys(iova)).toBeUndefined();
    expect(walk(pt, cfg, iova)).toMatchObject({ ok: false, kind: "translation" });
  }

  // Distinct mappings of each page size, 1 GiB apart; an overlapping map fails and changes nothing.
  let iova = 0n;
  for (const size of sizes) {
    pt.map(iova, iova, size, Prot.READ | Prot.WRITE | Prot.NOEXEC | Prot.CACHE);
    expectUnchanged(pt, () => pt.map(iova, iova + size, size, Prot.READ | Prot.NOEXEC), "EADDRINUSE");
    expect(pt.iovaToPhys(iova + 42n)).toBe(iova + 42n);
    const hit = walk(pt, cfg, iova + 42n, "write");
    expect(hit).toMatchObject({ ok: true, pa: iova + 42n, pageLg2: size.toString(2).length - 1 });
    iova += G;
  }

  // Full unmap, then remap each size write-only.
  iova = 0n;
  for (const size of sizes) {
    expect(pt.unmap(iova, size)).toBe(size);
    expect(pt.iovaToPhys(iova + 42n)).toBeUndefined();
    expect(walk(pt, cfg, iova + 42n)).toMatchObject({ ok: false, kind: "translation" });
    pt.map(iova, iova, size, Prot.WRITE);
    expect(pt.iovaToPhys(iova + 42n)).toBe(iova + 42n);
    expect(walk(pt, cfg, iova + 42n, "write")).toMatchObject({ ok: true, pa: iova + 42n });
    // Stage 2 can say write-only; stage 1 cannot (AP has no write-only encoding), so reads still pass there.
    expect(walk(pt, cfg, iova + 42n, "read").ok).toBe(cfg.stage === 1);
    iova += G;
  }

  // The last largest page of the input range: the last slot of a concatenated top.
  const size = sizes[sizes.length - 1]!;
  iova = (1n << BigInt(cfg.ias)) - size;
  pt.map(iova, iova, size, Prot.READ | Prot.WRITE | Prot.NOEXEC | Prot.CACHE);
  expect(pt.iovaToPhys(iova + size - 1n)).toBe(iova + size - 1n);
  expect(walk(pt, cfg, iova + size - 1n)).toMatchObject({ ok: true, pa: iova + size - 1n });
  expect(pt.unmap(iova, size)).toBe(size);
  expect(pt.iovaToPhys(iova)).toBeUndefined();
  finish(pt);
});
