// formatReport: the report as a text table (cases down, configurations across), then one line per
// failure with its reason, seed and IOVA, then the totals. This is what `genpt check` prints.
import type { CaseResult, ConformanceReport } from "./types.js";

const MARK: Record<CaseResult["status"], string> = { pass: "pass", fail: "FAIL", "n/a": "n/a" };

/** Where to replay a failure: "seed 1, iova 0x1000". */
export function failureContext(r: CaseResult): string {
  const parts: string[] = [];
  if (r.seed !== undefined) parts.push(`seed ${r.seed}`);
  if (r.iova !== undefined) parts.push(`iova 0x${r.iova.toString(16)}`);
  return parts.join(", ");
}

export function formatReport(report: ConformanceReport): string {
  const lines: string[] = [];
  const n = report.configs.length;
  lines.push(
    `genpt conformance: ${report.cases.length} cases x ${n} config(s), seed ${report.seed}, ${report.iterations} iterations`,
  );
  report.configs.forEach((label, i) => {
    const ms = report.results.filter((r) => r.configIndex === i).reduce((a, r) => a + r.ms, 0);
    lines.push(`  [${i + 1}] ${label}  (${(ms / 1000).toFixed(2)} s)`);
  });
  const nameWidth = Math.max(4, ...report.cases.map((c) => c.length));
  const cols = report.configs.map((_, i) => `[${i + 1}]`.padEnd(5));
  lines.push("");
  lines.push(`${"case".padEnd(nameWidth)}  ${cols.join(" ")}`.trimEnd());
  for (const name of report.cases) {
    const cells = report.configs.map((_, i) => {
      const r = report.results.find((x) => x.case === name && x.configIndex === i);
      return (r ? MARK[r.status] : "-").padEnd(5);
    });
    lines.push(`${name.padEnd(nameWidth)}  ${cells.join(" ")}`.trimEnd());
  }
  const failures = report.results.filter((r) => r.status === "fail");
  if (failures.length > 0) {
    lines.push("", "failures:");
    for (const f of failures) {
      const ctx = failureContext(f);
      lines.push(`  [${f.configIndex + 1}] ${f.case}: ${f.reason ?? "failed"}${ctx ? ` (${ctx})` : ""}`);
    }
  }
  const na = report.results.filter((r) => r.status === "n/a");
  if (na.length > 0) {
    lines.push("", "not applicable:");
    for (const r of na) lines.push(`  [${r.configIndex + 1}] ${r.case}: ${r.reason ?? ""}`);
  }
  const t = report.totals;
  lines.push(
    "",
    `${report.ok ? "OK" : "FAILED"}: ${t.pass} passed, ${t.fail} failed, ${t.notApplicable} n/a, of ${t.total}`,
  );
  return lines.join("\n");
}
