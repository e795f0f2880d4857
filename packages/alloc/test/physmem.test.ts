// PhysMem: construction rules, bounds and alignment errors, word access, snapshot, hash, lazy chunks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PhysMem } from "../src/index.js";
import { expectPtError } from "./helpers.js";

describe("PhysMem construction", () => {
  it("accepts every power of two from 4 KiB, with base/end/number views", () => {
    for (let lg2 = 12n; lg2 <= 40n; lg2++) {
      const mem = new PhysMem({ base: 0x1000n, size: 1n << lg2 });
      expect(mem.size).toBe(1n << lg2);
      expect(mem.end).toBe(0x1000n + (1n << lg2));
      expect(mem.endNum).toBe(Number(mem.end));
      expect(mem.baseNum).toBe(0x1000);
      expect(mem.sizeNum).toBe(2 ** Number(lg2));
      expect(mem.touchedChunks()).toBe(0);
    }
    expect(new PhysMem({ size: 4096n }).base).toBe(0n);
    expect(PhysMem.CHUNK_BYTES).toBe(1 << 20);
  });

  it("rejects a bad size or base with EINVAL", () => {
    expectPtError(() => new PhysMem({ size: 0n }), "EINVAL", /size/);
    expectPtError(() => new PhysMem({ size: 2048n }), "EINVAL", /size/);
    expectPtError(() => new PhysMem({ size: 12288n }), "EINVAL", /power of two/);
    expectPtError(() => new PhysMem({ size: -4096n }), "EINVAL", /size/);
    expectPtError(() => new PhysMem({ size: 4096 as unknown as bigint }), "EINVAL", /bigint/);
    expectPtError(() => new PhysMem({ base: 0x800n, size: 4096n }), "EINVAL", /aligned/);
    expectPtError(() => new PhysMem({ base: -4096n, size: 4096n }), "EINVAL", /base/);
    expectPtError(() => new PhysMem({ base: 1n << 53n, size: 4096n }), "EINVAL", /2\^53/);
    expectPtError(() => new PhysMem({ size: 1n << 54n }), "EINVAL", /2\^53/);
  });
});

describe("PhysMem access", () => {
  const mem = new PhysMem({ base: 0x4000_0000n, size: 1n << 16n });

  it("round-trips 32 and 64-bit values little-endian", () => {
    mem.writeU64(0x4000_0008n, 0x1122_3344_5566_7788n);
    expect(mem.readU32(0x4000_0008n)).toBe(0x5566_7788);
    expect(mem.readU32(0x4000_000cn)).toBe(0x1122_3344);
    expect(mem.snapshot(0x4000_0008n, 8n)).toEqual(
      new Uint8Array([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]),
    );
    mem.writeU32(0x4000_0010n, 0xffff_ffff);
    expect(mem.readU32(0x4000_0010n)).toBe(0xffff_ffff);
    mem.writeU32(0x4000_0010n, -1); // a negative int32 is stored as its two's complement
    expect(mem.read32(0x4000_0010)).toBe(0xffff_ffff);
    mem.write32(0x4000_0014, 0x8000_0000);
    expect(mem.readU64(0x4000_0010n)).toBe(0x8000_0000_ffff_ffffn);
    mem.writeU64(0x4000_0018n, (1n << 64n) - 1n);
    expect(mem.readU64(0x4000_0018n)).toBe((1n << 64n) - 1n);
  });

  it("round-trips arbitrary values (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(8191), (v, slot) => {
        const pa = mem.base + BigInt(slot) * 8n;
        mem.writeU64(pa, v);
        expect(mem.readU64(pa)).toBe(v);
        expect(mem.readU32(pa)).toBe(Number(v & 0xffff_ffffn));
        expect(mem.readU32(pa + 4n)).toBe(Number(v >> 32n));
        const bytes = mem.snapshot(pa, 8n);
        let back = 0n;
        for (let i = 7; i >= 0; i--) back = (back << 8n) | BigInt(bytes[i]!);
        expect(back).toBe(v);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it("raises ERANGE outside the space, naming the address and the space", () => {
    expectPtError(() => mem.readU32(0x3fff_fffcn), "ERANGE", /0x3ffffffc.*0x40000000/);
    expectPtError(() => mem.readU32(0x4001_0000n), "ERANGE", /0x40010000/);
    expectPtError(() => mem.readU64(0x4000_fffcn), "ERANGE"); // the 8 bytes run past the end
    expectPtError(() => mem.readU64(0x4001_0000n), "ERANGE");
    expectPtError(() => mem.writeU64(0x4001_0000n, 1n), "ERANGE");
    expectPtError(() => mem.read32(0x4001_0000), "ERANGE");
    expectPtError(() => mem.write32(0x3fff_f000, 0), "ERANGE");
    expectPtError(() => mem.chunk(0x4001_0000), "ERANGE");
    expectPtError(() => mem.chunk(Number.NaN), "ERANGE");
    expectPtError(() => mem.snapshot(0x4000_fff0n, 0x20n), "ERANGE");
    expectPtError(() => mem.hash(0x4000_0000n, 0x2_0000n), "ERANGE");
    expectPtError(() => mem.fill32(0x4000_fff0, 0x20, 0), "ERANGE");
  });

  it("raises EINVAL for misaligned access and bad values", () => {
    expectPtError(() => mem.readU32(0x4000_0002n), "EINVAL", /0x40000002.*4-byte aligned/);
    expectPtError(() => mem.writeU32(0x4000_0001n, 0), "EINVAL", /aligned/);
    expectPtError(() => mem.readU64(0x4000_0004n), "EINVAL", /8-byte aligned/);
    expectPtError(() => mem.writeU64(0x4000_0004n, 0n), "EINVAL", /8-byte aligned/);
    expectPtError(() => mem.read32(0x4000_0003), "EINVAL");
    expectPtError(() => mem.write32(0x4000_0002, 1), "EINVAL");
    expectPtError(() => mem.fill32(0x4000_0000, 6, 0), "EINVAL");
    expectPtError(() => mem.writeU32(0x4000_0000n, 2 ** 32), "EINVAL", /32-bit/);
    expectPtError(() => mem.writeU32(0x4000_0000n, 1.5), "EINVAL");
    expectPtError(() => mem.writeU64(0x4000_0000n, -1n), "EINVAL", /2\^64/);
    expectPtError(() => mem.writeU64(0x4000_0000n, 1n << 64n), "EINVAL");
    expectPtError(() => mem.snapshot(0x4000_0000n, -1n), "EINVAL", /negative/);
    expectPtError(() => mem.hash(0x4000_0002n, 4n), "EINVAL");
    expectPtError(() => mem.hash(0x4000_0000n, 6n), "EINVAL");
  });

  it("exposes chunk/wordIndex for hot loops, consistent with read32", () => {
    const pa = 0x4000_1238;
    const c = mem.chunk(pa);
    c[mem.wordIndex(pa)] = 0xabcd_ef01;
    expect(mem.read32(pa)).toBe(0xabcd_ef01);
    expect(mem.contains(pa, 8)).toBe(true);
    expect(mem.contains(0x4000_fff8, 16)).toBe(false);
    expect(mem.contains(0x3fff_fff8, 4)).toBe(false);
  });

  it("fills across chunk boundaries", () => {
    const big = new PhysMem({ size: 4n << 20n });
    big.fill32((1 << 20) - 8, 16, 0x5a5a_5a5a);
    expect(big.read32((1 << 20) - 12)).toBe(0);
    expect(big.read32((1 << 20) - 8)).toBe(0x5a5a_5a5a);
    expect(big.read32((1 << 20) + 4)).toBe(0x5a5a_5a5a);
    expect(big.read32((1 << 20) + 8)).toBe(0);
    expect(big.touchedChunks()).toBe(2);
    big.fill32(3 << 20, 4096, 0); // zero over untouched memory materialises nothing
    expect(big.touchedChunks()).toBe(2);
  });
});

describe("PhysMem hash and laziness", () => {
  it("depends only on content", () => {
    const a = new PhysMem({ size: 4n << 20n });
    const b = new PhysMem({ size: 4n << 20n });
    expect(a.hash()).toMatch(/^[0-9a-f]{16}$/);
    expect(a.hash()).toBe(b.hash());
    b.chunk(2 << 20); // materialised all-zero chunk
    b.write32(3 << 20, 7);
    b.write32(3 << 20, 0);
    expect(b.touchedChunks()).toBe(2);
    expect(b.hash()).toBe(a.hash());
    a.write32(0x10, 1);
    expect(a.hash()).not.toBe(b.hash());
    b.write32(0x10, 1);
    expect(a.hash()).toBe(b.hash());
    // Same word at another address hashes differently, as does a different range length.
    b.write32(0x10, 0);
    b.write32(0x14, 1);
    expect(a.hash()).not.toBe(b.hash());
    expect(a.hash(0n, 0x1000n)).not.toBe(a.hash(0n, 0x2000n));
    expect(a.hash(0x1000n, 0x1000n)).toBe(b.hash(0x1000n, 0x1000n));
  });

  it("hashes a range the same whichever chunks happen to exist (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat((4 << 18) - 1), fc.nat(0xffff_ffff)), { maxLength: 12 }),
        fc.array(fc.nat(3), { maxLength: 4 }),
        fc.nat((4 << 18) - 1),
        fc.nat(1 << 16),
        (writes, touch, w0, nWords) => {
          const a = new PhysMem({ size: 4n << 20n });
          const b = new PhysMem({ size: 4n << 20n });
          for (const [w, v] of writes) {
            a.write32(w * 4, v);
            b.write32(w * 4, v);
          }
          for (const k of touch) b.chunk(k << 20);
          expect(b.hash()).toBe(a.hash());
          const len = Math.min(nWords, (4 << 18) - w0) * 4;
          expect(b.hash(BigInt(w0 * 4), BigInt(len))).toBe(a.hash(BigInt(w0 * 4), BigInt(len)));
        },
      ),
      { seed: 7, numRuns: 60 },
    );
  });

  it("keeps a 2^40-byte space lazy and hashes it quickly", () => {
    const mem = new PhysMem({ base: 0x10_0000_0000n, size: 1n << 40n });
    const empty = mem.hash();
    mem.writeU64(0x10_0000_0000n + (1n << 39n), 0xdead_beef_0000_0001n);
    mem.writeU32(mem.end - 4n, 3);
    expect(mem.touchedChunks()).toBe(2);
    expect(mem.readU64(mem.base + 8n)).toBe(0n); // reads do not materialise
    expect(mem.touchedChunks()).toBe(2);
    expect(mem.readU64(0x10_0000_0000n + (1n << 39n))).toBe(0xdead_beef_0000_0001n);
    const h = mem.hash();
    expect(h).not.toBe(empty);
    mem.writeU64(0x10_0000_0000n + (1n << 39n), 0n);
    mem.writeU32(mem.end - 4n, 0);
    expect(mem.hash()).toBe(empty);
  });

  it("supports bases that are not chunk aligned", () => {
    const mem = new PhysMem({ base: 0xf_f000n, size: 1n << 21n });
    mem.write32(0xf_fffc, 1);
    mem.write32(0x10_0000, 2);
    expect(mem.chunk(0xf_fffc)).not.toBe(mem.chunk(0x10_0000));
    expect(mem.readU64(0xf_fff8n)).toBe(1n << 32n);
    expect(mem.snapshot(0xf_fffcn, 8n)).toEqual(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
    expectPtError(() => mem.read32(0xf_effc), "ERANGE");
    expect(mem.read32(0x2f_effc)).toBe(0);
    expectPtError(() => mem.read32(0x2f_f000), "ERANGE");
  });

  it("snapshots a copy", () => {
    const mem = new PhysMem({ size: 8192n });
    mem.write32(4096, 0x0403_0201);
    const snap = mem.snapshot(4094n, 8n);
    expect(snap).toEqual(new Uint8Array([0, 0, 1, 2, 3, 4, 0, 0]));
    mem.write32(4096, 0);
    expect(snap[2]).toBe(1);
    expect(mem.snapshot(0n, 0n).length).toBe(0);
  });
});
