// dump: the table as a readable text tree. Runs of leaves whose OAs continue one another with the same
// attributes print as one line, so a 2 MiB region of 4 KiB pages is one line, not 512.
import { hex } from "@genpt/alloc";
import type { Ctx } from "./ctx.js";
import { EMPTY, LEAF } from "./format.js";

export interface DumpOptions {
  /** Print each leaf on its own line instead of folding runs. */
  readonly noFold?: boolean;
}

export function sizeName(lg2: number): string {
  const units = ["B", "K", "M", "G", "T", "P", "E"];
  const u = Math.min(Math.floor(lg2 / 10), units.length - 1);
  return `${2 ** (lg2 - u * 10)}${units[u]}`;
}

export function dumpTree(ctx: Ctx, opts: DumpOptions = {}): string {
  const { fmt } = ctx;
  const top = ctx.top;
  const lines: string[] = [];
  lines.push(
    `${fmt.name} (${fmt.config}): top level ${top.level} at ${hex(top.pa)}, ${ctx.aperture.vaBits}-bit VA ${ctx.aperture.describe()}, ${fmt.geometry.oaBits}-bit OA`,
  );
  dumpTable(ctx, lines, top.level, top.pa, 0, ctx.entriesAt(top.level, true), 1, opts);
  if (lines.length === 1) lines.push("  (empty)");
  return lines.join("\n");
}

function dumpTable(
  ctx: Ctx,
  lines: string[],
  level: number,
  pa: number,
  tableVpn: number,
  entries: number,
  depth: number,
  opts: DumpOptions,
): void {
  const { mem, fmt, lay, aperture } = ctx;
  const w = mem.chunk(pa);
  const off = mem.wordIndex(pa);
  const wpe = lay.wpe;
  const unit = lay.itemUnits[level]!;
  const pad = "  ".repeat(depth);
  let i = 0;
  while (i < entries) {
    const lo = w[off + i * wpe]!;
    const hi = wpe === 2 ? w[off + i * wpe + 1]! : 0;
    const kind = lo === 0 && hi === 0 ? EMPTY : fmt.kind(lo, hi, level);
    if (kind === EMPTY) {
      i++;
      continue;
    }
    const vpn = tableVpn + i * unit;
    if (kind !== LEAF) {
      const child = fmt.tablePa(lo, hi, level);
      lines.push(`${pad}L${level}[${i}] table -> ${hex(child)}  iova ${hex(aperture.toIova(vpn))}`);
      dumpTable(ctx, lines, level - 1, child, vpn, lay.entries[level - 1]!, depth + 1, opts);
      i++;
      continue;
    }
    const sizeLg2 = fmt.leafLg2(lo, hi, level);
    const k = 2 ** (sizeLg2 - lay.g) / unit;
    const first = i - (i % k);
    const oa = fmt.leafOa(lo, hi, level);
    const attrs = fmt.describeLeaf(lo, hi, level);
    // Fold following entries of the same size and attributes whose OA continues this one.
    let n = 1;
    const esize = k * unit;
    while (!opts.noFold) {
      const j = first + n * k;
      if (j >= entries) break;
      const lo2 = w[off + j * wpe]!;
      const hi2 = wpe === 2 ? w[off + j * wpe + 1]! : 0;
      if ((lo2 === 0 && hi2 === 0) || fmt.kind(lo2, hi2, level) !== LEAF) break;
      if (fmt.leafLg2(lo2, hi2, level) !== sizeLg2 || fmt.leafOa(lo2, hi2, level) !== oa + n * esize) break;
      if (fmt.describeLeaf(lo2, hi2, level) !== attrs) break;
      n++;
    }
    const iova = aperture.toIova(tableVpn + first * unit);
    const pa0 = BigInt(oa) << BigInt(lay.g);
    const slots = n * k === 1 ? `[${first}]` : `[${first}..${first + n * k - 1}]`;
    const what = n === 1 ? `leaf ${sizeName(sizeLg2)}` : `${n} x leaf ${sizeName(sizeLg2)}`;
    const items = k > 1 ? ` (${k} items each)` : "";
    lines.push(`${pad}L${level}${slots} ${what}${items}  iova ${hex(iova)} -> pa ${hex(pa0)}  ${attrs}`);
    i = first + n * k;
  }
}
