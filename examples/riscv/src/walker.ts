// The RISC-V hardware walker: translates one device access by reading Sv39/Sv48 PTEs from raw memory,
// as the Privileged spec's translation algorithm describes, with Svnapot and Svpbmt. It shares nothing
// with riscv.ts (its own constants, BigInt arithmetic), so the two can disagree and the suite notices.
import {
  type Access,
  type HardwareWalker,
  type WalkContext,
  type WalkerMemory,
  type WalkResult,
  type WalkStep,
  walkFault,
} from "@genpt/core";

const PTE_V = 1n;
const PTE_R = 2n;
const PTE_W = 4n;
const PTE_X = 8n;
const PTE_U = 0x10n;
const PTE_A = 0x40n;
const PTE_D = 0x80n;
const PTE_PPN_SHIFT = 10n;
const PTE_PPN_MASK = (1n << 44n) - 1n;
const PTE_RESERVED_SHIFT = 54n; // bits 60:54 must be zero
const PTE_RESERVED_MASK = 0x7fn;
const PTE_PBMT_SHIFT = 61n;
const PTE_N_SHIFT = 63n;
const PAGE_SHIFT = 12;
const VPN_BITS = 9;

export function riscvWalker(config: { mode: "sv39" | "sv48" } = { mode: "sv39" }): HardwareWalker {
  const levels = config.mode === "sv48" ? 4 : 3;
  const vaBits = PAGE_SHIFT + VPN_BITS * levels;
  return {
    format: "riscv",
    translate(
      mem: WalkerMemory,
      ctx: WalkContext,
      iova: bigint,
      access: Access,
      steps?: WalkStep[],
    ): WalkResult {
      const fault = (
        kind: "translation" | "permission" | "access-flag" | "reserved",
        level: number,
        detail: string,
      ): WalkResult => walkFault(iova, kind, level, detail);
      // Bits 63..vaBits-1 must all equal: the VA is sign-extended.
      const upper = iova >> BigInt(vaBits - 1);
      if (upper !== 0n && upper !== (1n << BigInt(65 - vaBits)) - 1n)
        return fault("translation", levels - 1, `iova is not sign-extended from bit ${vaBits - 1}`);
      let table = ctx.root;
      for (let i = levels - 1; i >= 0; i--) {
        steps?.push({ level: i, table });
        const shift = BigInt(PAGE_SHIFT + VPN_BITS * i);
        const pteAddr = table + ((iova >> shift) & 0x1ffn) * 8n;
        let pte = mem.readU64(pteAddr);
        const show = `pte 0x${pte.toString(16)}`;
        if ((pte & PTE_V) === 0n) return fault("translation", i, `${show} is not valid`);
        if ((pte & PTE_W) !== 0n && (pte & PTE_R) === 0n) return fault("reserved", i, `${show}: W without R`);
        if (((pte >> PTE_RESERVED_SHIFT) & PTE_RESERVED_MASK) !== 0n)
          return fault("reserved", i, `${show}: bits 60:54 set`);
        const pbmt = (pte >> PTE_PBMT_SHIFT) & 3n;
        if (pbmt === 3n) return fault("reserved", i, `${show}: PBMT 3 is reserved`);
        const napot = (pte >> PTE_N_SHIFT) & 1n;
        const ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        if ((pte & (PTE_R | PTE_W | PTE_X)) === 0n) {
          // A pointer: A, D, U, N and PBMT are reserved for future use and must be clear.
          if ((pte & (PTE_A | PTE_D | PTE_U)) !== 0n || napot !== 0n || pbmt !== 0n)
            return fault("reserved", i, `${show}: a pointer with leaf-only bits set`);
          if (i === 0) return fault("translation", 0, `${show}: a pointer at the last level`);
          table = ppn << BigInt(PAGE_SHIFT);
          continue;
        }
        let pageShift = PAGE_SHIFT + VPN_BITS * i;
        let base = ppn;
        if (napot !== 0n) {
          // Svnapot defines only 64 KiB at level 0, encoded as ppn[3:0] = 0b1000.
          if (i !== 0 || (ppn & 0xfn) !== 8n)
            return fault("reserved", i, `${show}: not a 64 KiB NAPOT encoding`);
          pageShift = 16;
          base = ppn & ~0xfn;
        } else if ((ppn & ((1n << BigInt(VPN_BITS * i)) - 1n)) !== 0n) {
          return fault("reserved", i, `${show}: misaligned superpage`);
        }
        const allowed = access === "write" ? PTE_W : access === "exec" ? PTE_X : PTE_R;
        if ((pte & allowed) === 0n) return fault("permission", i, `${access} denied by ${show}`);
        // Accessed/dirty: hardware updating sets them in the PTE it used; otherwise a clear one faults.
        const want = access === "write" ? PTE_A | PTE_D : PTE_A;
        if ((pte & want) !== want) {
          if (!ctx.accessDirty) return fault("access-flag", i, `${show}: A/D clear and no hardware update`);
          pte |= want;
          mem.writeU64(pteAddr, pte);
        }
        const mask = (1n << BigInt(pageShift)) - 1n;
        return {
          ok: true,
          pa: (base << BigInt(PAGE_SHIFT)) + (iova & mask),
          pageLg2: pageShift,
          level: i,
          read: (pte & PTE_R) !== 0n,
          write: (pte & PTE_W) !== 0n,
          dirty: (pte & PTE_D) !== 0n,
          pteAddr,
        };
      }
      return fault("translation", 0, "walk ended without a leaf");
    },
  };
}
