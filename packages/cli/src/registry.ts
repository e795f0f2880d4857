// The four formats the CLI knows, each with its default configuration, the configurations `genpt
// formats` lists, and how to build the format and its hardware walker from a config object.
import type { HardwareWalker, PtFormat } from "@genpt/core";
import { amdv1, amdv1Walker } from "@genpt/fmt-amdv1";
import { armv7s, armv7sWalker } from "@genpt/fmt-armv7s";
import { armv8, armv8Walker } from "@genpt/fmt-armv8";
import { vtdss, vtdssWalker } from "@genpt/fmt-vtd";
import { UserError } from "./user-error.js";

export type Config = Record<string, unknown>;

export interface Built {
  readonly format: PtFormat<unknown>;
  readonly walker: HardwareWalker;
}

export interface FormatEntry {
  readonly name: string;
  readonly summary: string;
  readonly defaults: Config;
  /** Configurations `genpt formats` shows. */
  readonly listed: readonly Config[];
  build(config: Config): Built;
}

const num = (c: Config, k: string, d: number) => (c[k] === undefined ? d : (c[k] as number));

export const FORMATS: readonly FormatEntry[] = [
  {
    name: "amdv1",
    summary: "AMD IOMMU v1 host page table (replicated PTEs, dynamic top)",
    defaults: {},
    listed: [{}, { startLevel: 4, maxLevel: 6 }],
    build: (c) => ({ format: amdv1(c as never) as PtFormat<unknown>, walker: amdv1Walker({}) }),
  },
  {
    name: "vtdss",
    summary: "Intel VT-d second-stage page table (SLADE A/D bits)",
    defaults: { vaBits: 48 },
    listed: [{ vaBits: 39 }, { vaBits: 48 }, { vaBits: 57 }],
    build: (c) => {
      const format = vtdss(c as never) as PtFormat<unknown>;
      return { format, walker: vtdssWalker({ haw: format.geometry.oaBits }) };
    },
  },
  {
    name: "armv8",
    summary: "ARMv8 LPAE stage 1/2 (SMMUv3), 4K/16K/64K granules, DBM dirty tracking",
    defaults: { granule: 4096, stage: 1, ias: 48, oas: 48 },
    listed: [
      { granule: 4096, stage: 1, ias: 48, oas: 48 },
      { granule: 16384, stage: 1, ias: 48, oas: 48 },
      { granule: 65536, stage: 1, ias: 52, oas: 52 },
      { granule: 4096, stage: 2, ias: 40, oas: 40 },
    ],
    build: (c) => {
      const cfg = {
        granule: num(c, "granule", 4096),
        stage: num(c, "stage", 1),
        ias: num(c, "ias", 48),
        oas: num(c, "oas", 48),
        ...c,
      };
      return {
        format: armv8(cfg as never) as PtFormat<unknown>,
        walker: armv8Walker({
          granule: cfg.granule as never,
          stage: cfg.stage as never,
          ias: cfg.ias,
          oas: cfg.oas,
          ttbr1: c.ttbr1 === true,
        }),
      };
    },
  },
  {
    name: "armv7s",
    summary: "ARMv7 short descriptor (io-pgtable v7s), 1 KiB L2 tables, MediaTek extension",
    defaults: {},
    listed: [{}, { supersections: true }, { mtkExt: true, noPerms: true }],
    build: (c) => ({
      format: armv7s(c as never) as PtFormat<unknown>,
      walker: armv7sWalker({
        mtkExt: c.mtkExt === true,
        ttbrExt: c.ttbrExt === true,
        noPerms: c.noPerms === true,
      }),
    }),
  },
];

export function findFormat(name: string): FormatEntry {
  const f = FORMATS.find((x) => x.name === name);
  if (!f)
    throw new UserError(`unknown format "${name}"; known formats: ${FORMATS.map((x) => x.name).join(", ")}`);
  return f;
}
