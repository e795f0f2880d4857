// Known answers for the example's encodings, each built from named spec bits rather than the format's
// constants: a 4 KiB leaf, a table pointer, and a Svnapot 64 KiB entry replicated over its 16 PTEs.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, Prot } from "@genpt/core";
import { describe, expect, it } from "vitest";
import { riscv, riscvWalker } from "../src/index.js";

const V = 1n << 0n;
const R = 1n << 1n;
const W = 1n << 2n;
const X = 1n << 3n;
const U = 1n << 4n;
const A = 1n << 6n;
const D = 1n << 7n;
const N = 1n << 63n;
const PBMT_IO = 2n << 61n;
const ppn = (pa: bigint) => (pa >> 12n) << 10n; // PPN in bits 53:10

function table() {
  const mem = new PhysMem({ base: 0x8000_0000n, size: 4n << 20n });
  const pt = createPageTable(riscv({ mode: "sv39" }), { mem, features: { signExtend: true } });
  return { mem, pt };
}

/** The raw PTE translating `iova`, found by the example's hardware walker. */
function pteOf(pt: ReturnType<typeof table>["pt"], mem: PhysMem, iova: bigint): bigint {
  const { root, topLevel } = pt.info();
  const r = riscvWalker({ mode: "sv39" }).translate(
    mem,
    { root, topLevel, accessDirty: false },
    iova,
    "read",
  );
  if (!r.ok) throw new Error(r.detail);
  return mem.readU64(r.pteAddr);
}

describe("riscv encodings", () => {
  it("a read/write 4 KiB leaf is V|R|W|X|U|A|D with the PPN at bit 10, and its table pointer is V alone", () => {
    const { mem, pt } = table();
    pt.map(0x1000n, 0x1234_5000n, 0x1000n, Prot.READ | Prot.WRITE);
    expect(pteOf(pt, mem, 0x1000n)).toBe(ppn(0x1234_5000n) | V | R | W | X | U | A | D);
    const top = pt.info().root;
    const pointer = mem.readU64(top); // VPN[2] = 0
    expect(pointer & 0x3ffn).toBe(V);
    pt.destroy();
    pt.allocator.assertNoLeaks(pt.owner);
  });

  it("Svnapot 64 KiB: 16 identical PTEs with N set and ppn[3:0] = 0b1000", () => {
    const { mem, pt } = table();
    pt.map(0x1_0000n, 0x4_0000n, 0x1_0000n, Prot.READ | Prot.NOEXEC | Prot.MMIO);
    const want = N | PBMT_IO | ppn(0x4_0000n) | (0b1000n << 10n) | V | R | U | A;
    for (let i = 0n; i < 16n; i++) expect(pteOf(pt, mem, 0x1_0000n + i * 0x1000n)).toBe(want);
    expect(pt.census().leaves[16]).toBe(1);
    pt.destroy();
    pt.allocator.assertNoLeaks(pt.owner);
  });

  it("write-only prot is refused (W without R is reserved) and changes nothing", () => {
    const { mem, pt } = table();
    const before = mem.hash();
    expect(() => pt.map(0x1000n, 0x1000n, 0x1000n, Prot.WRITE)).toThrow(/reserved/);
    expect(mem.hash()).toBe(before);
    pt.destroy();
    pt.allocator.assertNoLeaks(pt.owner);
  });

  it("rejects an unknown mode", () => {
    expect(() => riscv({ mode: "sv57" as "sv39" })).toThrow(/"sv57"/);
  });
});
