// svg: a picture of the radix tree. One row of tables per level; each table is a strip of its slots,
// empty slots pale, table pointers grey, and leaves coloured by page size, with a legend.
import type { TableSnapshot } from "@genpt/core";
import { sizeName } from "@genpt/core";

const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
];
const STRIP_W = 256;
const ROW_H = 70;
const STRIP_H = 18;
const GAP = 12;
const MAX_TABLES_PER_ROW = 6;

export function treeSvg(title: string, root: TableSnapshot): string {
  const rows: TableSnapshot[][] = [];
  const sizes = new Set<number>();
  const visit = (t: TableSnapshot, depth: number) => {
    if (!rows[depth]) rows[depth] = [];
    rows[depth].push(t);
    for (const s of t.slots) {
      if (s.kind === "leaf") sizes.add(s.sizeLg2!);
      else if (s.child) visit(s.child, depth + 1);
    }
  };
  visit(root, 0);
  const colour = new Map([...sizes].sort((a, b) => a - b).map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
  const width = 40 + MAX_TABLES_PER_ROW * (STRIP_W + GAP);
  const parts: string[] = [];
  let y = 40;
  rows.forEach((tables) => {
    const shown = tables.slice(0, MAX_TABLES_PER_ROW);
    parts.push(
      `<text x="10" y="${y - 6}" font-size="12">level ${tables[0]!.level}: ${tables.length} table${tables.length === 1 ? "" : "s"}${tables.length > shown.length ? ` (first ${shown.length} shown)` : ""}</text>`,
    );
    shown.forEach((t, i) => {
      const x = 20 + i * (STRIP_W + GAP);
      parts.push(
        `<rect x="${x}" y="${y}" width="${STRIP_W}" height="${STRIP_H}" fill="#f3f3f3" stroke="#999"/>`,
      );
      const cell = STRIP_W / t.entries;
      for (const s of t.slots) {
        const fill = s.kind === "table" ? "#777" : colour.get(s.sizeLg2!)!;
        parts.push(
          `<rect x="${(x + s.index * cell).toFixed(2)}" y="${y}" width="${Math.max(cell, 0.6).toFixed(2)}" height="${STRIP_H}" fill="${fill}"><title>slot ${s.index}: ${s.kind === "table" ? "table" : `leaf ${sizeName(s.sizeLg2!)}`}</title></rect>`,
        );
      }
      parts.push(
        `<text x="${x}" y="${y + STRIP_H + 12}" font-size="10" fill="#555">0x${t.pa.toString(16)} (${t.slots.length}/${t.entries})</text>`,
      );
    });
    y += ROW_H;
  });
  let lx = 20;
  const legend = [
    ["table pointer", "#777"],
    ...[...colour].map(([s, c]) => [`leaf ${sizeName(s)}`, c]),
  ] as Array<[string, string]>;
  for (const [label, c] of legend) {
    parts.push(
      `<rect x="${lx}" y="${y}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${y + 10}" font-size="11">${label}</text>`,
    );
    lx += 30 + label.length * 7;
  }
  const height = y + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...parts,
    "</svg>",
  ].join("\n");
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}
