// Known-answer encodings: every expected entry is built here from literal bit positions of
// reference/formats.md §3, never from the format's constants.
import { expectOneLeaf, finish, GiB, KiB, MiB, newTable, rawAt, slotAddr } from "@genpt/conformance";
import { Prot } from "@genpt/core";
import { describe, expect, test } from "vitest";
import { amdv1, amdv1Walker } from "../src/index.js";

// §3.2 entry bits.
const PR = 1n << 0n; // present
const NL = (n: bigint) => n << 9n; // NextLevel, bits [11:9]
const FC = 1n << 60n; // force coherent (PTE)
const IR = 1n << 61n; // read permission
const IW = 1n << 62n; // write permission
const ADDR = ((1n << 52n) - 1n) & ~0xfffn; // bits [51:12]

interface SizeCase {
  readonly name: string;
  readonly size: bigint;
  readonly iova: bigint;
  readonly pa: bigint;
  /** generic_pt level holding the entry (§3.3: the level whose default size is just below). */
  readonly level: number;
  /** 2^((log2 size - 12) mod 9) identical copies (§3.3). */
  readonly copies: number;
  /** The address field, bits [51:12], with the §3.3 size marker for NextLevel 7. */
  readonly field: bigint;
  readonly nl: bigint;
}

const sizes: SizeCase[] = [
  // 4K at spec level 1: NL 0, the page base alone.
  {
    name: "4K",
    size: 4n * KiB,
    iova: 0x1000n,
    pa: 0x12_3456_7000n,
    level: 0,
    copies: 1,
    field: 0x12_3456_7000n,
    nl: 0n,
  },
  // 8K: NL 7; no ones (bits [n-2:12] = [11:12] is empty) and bit 12 = 0; 2 copies.
  {
    name: "8K",
    size: 8n * KiB,
    iova: 0x4000n,
    pa: 0x12_3456_6000n,
    level: 0,
    copies: 2,
    field: 0x12_3456_6000n,
    nl: 7n,
  },
  // 64K: NL 7; bits [14:12] = 111 (0x7000), bit 15 = 0; 16 copies.
  {
    name: "64K",
    size: 64n * KiB,
    iova: 0x10_0000n,
    pa: 0x12_3450_0000n,
    level: 0,
    copies: 16,
    field: 0x12_3450_0000n | 0x7000n,
    nl: 7n,
  },
  // 1M: NL 7; bits [18:12] = 1 (0x7f000), bit 19 = 0; 256 copies.
  {
    name: "1M",
    size: 1n * MiB,
    iova: 0x10_0000n,
    pa: 0x12_3410_0000n,
    level: 0,
    copies: 256,
    field: 0x12_3410_0000n | 0x7_f000n,
    nl: 7n,
  },
  // 2M at spec level 2: NL 0, the page base alone.
  {
    name: "2M",
    size: 2n * MiB,
    iova: 0x20_0000n,
    pa: 0x12_3460_0000n,
    level: 1,
    copies: 1,
    field: 0x12_3460_0000n,
    nl: 0n,
  },
  // 4M at spec level 2: NL 7; bits [20:12] = 1 (0x1ff000), bit 21 = 0; 2 copies.
  {
    name: "4M",
    size: 4n * MiB,
    iova: 0x40_0000n,
    pa: 0x12_3480_0000n,
    level: 1,
    copies: 2,
    field: 0x12_3480_0000n | 0x1f_f000n,
    nl: 7n,
  },
  // 1G at spec level 3: NL 0, the page base alone.
  {
    name: "1G",
    size: GiB,
    iova: 0x4000_0000n,
    pa: 0x12_4000_0000n,
    level: 2,
    copies: 1,
    field: 0x12_4000_0000n,
    nl: 0n,
  },
  // 16G at spec level 3: NL 7; bits [32:12] = 1 (the run crosses into the high word), bit 33 = 0; 16 copies.
  {
    name: "16G",
    size: 16n * GiB,
    iova: 0x4_0000_0000n,
    pa: 0x14_0000_0000n,
    level: 2,
    copies: 16,
    field: 0x14_0000_0000n | 0x1_ffff_f000n,
    nl: 7n,
  },
];

// §3.4: leaf = PR | FC | (IR if READ) | (IW if WRITE) | NL.
const prots = [
  { name: "read-only", prot: Prot.READ, perm: IR },
  { name: "write-only", prot: Prot.WRITE, perm: IW },
  { name: "read-write", prot: Prot.READ | Prot.WRITE, perm: IR | IW },
];

describe("amdv1 leaf encodings (§3.3, §3.4)", () => {
  for (const s of sizes) {
    for (const p of prots) {
      test(`${s.name} ${p.name}`, () => {
        const pt = newTable(amdv1());
        pt.map(s.iova, s.pa, s.size, p.prot);
        const expected = s.field | PR | NL(s.nl) | FC | p.perm;
        const first = slotAddr(pt, s.iova, s.level);
        for (let i = 0; i < s.copies; i++) expect(pt.mem.readU64(first + BigInt(i) * 8n)).toBe(expected);
        // The run is exactly `copies` slots long: its neighbours are empty.
        const index = (first & 0xfffn) / 8n;
        if (index > 0n) expect(pt.mem.readU64(first - 8n)).toBe(0n);
        if (index + BigInt(s.copies) < 512n) expect(pt.mem.readU64(first + BigInt(s.copies) * 8n)).toBe(0n);
        // One leaf in the census, and the hardware walker decodes the same page from the raw entry.
        expectOneLeaf(pt, amdv1Walker(), { ...s, prot: p.prot });
        finish(pt);
      });
    }
  }

  test("forceCoherence off drops FC and nothing else", () => {
    const pt = newTable(amdv1({ forceCoherence: false }));
    pt.map(0x1000n, 0x5000n, 4n * KiB, Prot.READ | Prot.WRITE);
    // §3.4 without FORCE_COHERENCE: PR | IR | IW | NL 0 | page 0x5000.
    expect(rawAt(pt, 0x1000n, 0)).toBe(0x5000n | PR | NL(0n) | IR | IW);
    finish(pt);
  });

  test("CACHE, NOEXEC, MMIO and PRIV are ignored (§3.4)", () => {
    const pt = newTable(amdv1());
    pt.map(
      0x1000n,
      0x5000n,
      4n * KiB,
      Prot.READ | Prot.WRITE | Prot.CACHE | Prot.NOEXEC | Prot.MMIO | Prot.PRIV,
    );
    // §3.4: PR | FC | IR | IW | NL 0 | page 0x5000, as for plain READ|WRITE.
    expect(rawAt(pt, 0x1000n, 0)).toBe(0x5000n | PR | NL(0n) | FC | IR | IW);
    finish(pt);
  });
});

describe("amdv1 table entries (§3.2, §3.4)", () => {
  test("a PDE is PR | IR | IW | NextLevel = the spec level of the table it points at", () => {
    const pt = newTable(amdv1());
    pt.map(0x1000n, 0x5000n, 4n * KiB, Prot.READ);
    expect(pt.info().topLevel).toBe(2);
    // Mode 3 root (generic level 2): slot 0 points at a spec level-2 table, so NextLevel = 2.
    const l2 = rawAt(pt, 0x1000n, 2);
    expect(l2 & ~ADDR).toBe(PR | NL(2n) | IR | IW);
    // Generic level 1: slot 0 points at the spec level-1 table (of 4K pages), so NextLevel = 1.
    const l1 = rawAt(pt, 0x1000n, 1);
    expect(l1 & ~ADDR).toBe(PR | NL(1n) | IR | IW);
    // The pointers are tables of this page table, 4 KiB aligned.
    for (const e of [l2, l1]) expect(pt.allocator.ownerOf(Number(e & ADDR))).toBe(pt.owner);
    finish(pt);
  });

  test("info() gives the DTE fields: root, Mode = top level + 1, HAD = 11b", () => {
    const pt = newTable(amdv1());
    const info = pt.info();
    expect(info.topLevel).toBe(2);
    expect(info.hw).toEqual({ hostPtRoot: info.root, mode: 3, had: 3 });
    expect(info.mode).toBe(3);
    // The DTE holds the root in bits [51:12]: page aligned.
    expect(info.root & 0xfffn).toBe(0n);
    expect(info.vaBits).toBe(64);
    expect(info.oaBits).toBe(52);
    finish(pt);
  });
});
