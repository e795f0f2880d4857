// The README's test command: lint, typecheck, then every vitest project. It ends with one line,
// "N passed, N failed", and exits non-zero when anything failed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const steps = [];
function run(label, cmd, args) {
  process.stdout.write(`\n== ${label}: ${cmd} ${args.join(" ")}\n`);
  const r = spawnSync(cmd, args, { stdio: "inherit", shell: false });
  const ok = r.status === 0;
  steps.push({ label, ok });
  return ok;
}

const npx = "npx";
run("lint", npx, ["biome", "check", "."]);
run("typecheck", npx, ["turbo", "run", "typecheck", "--output-logs=errors-only"]);

const out = join(mkdtempSync(join(tmpdir(), "genpt-test-")), "vitest.json");
const testsOk = run("tests", npx, [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${out}`,
]);

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(out, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0) * 0;
  // A file that fails to load has no test results; count it so it cannot hide.
  for (const f of report.testResults ?? []) {
    if (f.status === "failed" && (f.assertionResults ?? []).length === 0) failed += 1;
  }
} catch {
  failed += 1;
}
for (const s of steps) if (!s.ok && s.label !== "tests") failed += 1;
if (!testsOk && failed === 0) failed = 1;
if (passed === 0 && failed === 0) failed = 1; // a run that executed no test is a failure

console.log(`\n${steps.map((s) => `${s.label}: ${s.ok ? "ok" : "FAILED"}`).join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
