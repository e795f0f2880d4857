// genpt run <scenario.json> and genpt dump <scenario.json> [--svg FILE].
import { writeFileSync } from "node:fs";
import { loadScenario, runScenario } from "../scenario.js";
import { treeSvg } from "../svg.js";
import { UserError } from "../user-error.js";

export function runCommand(path: string, print: (l: string) => void): boolean {
  const sc = loadScenario(path);
  const { pt, failures } = runScenario(sc, print);
  pt.destroy();
  print(
    failures.length === 0
      ? `${sc.name}: all ${sc.steps.length} steps passed`
      : `${sc.name}: ${failures.length} failure(s)`,
  );
  return failures.length === 0;
}

export function dumpCommand(path: string, svg: string | undefined, print: (l: string) => void): boolean {
  const sc = loadScenario(path);
  const { pt, failures } = runScenario(sc, () => {});
  print(pt.dump());
  if (svg) {
    try {
      writeFileSync(svg, treeSvg(`${sc.name}: ${pt.format.name} (${pt.format.config})`, pt.tree()));
    } catch (e) {
      pt.destroy();
      throw new UserError(`cannot write ${svg}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    print(`wrote ${svg}`);
  }
  pt.destroy();
  for (const f of failures) print(`note: ${f}`);
  return true;
}
