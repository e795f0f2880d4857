// One-line descriptions of what the CPU side and the device each saw, for the checker's reports. They
// name the source of a device answer (a cached translation or a walk), since that is usually the bug.
import { Prot, type WalkResult } from "@genpt/core";
import type { ProbeDetail } from "./iommu.js";

export const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** "4K", "2M", "1G"... for a log2 size. */
export function sizeLg2Name(lg2: number): string {
  const units = ["", "K", "M", "G", "T", "P", "E"];
  const u = Math.min(Math.floor(lg2 / 10), units.length - 1);
  return `${2 ** (lg2 - 10 * u)}${units[u]}`;
}

function perms(read: boolean, write: boolean): string {
  return `${read ? "R" : "-"}${write ? "W" : "-"}`;
}

export function describeModel(m: { pa: bigint; prot: number } | undefined): string {
  if (m === undefined) return "unmapped";
  return `pa ${hex(m.pa)} ${perms((m.prot & Prot.READ) !== 0, (m.prot & Prot.WRITE) !== 0)}`;
}

export function describeCpu(
  model: { pa: bigint; prot: number } | undefined,
  iovaToPhys: bigint | undefined,
): string {
  return `model ${describeModel(model)}; iovaToPhys ${iovaToPhys === undefined ? "unmapped" : hex(iovaToPhys)}`;
}

export function describeResult(r: WalkResult): string {
  if (!r.ok) return `fault ${r.kind} at level ${r.level}: ${r.detail}`;
  return `pa ${hex(r.pa)} ${perms(r.read, r.write)}${r.dirty ? " dirty" : ""}, ${sizeLg2Name(r.pageLg2)} leaf at level ${r.level}`;
}

export function describeDevice(d: ProbeDetail): string {
  if (d.from === "walk") return `${describeResult(d.result)} (walk)`;
  const e = d.entry!;
  const piece =
    e.lg2 < e.leafLg2 ? `, a ${sizeLg2Name(e.lg2)} piece of a ${sizeLg2Name(e.leafLg2)} leaf` : "";
  return `${describeResult(d.result)} (IOTLB entry at ${hex(e.iova)}${piece})`;
}
