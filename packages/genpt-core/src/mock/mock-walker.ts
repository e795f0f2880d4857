// The hardware walkers of the two mock formats. Written from the mock entry layouts documented in
// mock64.ts and mock32.ts with constants of their own, so they give a second opinion on the core.
// Walk rules: a clear P bit faults; R/W are checked on the leaf only; a write with A/D enabled sets D
// in the one item the IOVA indexes (like AMD's replicated copies).
import {
  type Access,
  type HardwareWalker,
  type WalkContext,
  type WalkerMemory,
  type WalkResult,
  type WalkStep,
  walkFault,
} from "../walker.js";

interface MockWalkShape {
  readonly name: string;
  readonly entryBytes: 4 | 8;
  /** Item shift (log2 bytes) per level, and index bits per level (the top's from the VA width). */
  readonly itemShift: readonly number[];
  readonly indexBits: (level: number, top: number) => number;
  readonly vaBits: (top: number) => number;
  readonly tableMask: bigint;
  readonly pageMask: bigint;
  readonly contigShift: number;
  readonly contigMask: bigint;
  /** Per-item OA (mock32) or one OA for all copies (mock64). */
  readonly perItemOa: boolean;
}

const BIT_P = 1n;
const BIT_L = 2n;
const BIT_R = 4n;
const BIT_W = 8n;
const BIT_D = 16n;

function mockWalker(shape: MockWalkShape): HardwareWalker {
  const read = (mem: WalkerMemory, pa: bigint) =>
    shape.entryBytes === 8 ? mem.readU64(pa) : BigInt(mem.readU32(pa));
  const write = (mem: WalkerMemory, pa: bigint, v: bigint) =>
    shape.entryBytes === 8 ? mem.writeU64(pa, v) : mem.writeU32(pa, Number(v));
  return {
    format: shape.name,
    translate(
      mem: WalkerMemory,
      ctx: WalkContext,
      iova: bigint,
      access: Access,
      steps?: WalkStep[],
    ): WalkResult {
      const fault = (kind: "translation" | "permission", level: number, detail: string): WalkResult =>
        walkFault(iova, kind, level, detail);
      if (iova >= 1n << BigInt(shape.vaBits(ctx.topLevel)))
        return fault("translation", ctx.topLevel, "iova beyond the VA width");
      let table = ctx.root;
      for (let level = ctx.topLevel; level >= 0; level--) {
        steps?.push({ level, table });
        const shift = BigInt(shape.itemShift[level]!);
        const index = (iova >> shift) & ((1n << BigInt(shape.indexBits(level, ctx.topLevel))) - 1n);
        const pteAddr = table + index * BigInt(shape.entryBytes);
        let pte = read(mem, pteAddr);
        if ((pte & BIT_P) === 0n)
          return fault("translation", level, `entry 0x${pte.toString(16)} not present`);
        if (level > 0 && (pte & BIT_L) === 0n) {
          table = pte & shape.tableMask;
          continue;
        }
        const canRead = (pte & BIT_R) !== 0n;
        const canWrite = (pte & BIT_W) !== 0n;
        if ((access === "write" && !canWrite) || (access !== "write" && !canRead))
          return fault("permission", level, `${access} not allowed by 0x${pte.toString(16)}`);
        if (access === "write" && ctx.accessDirty && (pte & BIT_D) === 0n) {
          pte |= BIT_D;
          write(mem, pteAddr, pte);
        }
        const pageLg2 =
          shape.itemShift[level]! + Number((pte >> BigInt(shape.contigShift)) & shape.contigMask);
        const entryBytes = 1n << BigInt(pageLg2);
        const itemOa = pte & shape.pageMask;
        // mock32 items carry their own OA; mock64 copies all carry the entry's OA.
        const entryOa = shape.perItemOa ? itemOa & ~(entryBytes - 1n) : itemOa;
        return {
          ok: true,
          pa: entryOa + (iova & (entryBytes - 1n)),
          pageLg2,
          level,
          read: canRead,
          write: canWrite,
          dirty: (pte & BIT_D) !== 0n,
          pteAddr,
        };
      }
      return fault("translation", 0, "walk fell off level 0");
    },
  };
}

/** The walker of mock64 (5 levels of 512 entries, 8-byte entries). */
export function mock64Walker(): HardwareWalker {
  return mockWalker({
    name: "mock64",
    entryBytes: 8,
    itemShift: [12, 21, 30, 39, 48, 57],
    indexBits: (level) => (level === 5 ? 7 : 9),
    vaBits: (top) => Math.min(64, 21 + 9 * top),
    tableMask: 0x000f_ffff_ffff_f000n,
    pageMask: 0x000f_ffff_ffff_f000n,
    contigShift: 5,
    contigMask: 15n,
    perItemOa: false,
  });
}

/** The walker of mock32 (levels of 256 entries under a 16-entry top, 4-byte entries). */
export function mock32Walker(): HardwareWalker {
  return mockWalker({
    name: "mock32",
    entryBytes: 4,
    itemShift: [12, 20, 28],
    indexBits: (level) => (level === 2 ? 4 : 8),
    vaBits: () => 32,
    tableMask: 0xffff_fc00n,
    pageMask: 0xffff_f000n,
    contigShift: 5,
    contigMask: 7n,
    perItemOa: true,
  });
}
