// The formats the benchmark runs, each on its default configuration from the CLI registry.
import type { PtFormat } from "@genpt/core";
import { FORMATS } from "../registry.js";

export async function benchFormats(): Promise<PtFormat<unknown>[]> {
  return FORMATS.map((f) => f.build(f.defaults).format);
}
