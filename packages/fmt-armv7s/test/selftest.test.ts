// Linux's io-pgtable-arm-v7s selftest scenario (ARM_NS, 4K/64K/1M/16M), through the genpt API: empty
// tables translate nothing; one mapping of each size 16M apart; an overlapping map fails; iova_to_phys is
// right and the hardware walker agrees; then everything is unmapped and remapped write-only.
// Old kernels split a large entry on a partial unmap; genpt, like newer kernels, refuses (EINVAL).
import { expectUnchanged, finish, newTable } from "@genpt/conformance";
import { type PageTable, Prot } from "@genpt/core";
import { expect, test } from "vitest";
import { armv7s } from "../src/index.js";
import { walk } from "./helpers.js";

const SZ_4K = 0x1000n;
const SZ_16M = 0x100_0000n;
const SZ_1G = 0x4000_0000n;
const SIZES = [0x1000n, 0x1_0000n, 0x10_0000n, 0x100_0000n];

/** iovaToPhys and the walker both give `pa` (or both nothing) for `iova`. */
function agree(pt: PageTable<unknown>, iova: bigint, pa: bigint | undefined): void {
  expect(pt.iovaToPhys(iova)).toBe(pa);
  const r = walk(pt, iova);
  if (pa === undefined) expect(r).toMatchObject({ ok: false, kind: "translation" });
  else expect(r).toMatchObject({ ok: true, pa });
}

test("v7s selftest: map each size, overmap fails, translate, unmap all and remap", () => {
  const pt = newTable(armv7s({ ns: true, supersections: true }));
  expect(pt.info().pgsizes).toEqual(SIZES);

  // Empty page tables give no translation.
  for (const iova of [42n, SZ_1G + 42n, 2n * SZ_1G + 42n]) agree(pt, iova, undefined);

  // Distinct mappings of each size, identity-mapped 16M apart.
  let iova = 0n;
  for (const size of SIZES) {
    pt.map(iova, iova, size, Prot.READ | Prot.WRITE | Prot.NOEXEC | Prot.CACHE);
    expectUnchanged(pt, () => pt.map(iova, iova + size, size, Prot.READ | Prot.NOEXEC), "EADDRINUSE");
    agree(pt, iova + 42n, iova + 42n);
    const r = walk(pt, iova + 42n);
    expect(r.ok && r.pageLg2).toBe(size.toString(2).length - 1);
    iova += SZ_16M;
  }
  // Exactly one entry of each size (the 64K and 16M ones are 16 identical items each), two L2 tables (for the 4K at 0 and the 64K at 16M).
  const census = pt.census();
  expect(census.leaves).toEqual({ 12: 1, 16: 1, 20: 1, 24: 1 });
  expect(census.leafItems).toBe(1 + 16 + 1 + 16);
  expect(census.tables).toEqual({ 0: 2, 1: 1 });

  // A partial unmap inside each large entry is refused and changes nothing.
  for (let i = 1n; i < BigInt(SIZES.length); i++) {
    expectUnchanged(pt, () => pt.unmap(i * SZ_16M + SZ_4K, SZ_4K), "EINVAL", /inside/);
  }

  // Full unmap of each, then remap write-only (which v7s expresses as read-write).
  iova = 0n;
  for (const size of SIZES) {
    expect(pt.unmap(iova, size)).toBe(size);
    agree(pt, iova + 42n, undefined);
    pt.map(iova, iova, size, Prot.WRITE);
    agree(pt, iova + 42n, iova + 42n);
    expect(walk(pt, iova + 42n, "write").ok).toBe(true);
    iova += SZ_16M;
  }
  finish(pt);
});

test("unmap reports the whole entry when the range ends inside it", () => {
  const pt = newTable(armv7s({ supersections: true }));
  pt.map(SZ_16M, 0x4000_0000n, SZ_16M, Prot.READ);
  pt.map(0x1_0000n, 0x5000_0000n, 0x1_0000n, Prot.READ);
  // 4K from the start of the 16M supersection removes all 16M (16 identical L1 slots).
  expect(pt.unmap(SZ_16M, SZ_4K)).toBe(SZ_16M);
  expect(pt.unmap(0x1_0000n, SZ_4K)).toBe(0x1_0000n);
  agree(pt, SZ_16M + 0xff_ffffn, undefined);
  agree(pt, 0x1_fffcn, undefined);
  finish(pt);
});
