// The `genpt` command: demo, formats, run, dump, check, bench. A user's mistake is one line on stderr
// and exit code 2; a failed check, expect step or run is exit code 1.
import { PtError } from "@genpt/core";
import { cac } from "cac";
import { benchFormats } from "./bench/formats.js";
import { formatBenchTable, runBenchmarks } from "./bench/run.js";
import { checkModule } from "./commands/check.js";
import { DEMO_STEPS, demoTable, runDemo } from "./commands/demo.js";
import { formatsText } from "./commands/formats.js";
import { progress } from "./commands/progress.js";
import { dumpCommand, runCommand } from "./commands/run.js";
import { FORMATS } from "./registry.js";
import { UserError } from "./user-error.js";

const out = (l: string) => process.stdout.write(`${l}\n`);
const cli = cac("genpt");

cli.command("demo", "Map a 4 GiB guest on every format, run DMA, harvest dirty pages, compare").action(() => {
  const p = progress(FORMATS.length * DEMO_STEPS);
  const results = runDemo(p);
  p.done();
  out(demoTable(results));
});

cli
  .command("formats", "List the formats and configurations with levels, page sizes and widths")
  .action(() => out(formatsText()));

cli.command("run <scenario>", "Run a JSON scenario and print each step's result").action((path: string) => {
  if (!runCommand(path, out)) process.exitCode = 1;
});

cli
  .command("dump <scenario>", "Run a scenario quietly and print the final table as a tree")
  .option("--svg <file>", "Also write a picture of the radix tree")
  .action((path: string, opts: { svg?: string }) => {
    if (opts.svg !== undefined && typeof opts.svg !== "string")
      throw new UserError("--svg needs a file name");
    dumpCommand(path, opts.svg, out);
  });

cli
  .command("check <module>", "Run the conformance suite on a format module you wrote")
  .action(async (path: string) => {
    const { text, ok } = await checkModule(path, (l) => process.stderr.write(`  ${l}\n`));
    out(text);
    if (!ok) process.exitCode = 1;
  });

cli
  .command("bench", "Run the benchmarks (the table npm run bench prints)")
  .option("--json <file>", "Also write the rows as JSON")
  .action(async (opts: { json?: string }) => {
    const rows = await runBenchmarks(await benchFormats(), {
      onProgress: (l) => process.stderr.write(`bench: ${l}\n`),
    });
    out(formatBenchTable(rows));
    if (opts.json) {
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        opts.json,
        `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`,
      );
    }
  });

cli.help();
cli.version("0.1.0");

function fail(e: unknown): never {
  // cac reports unknown options and missing arguments as CACError: those are the user's mistakes too.
  if (e instanceof UserError || e instanceof PtError || (e instanceof Error && e.name === "CACError")) {
    process.stderr.write(`genpt: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}

try {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand) {
    if (cli.args.length > 0) throw new UserError(`unknown command "${cli.args[0]}"; run genpt --help`);
    if (!cli.options.help && !cli.options.version) cli.outputHelp();
  } else {
    await Promise.resolve(cli.runMatchedCommand()).catch(fail);
  }
} catch (e) {
  fail(e);
}
