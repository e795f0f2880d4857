// Feature resolution for createPageTable: defaults from the format, and the combinations that are
// refused (after generic_pt's pt_init_common), plus the page-size narrowing argument.
import { PtError } from "@genpt/alloc";
import type { PtFormat } from "./format.js";
import { vaBitsAtTop } from "./layout.js";
import type { PtFeatures } from "./options.js";

export function resolveFeatures(fmt: PtFormat<unknown>, f: PtFeatures): Required<PtFeatures> {
  const geo = fmt.geometry;
  const canGrow = geo.maxTopLevel > geo.topLevel;
  if (f.dynamicTop && !canGrow)
    throw new PtError(
      "EOPNOTSUPP",
      `createPageTable: format ${fmt.name} has a fixed top; dynamicTop is not possible`,
    );
  const dynamicTop = f.dynamicTop ?? canGrow;
  const signExtend = f.signExtend === true;
  if (signExtend && !geo.signExtendable)
    throw new PtError(
      "EOPNOTSUPP",
      `createPageTable: format ${fmt.name} does not support a sign-extended VA`,
    );
  if (signExtend && (dynamicTop || geo.vaBits === 64))
    throw new PtError("EINVAL", "createPageTable: signExtend excludes dynamicTop and a full 64-bit VA");
  const vaBits = dynamicTop ? geo.vaBits : vaBitsAtTop(geo, geo.topLevel);
  if (f.fullVa && vaBits !== 64)
    throw new PtError(
      "EINVAL",
      `createPageTable: fullVa needs a 64-bit VA; format ${fmt.name} gives ${vaBits} bits`,
    );
  if (fmt.dirty && fmt.dirty.dirtyValue === 0n)
    throw new PtError(
      "EINVAL",
      `format ${fmt.name}: dirtyValue must be nonzero, or every empty entry would read as dirty`,
    );
  return {
    dynamicTop,
    incoherent: f.incoherent === true,
    fullVa: vaBits === 64,
    signExtend,
    flushNoGaps: f.flushNoGaps === true,
    rcuFree: f.rcuFree === true,
  };
}

export function sizeToLg2(s: bigint): number {
  if (typeof s !== "bigint" || s <= 0n || (s & (s - 1n)) !== 0n)
    throw new PtError("EINVAL", `createPageTable: page size ${String(s)} is not a power of two`);
  return s.toString(2).length - 1;
}
