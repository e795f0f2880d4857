// Progress for long commands: a cli-progress bar on a terminal, plain step lines otherwise (so CI
// logs and pipes still show what is happening), all on stderr so stdout stays clean.
import cliProgress from "cli-progress";

export interface Progress {
  step(label: string): void;
  done(): void;
}

export function progress(total: number, quiet = false): Progress {
  if (quiet) return { step: () => {}, done: () => {} };
  if (!process.stderr.isTTY) {
    let n = 0;
    return {
      step: (label) => process.stderr.write(`[${++n}/${total}] ${label}\n`),
      done: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: " {bar} {value}/{total} {label}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: "" });
  return {
    step: (label) => bar.increment(1, { label }),
    done: () => bar.stop(),
  };
}
