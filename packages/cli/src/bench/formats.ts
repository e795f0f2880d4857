// The formats the benchmark runs, each on its default configuration.
import { mock64, type PtFormat } from "@genpt/core";

export async function benchFormats(): Promise<PtFormat<unknown>[]> {
  return [mock64() as PtFormat<unknown>];
}
