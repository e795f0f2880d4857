// PhysMem: the simulated physical address space, a lazily materialised arena of Uint32Array chunks.
//
// Chunks are aligned to absolute multiples of their size (1 MiB, or the whole space when it is smaller),
// so a naturally aligned table of at most that size never straddles two chunks even when `base` is only
// 4 KiB aligned. When `base` is chunk aligned, chunk k covers [base + k*CHUNK, base + (k+1)*CHUNK).

import { hex, PtError } from "./errors.js";
import { hashHex, hashInit, hashWords, hashZeroWords } from "./hash.js";

/** Constructor options of {@link PhysMem}. */
export interface PhysMemOptions {
  /** First byte of the space; 4 KiB aligned; default 0n. */
  base?: bigint;
  /** Size in bytes: a power of two, at least 4096. */
  size: bigint;
}

const MAX_SAFE_END = 2 ** 53;
/** Above this many chunks the chunk table is a Map instead of a dense array. */
const DENSE_LIMIT = 1 << 16;

function isPow2(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/**
 * A simulated physical address space holding page-table memory as little-endian 32-bit words.
 * Chunks are created zero-filled on first write, so a 1 TiB space costs nothing until used.
 *
 * @example
 * const mem = new PhysMem({ base: 0x8000_0000n, size: 256n << 20n });
 * mem.writeU64(0x8000_0000n, 0x1234_5678_9abc_def0n);
 * mem.readU32(0x8000_0004n); // 0x12345678 (the high word)
 */
export class PhysMem {
  /** Bytes per chunk of the arena: 1 MiB. */
  static readonly CHUNK_BYTES: number = 1 << 20;

  readonly base: bigint;
  readonly size: bigint;
  readonly end: bigint;
  readonly baseNum: number;
  readonly sizeNum: number;
  readonly endNum: number;
  /** Bytes per chunk of this space: CHUNK_BYTES, or the size when the space is smaller. */
  readonly chunkBytes: number;

  private readonly chunkMask: number;
  private readonly chunkBase: number;
  private readonly invChunk: number;
  private readonly nChunks: number;
  private readonly dense: (Uint32Array | undefined)[] | undefined;
  private readonly sparse: Map<number, Uint32Array> | undefined;
  private touched: number[] = [];
  private touchedSorted = true;
  // One-entry cache: walks touch the same chunk many times in a row.
  private lastK = -1;
  private lastChunk: Uint32Array = new Uint32Array(0);

  constructor(opts: PhysMemOptions) {
    const base = opts?.base ?? 0n;
    const size = opts?.size;
    if (typeof base !== "bigint" || base < 0n || base % 4096n !== 0n) {
      throw new PtError(
        "EINVAL",
        `PhysMem base ${String(base)} must be a non-negative bigint, 4 KiB aligned`,
      );
    }
    if (typeof size !== "bigint" || size < 4096n || !isPow2(size)) {
      throw new PtError("EINVAL", `PhysMem size ${String(size)} must be a bigint power of two >= 4096`);
    }
    if (base + size > BigInt(MAX_SAFE_END)) {
      throw new PtError(
        "EINVAL",
        `PhysMem [${hex(base)}, ${hex(base + size)}) must end at or below 2^53 (addresses are exact numbers)`,
      );
    }
    this.base = base;
    this.size = size;
    this.end = base + size;
    this.baseNum = Number(base);
    this.sizeNum = Number(size);
    this.endNum = Number(this.end);
    this.chunkBytes = Math.min(PhysMem.CHUNK_BYTES, this.sizeNum);
    this.chunkMask = this.chunkBytes - 1;
    this.invChunk = 1 / this.chunkBytes;
    this.chunkBase = Math.floor(this.baseNum * this.invChunk) * this.chunkBytes;
    this.nChunks = Math.ceil((this.endNum - this.chunkBase) * this.invChunk);
    if (this.nChunks <= DENSE_LIMIT)
      this.dense = new Array<Uint32Array | undefined>(this.nChunks).fill(undefined);
    else this.sparse = new Map();
  }

  /**
   * The chunk holding `pa`, created zero-filled on first use. Pair with {@link wordIndex} in hot loops.
   *
   * @example
   * const words = mem.chunk(pa); const i = mem.wordIndex(pa);
   * const lo = words[i]!, hi = words[i + 1]!; // one 64-bit entry
   */
  chunk(pa: number): Uint32Array {
    if (!(pa >= this.baseNum && pa < this.endNum)) throw this.rangeError(pa, 1);
    const k = Math.floor((pa - this.chunkBase) * this.invChunk);
    if (k === this.lastK) return this.lastChunk;
    let c = this.dense ? this.dense[k] : this.sparse!.get(k);
    if (c === undefined) c = this.materialise(k);
    this.lastK = k;
    this.lastChunk = c;
    return c;
  }

  /** Index of the 32-bit word at `pa` inside `chunk(pa)`. Does not check its argument. */
  wordIndex(pa: number): number {
    // & works on the low 32 bits of any integer below 2^53, and the chunk size divides 2^32.
    return (pa & this.chunkMask) >>> 2;
  }

  /** Reads the unsigned 32-bit word at a 4-aligned `pa`; untouched memory reads as zero. */
  read32(pa: number): number {
    if (pa % 4 !== 0) throw this.alignError(pa, 4);
    const c = this.peek(pa);
    return c === undefined ? 0 : c[(pa & this.chunkMask) >>> 2]!;
  }

  /** Writes the 32-bit word at a 4-aligned `pa` (the value is taken modulo 2^32). */
  write32(pa: number, v: number): void {
    if (pa % 4 !== 0) throw this.alignError(pa, 4);
    this.chunk(pa)[(pa & this.chunkMask) >>> 2] = v;
  }

  /**
   * Fills [pa, pa+bytes) with a repeated 32-bit word; may span chunks. Filling untouched memory with
   * zero does not materialise it.
   *
   * @example
   * mem.fill32(0x1000, 4096, 0); // clear a page
   */
  fill32(pa: number, bytes: number, value: number): void {
    if (pa % 4 !== 0) throw this.alignError(pa, 4);
    if (!(bytes >= 0 && bytes % 4 === 0)) {
      throw new PtError("EINVAL", `fill32 length ${bytes} must be a non-negative multiple of 4`);
    }
    if (!this.contains(pa, bytes)) throw this.rangeError(pa, bytes);
    const v = value >>> 0;
    let p = pa;
    const end = pa + bytes;
    while (p < end) {
      const chunkEnd = this.chunkStartOf(p) + this.chunkBytes;
      const stop = Math.min(end, chunkEnd);
      const c = v === 0 ? this.peek(p) : this.chunk(p);
      if (c !== undefined) {
        const i = (p & this.chunkMask) >>> 2;
        c.fill(v, i, i + (stop - p) / 4);
      }
      p = stop;
    }
  }

  /** Reads a 32-bit word at a 4-aligned bigint address. */
  readU32(pa: bigint): number {
    return this.read32(this.toNum(pa, 4, 4));
  }

  /** Writes a 32-bit word; `v` is an integer in [-2^31, 2^32) (negative int32 values are stored two's complement). */
  writeU32(pa: bigint, v: number): void {
    const p = this.toNum(pa, 4, 4);
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
      throw new PtError("EINVAL", `writeU32 value ${v} is not a 32-bit integer`);
    }
    this.write32(p, v >>> 0);
  }

  /** Reads a little-endian 64-bit value at an 8-aligned address: lo word at pa, hi word at pa+4. */
  readU64(pa: bigint): bigint {
    const p = this.toNum(pa, 8, 8);
    const c = this.peek(p);
    if (c === undefined) return 0n;
    const i = (p & this.chunkMask) >>> 2;
    return (BigInt(c[i + 1]!) << 32n) | BigInt(c[i]!);
  }

  /** Writes a 64-bit value in [0, 2^64) at an 8-aligned address, little-endian. */
  writeU64(pa: bigint, v: bigint): void {
    const p = this.toNum(pa, 8, 8);
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) {
      throw new PtError("EINVAL", `writeU64 value ${String(v)} is not in [0, 2^64)`);
    }
    const c = this.chunk(p);
    const i = (p & this.chunkMask) >>> 2;
    c[i] = Number(v & 0xffffffffn);
    c[i + 1] = Number(v >> 32n);
  }

  /**
   * A copy of the bytes [pa, pa+len), as the hardware would see them.
   *
   * @example
   * const page = mem.snapshot(0x1000n, 4096n); // Uint8Array(4096)
   */
  snapshot(pa: bigint, len: bigint): Uint8Array {
    const [p, n] = this.rangeNum(pa, len, 1);
    const out = new Uint8Array(n);
    let q = p;
    const end = p + n;
    while (q < end) {
      const stop = Math.min(end, this.chunkStartOf(q) + this.chunkBytes);
      const c = this.peek(q);
      if (c !== undefined) {
        const off = q & this.chunkMask;
        out.set(new Uint8Array(c.buffer, c.byteOffset + off, stop - q), q - p);
      }
      q = stop;
    }
    return out;
  }

  /**
   * A 64-bit content hash (16 hex digits) of [pa, pa+len), default the whole space. Both must be
   * multiples of 4. It depends only on the bytes: untouched memory hashes like zeros, and untouched
   * chunks are skipped in O(log n), so hashing a huge sparse space is fast.
   *
   * @example
   * const before = mem.hash(); mem.write32(mem.baseNum, 1); mem.write32(mem.baseNum, 0);
   * mem.hash() === before; // true
   */
  hash(pa?: bigint, len?: bigint): string {
    const start = pa ?? this.base;
    const length = len ?? this.end - start;
    const [p, n] = this.rangeNum(start, length, 4);
    if (n % 4 !== 0) throw new PtError("EINVAL", `hash length ${n} must be a multiple of 4`);
    const st = hashInit();
    const end = p + n;
    let q = p; // next byte not yet folded in
    for (const k of this.sortedTouched()) {
      const cStart = this.chunkBase + k * this.chunkBytes;
      const lo = Math.max(cStart, p);
      const hi = Math.min(cStart + this.chunkBytes, end);
      if (lo >= hi) continue;
      hashZeroWords(st, (lo - q) / 4);
      const c = this.chunkAt(k)!;
      const i = (lo & this.chunkMask) >>> 2;
      hashWords(st, c, i, i + (hi - lo) / 4);
      q = hi;
    }
    hashZeroWords(st, (end - q) / 4);
    return hashHex(st);
  }

  /** True when [pa, pa+len) lies inside the space. */
  contains(pa: number, len: number): boolean {
    return pa >= this.baseNum && len >= 0 && pa + len <= this.endNum;
  }

  /** How many chunks have been materialised. */
  touchedChunks(): number {
    return this.touched.length;
  }

  /** Human-readable description of the space, for messages. */
  describe(): string {
    return `physical memory [${hex(this.base)}, ${hex(this.end)})`;
  }

  // The chunk holding pa if it exists; no materialisation.
  private peek(pa: number): Uint32Array | undefined {
    if (!(pa >= this.baseNum && pa < this.endNum)) throw this.rangeError(pa, 4);
    const k = Math.floor((pa - this.chunkBase) * this.invChunk);
    if (k === this.lastK) return this.lastChunk;
    return this.chunkAt(k);
  }

  private chunkAt(k: number): Uint32Array | undefined {
    return this.dense ? this.dense[k] : this.sparse!.get(k);
  }

  private materialise(k: number): Uint32Array {
    const c = new Uint32Array(this.chunkBytes / 4);
    if (this.dense) this.dense[k] = c;
    else this.sparse!.set(k, c);
    if (this.touched.length > 0 && this.touched[this.touched.length - 1]! > k) this.touchedSorted = false;
    this.touched.push(k);
    return c;
  }

  private sortedTouched(): readonly number[] {
    if (!this.touchedSorted) {
      this.touched.sort((a, b) => a - b);
      this.touchedSorted = true;
    }
    return this.touched;
  }

  private chunkStartOf(pa: number): number {
    return this.chunkBase + Math.floor((pa - this.chunkBase) * this.invChunk) * this.chunkBytes;
  }

  // bigint address -> number, checking alignment and that `len` bytes fit.
  private toNum(pa: bigint, align: number, len: number): number {
    if (typeof pa !== "bigint") throw new PtError("EINVAL", `address ${String(pa)} must be a bigint`);
    if (pa < this.base || pa + BigInt(len) > this.end) throw this.rangeError(pa, len);
    const p = Number(pa);
    if (p % align !== 0) throw this.alignError(p, align);
    return p;
  }

  private rangeNum(pa: bigint, len: bigint, align: number): [number, number] {
    if (typeof pa !== "bigint" || typeof len !== "bigint") {
      throw new PtError("EINVAL", `address ${String(pa)} and length ${String(len)} must be bigints`);
    }
    if (len < 0n) throw new PtError("EINVAL", `length ${hex(len)} is negative`);
    if (pa < this.base || pa + len > this.end) throw this.rangeError(pa, len);
    const p = Number(pa);
    if (p % align !== 0) throw this.alignError(p, align);
    return [p, Number(len)];
  }

  private rangeError(pa: number | bigint, len: number | bigint): PtError {
    const what = typeof pa === "number" && !Number.isFinite(pa) ? String(pa) : hex(pa);
    return new PtError("ERANGE", `access at ${what} (+${String(len)} bytes) is outside ${this.describe()}`);
  }

  private alignError(pa: number, align: number): PtError {
    const what = Number.isFinite(pa) ? hex(pa) : String(pa);
    return new PtError("EINVAL", `address ${what} is not ${align}-byte aligned (in ${this.describe()})`);
  }
}
