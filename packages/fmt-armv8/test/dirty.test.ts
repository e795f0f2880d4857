// The DBM dirty lifecycle (formats.md §1.4), stage 1 and stage 2, with the contiguous hint on and off:
// Linux creates writable leaves already dirty, so the first harvest reports them all; after clean and
// sync, a DMA write through the walker with HTTU dirties exactly the item written; readAndClearDirty
// reports the whole (contiguous) entry and cleans every item; noClear reports and changes nothing.
import { expectPtError, finish, newMem } from "@genpt/conformance";
import { createPageTable, Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { type Armv8Config, armv8 } from "../src/index.js";
import { bit, leafAt, walk } from "./helpers.js";

const { READ: R, WRITE: W } = Prot;
const mem = newMem();
const A = 0x10_0000n; // 64K read-write: sixteen 4K pages, or one contiguous entry
const B = 0x20_0000n; // 2M read-write block
const C = 0x40_0000n; // 4K read-only
const DBM = bit(51);
const BIT7 = bit(7); // AP[2] (read-only) at stage 1, S2AP[1] (write) at stage 2

describe.for([
  { stage: 1, contig: false },
  { stage: 1, contig: true },
  { stage: 2, contig: false },
  { stage: 2, contig: true },
] as const)("stage $stage, contig $contig", ({ stage, contig }) => {
  const cfg: Armv8Config = { granule: 4096, stage, ias: 48, oas: 48, dbm: true, contig };
  // Stage 1 is clean with AP[2] set; stage 2 is clean with S2AP[1] clear.
  const isClean = (pte: bigint) =>
    (pte & DBM) !== 0n && (stage === 1 ? (pte & BIT7) !== 0n : (pte & BIT7) === 0n);
  const itemsOfA = Array.from({ length: 16 }, (_, i) => A + BigInt(i) * 0x1000n);

  test("lifecycle", () => {
    const pt = createPageTable(armv8(cfg), { mem });
    pt.map(A, 0x5000_0000n, 0x1_0000n, R | W);
    pt.map(B, 0x6000_0000n, 0x20_0000n, R | W);
    pt.map(C, 0x7000_0000n, 0x1000n, R);
    expect(leafAt(pt, cfg, A).pte & bit(52)).toBe(contig ? bit(52) : 0n);

    // Writable leaves start writable-dirty: the first harvest reports every one, never the read-only page.
    expect(pt.readAndClearDirty(0n, 0x100_0000n)).toEqual([
      { iova: A, size: 0x1_0000n },
      { iova: B, size: 0x20_0000n },
    ]);
    for (const iova of [...itemsOfA, B]) expect(isClean(leafAt(pt, cfg, iova).pte)).toBe(true);
    expect(pt.readAndClearDirty(0n, 0x100_0000n)).toEqual([]);

    // Without HTTU a write to a clean leaf faults; with it, only the item written becomes dirty.
    const written = A + 0x3000n;
    expect(walk(pt, cfg, written, "write", false)).toMatchObject({ ok: false, kind: "permission" });
    const before = itemsOfA.map((iova) => leafAt(pt, cfg, iova).pte);
    expect(walk(pt, cfg, written + 0x10n, "write", true)).toMatchObject({
      ok: true,
      pa: 0x5000_3010n,
      dirty: true,
    });
    itemsOfA.forEach((iova, i) => {
      const pte = leafAt(pt, cfg, iova).pte;
      expect(pte).toBe(iova === written ? before[i]! ^ BIT7 : before[i]!);
    });
    // A read with HTTU changes nothing.
    const hash = mem.hash();
    expect(walk(pt, cfg, B + 0x42n, "read", true)).toMatchObject({ ok: true, dirty: false });
    expect(mem.hash()).toBe(hash);

    // Dirty is reported at entry granularity: the whole contiguous entry, or the one page.
    const expected = contig ? [{ iova: A, size: 0x1_0000n }] : [{ iova: written, size: 0x1000n }];
    expect(pt.readAndClearDirty(0n, 0x100_0000n, { noClear: true })).toEqual(expected);
    expect(mem.hash()).toBe(hash);
    expect(pt.readAndClearDirty(0n, 0x100_0000n)).toEqual(expected);
    for (const iova of itemsOfA) expect(isClean(leafAt(pt, cfg, iova).pte)).toBe(true);
    expect(pt.readAndClearDirty(0n, 0x100_0000n)).toEqual([]);

    // The setDirty test hook dirties like the hardware; read-only leaves are not tracked.
    expect(pt.setDirty(B + 0x1000n)).toBe(true);
    expect(pt.setDirty(C)).toBe(false);
    expect(walk(pt, cfg, C, "write", true)).toMatchObject({ ok: false, kind: "permission" });
    expect(pt.readAndClearDirty(0n, 0x100_0000n)).toEqual([{ iova: B, size: 0x20_0000n }]);
    finish(pt);
  });
});

test("without dbm there is no dirty tracking", () => {
  const cfg: Armv8Config = { granule: 4096, stage: 1, ias: 48, oas: 48 };
  const fmt = armv8(cfg);
  expect(fmt.dirty).toBeUndefined();
  const pt = createPageTable(fmt, { mem });
  pt.map(A, 0x5000_0000n, 0x1000n, R | W);
  expect(leafAt(pt, cfg, A).pte & DBM).toBe(0n);
  expectPtError(() => pt.readAndClearDirty(0n, 0x1000_0000n), "EOPNOTSUPP");
  expect(pt.info().dirtyTracking).toBe(false);
  finish(pt);
});
