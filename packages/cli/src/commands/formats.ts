// genpt formats: each format and listed configuration with its levels, page sizes and VA/OA widths.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, sizeName } from "@genpt/core";
import { FORMATS } from "../registry.js";

export function formatsText(): string {
  const lines: string[] = [];
  for (const f of FORMATS) {
    lines.push(`${f.name}: ${f.summary}`);
    for (const cfg of f.listed) {
      const { format } = f.build(cfg);
      const pt = createPageTable(format, { mem: new PhysMem({ base: 0x8000_0000n, size: 16n << 20n }) });
      const info = pt.info();
      pt.destroy();
      const levels =
        info.maxTopLevel > info.topLevel
          ? `${info.topLevel + 1}..${info.maxTopLevel + 1} levels`
          : `${info.topLevel + 1} levels`;
      const sizes = compactSizes(info.pgsizes.map((s) => s.toString(2).length - 1));
      lines.push(`  ${JSON.stringify(cfg)}  ${format.config}`);
      lines.push(
        `    ${levels}, ${info.vaBits}-bit VA, ${info.oaBits}-bit OA, ${info.entryBytes}-byte entries, dirty ${info.dirtyTracking ? "yes" : "no"}`,
      );
      lines.push(`    page sizes: ${sizes}`);
    }
  }
  return lines.join("\n");
}

/** "4K 8K 16K ... 256T" collapses runs of consecutive powers of two into "4K..1M". */
function compactSizes(lg2s: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lg2s.length; ) {
    let j = i;
    while (j + 1 < lg2s.length && lg2s[j + 1] === lg2s[j]! + 1) j++;
    out.push(
      j - i >= 2
        ? `${sizeName(lg2s[i]!)}..${sizeName(lg2s[j]!)} (every power of two)`
        : lg2s
            .slice(i, j + 1)
            .map(sizeName)
            .join(" "),
    );
    i = j + 1;
  }
  return out.join(" ");
}
