#!/usr/bin/env node
// The `genpt` launcher. The packages ship TypeScript sources resolved through the "@genpt/source"
// export condition, so a fresh clone needs no build: run main.ts under tsx with that condition.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
const r = spawnSync(
  process.execPath,
  ["--conditions=@genpt/source", "--import", tsx, main, ...process.argv.slice(2)],
  {
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
