// genpt check <module>: runs the conformance suite on a format module the user wrote. The module
// exports `factory` and `configs` (or a default export with both), or a `format` and optional `walker`.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatReport, runConformance } from "@genpt/conformance";
import type { HardwareWalker, PtFormat } from "@genpt/core";
import { UserError } from "../user-error.js";

type Factory = Parameters<typeof runConformance>[0];

export async function loadFormatModule(path: string): Promise<{ factory: Factory; configs: unknown[] }> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_MODULE_NOT_FOUND" || err.code === "ENOENT")
      throw new UserError(`cannot load module ${path}: file not found`);
    throw new UserError(`cannot load module ${path}: ${err.message.split("\n")[0]}`);
  }
  const src = (typeof mod.default === "object" && mod.default !== null ? mod.default : mod) as Record<
    string,
    unknown
  >;
  if (typeof src.factory === "function") {
    const configs = Array.isArray(src.configs) && src.configs.length > 0 ? src.configs : [{}];
    return { factory: src.factory as Factory, configs };
  }
  const format = src.format as PtFormat<unknown> | undefined;
  if (format && typeof format === "object" && typeof format.kind === "function" && format.geometry) {
    const walker = src.walker as HardwareWalker | undefined;
    return { factory: (() => ({ format, walker })) as unknown as Factory, configs: [{}] };
  }
  throw new UserError(`module ${path} has no format: export { factory, configs } or { format, walker }`);
}

export async function checkModule(
  path: string,
  onProgress: (line: string) => void,
): Promise<{ text: string; ok: boolean }> {
  const { factory, configs } = await loadFormatModule(path);
  const report = runConformance(factory, configs as never[], {
    onProgress: (c: string, cfg: unknown) => onProgress(`${c} ${JSON.stringify(cfg)}`),
  });
  return { text: formatReport(report), ok: report.ok };
}
