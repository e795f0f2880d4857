// Scenarios: a JSON file naming a format, its config, and steps (map, unmap, dma, dirty, cut, split, merge,
// startDirtyLog, stopDirtyLog, dump, expect).
// load() validates every field and names the step and field on error; run() executes the steps against
// the core and a simulated device, printing one line per step.
import { readFileSync } from "node:fs";
import { PhysMem } from "@genpt/alloc";
import { createPageTable, type PageTable, Prot, PtError, sizeName } from "@genpt/core";
import { Iommu } from "@genpt/sim";
import { bytes, parseU64 } from "./numbers.js";
import { type Config, findFormat } from "./registry.js";
import { UserError } from "./user-error.js";

export type Step =
  | { op: "map"; iova: bigint; pa: bigint; size: bigint; prot: number; expectError?: string }
  | { op: "unmap"; iova: bigint; size: bigint; expectError?: string }
  | { op: "dma"; iova: bigint; size: bigint; access: "read" | "write"; expectError?: string }
  | { op: "dirty"; iova: bigint; size: bigint; noClear: boolean; expectError?: string }
  | { op: "cut"; iova: bigint; expectError?: string }
  | { op: "split"; iova: bigint; size: bigint; expectError?: string }
  | { op: "merge"; iova: bigint; size: bigint; dirty: "refuse" | "carry"; expectError?: string }
  | { op: "startDirtyLog"; iova: bigint; size: bigint; split: boolean; expectError?: string }
  | { op: "stopDirtyLog"; iova: bigint; size: bigint; merge: boolean; expectError?: string }
  | { op: "dump" }
  | {
      op: "expect";
      translations?: Array<{ iova: bigint; pa: bigint | null }>;
      entries?: Record<string, number>;
      topLevel?: number;
      dirty?: Array<{ iova: bigint; size: bigint }>;
      unmapped?: bigint;
    };

export interface Scenario {
  readonly name: string;
  readonly format: string;
  readonly config: Config;
  readonly memory: { base: bigint; size: bigint };
  readonly coherent: boolean;
  readonly steps: Step[];
}

const OPS = [
  "map",
  "unmap",
  "dma",
  "dirty",
  "cut",
  "split",
  "merge",
  "startDirtyLog",
  "stopDirtyLog",
  "dump",
  "expect",
];

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read scenario ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}

export function parseScenario(raw: unknown, where: string): Scenario {
  const obj = asObject(raw, where);
  const format = asString(obj.format, `${where}: format`);
  findFormat(format);
  const config = obj.config === undefined ? {} : asObject(obj.config, `${where}: config`);
  const mem = obj.memory === undefined ? {} : asObject(obj.memory, `${where}: memory`);
  const memory = {
    base: mem.base === undefined ? 0x8000_0000n : parseU64(mem.base, `${where}: memory.base`),
    size: mem.size === undefined ? 64n << 20n : parseU64(mem.size, `${where}: memory.size`),
  };
  const device = obj.device === undefined ? {} : asObject(obj.device, `${where}: device`);
  if (!Array.isArray(obj.steps)) throw new UserError(`${where}: steps: expected an array of steps`);
  const steps = obj.steps.map((s, i) => parseStep(s, `${where}: steps[${i}]`));
  return {
    name: typeof obj.name === "string" ? obj.name : where,
    format,
    config: config as Config,
    memory,
    coherent: device.coherent !== false,
    steps,
  };
}

function parseStep(raw: unknown, where: string): Step {
  const s = asObject(raw, where);
  const op = asString(s.op, `${where}.op`);
  if (!OPS.includes(op)) throw new UserError(`${where}.op: "${op}" is not one of ${OPS.join(", ")}`);
  const expectError =
    s.expectError === undefined ? undefined : asString(s.expectError, `${where}.expectError`);
  const u = (k: string) => parseU64(s[k], `${where}.${k}`);
  switch (op) {
    case "map":
      return {
        op,
        iova: u("iova"),
        pa: u("pa"),
        size: u("size"),
        prot: parseProt(s.prot ?? "rw", `${where}.prot`),
        expectError,
      };
    case "unmap":
      return { op, iova: u("iova"), size: u("size"), expectError };
    case "dma": {
      const access = s.access ?? "write";
      if (access !== "read" && access !== "write")
        throw new UserError(`${where}.access: "${String(access)}" is not "read" or "write"`);
      return { op, iova: u("iova"), size: u("size"), access, expectError };
    }
    case "dirty":
      return { op, iova: u("iova"), size: u("size"), noClear: s.noClear === true, expectError };
    case "cut":
      return { op, iova: u("iova"), expectError };
    case "split":
      return { op, iova: u("iova"), size: u("size"), expectError };
    case "merge": {
      const dirty = s.dirty ?? "refuse";
      if (dirty !== "refuse" && dirty !== "carry")
        throw new UserError(`${where}.dirty: ${JSON.stringify(dirty)} is not "refuse" or "carry"`);
      return { op, iova: u("iova"), size: u("size"), dirty, expectError };
    }
    case "startDirtyLog":
      return { op, iova: u("iova"), size: u("size"), split: asBool(s.split, `${where}.split`), expectError };
    case "stopDirtyLog":
      return { op, iova: u("iova"), size: u("size"), merge: asBool(s.merge, `${where}.merge`), expectError };
    case "dump":
      return { op };
    default: {
      const tr =
        s.translations === undefined
          ? undefined
          : asArray(s.translations, `${where}.translations`).map((t, i) => {
              const o = asObject(t, `${where}.translations[${i}]`);
              return {
                iova: parseU64(o.iova, `${where}.translations[${i}].iova`),
                pa: o.pa === null ? null : parseU64(o.pa, `${where}.translations[${i}].pa`),
              };
            });
      const entries =
        s.entries === undefined
          ? undefined
          : (asObject(s.entries, `${where}.entries`) as Record<string, number>);
      if (entries)
        for (const [k, v] of Object.entries(entries)) {
          parseU64(k, `${where}.entries key`);
          if (!Number.isInteger(v) || v < 0)
            throw new UserError(`${where}.entries["${k}"]: ${JSON.stringify(v)} is not a count`);
        }
      const dirty =
        s.dirty === undefined
          ? undefined
          : asArray(s.dirty, `${where}.dirty`).map((d, i) => {
              const o = asObject(d, `${where}.dirty[${i}]`);
              return {
                iova: parseU64(o.iova, `${where}.dirty[${i}].iova`),
                size: parseU64(o.size, `${where}.dirty[${i}].size`),
              };
            });
      const topLevel = s.topLevel === undefined ? undefined : Number(s.topLevel);
      if (topLevel !== undefined && !Number.isInteger(topLevel))
        throw new UserError(`${where}.topLevel: ${JSON.stringify(s.topLevel)} is not a level`);
      const unmapped = s.unmapped === undefined ? undefined : parseU64(s.unmapped, `${where}.unmapped`);
      return { op: "expect", translations: tr, entries, topLevel, dirty, unmapped };
    }
  }
}

function parseProt(v: unknown, where: string): number {
  if (typeof v !== "string")
    throw new UserError(
      `${where}: expected a string such as "rw", "r", "w", "rw+cache", got ${JSON.stringify(v)}`,
    );
  let prot = 0;
  for (const part of v
    .toLowerCase()
    .split(/[+|,\s]+/)
    .filter(Boolean)) {
    if (/^[rw]+$/.test(part)) {
      if (part.includes("r")) prot |= Prot.READ;
      if (part.includes("w")) prot |= Prot.WRITE;
    } else if (part === "cache") prot |= Prot.CACHE;
    else if (part === "noexec") prot |= Prot.NOEXEC;
    else if (part === "mmio") prot |= Prot.MMIO;
    else if (part === "priv") prot |= Prot.PRIV;
    else throw new UserError(`${where}: "${part}" is not r, w, rw, cache, noexec, mmio or priv`);
  }
  return prot;
}

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new UserError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}
function asArray(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new UserError(`${where}: expected an array`);
  return v;
}
/** An optional flag: absent is false. */
function asBool(v: unknown, where: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean")
    throw new UserError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}
function asString(v: unknown, where: string): string {
  if (typeof v !== "string") throw new UserError(`${where}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export interface ScenarioRun {
  readonly pt: PageTable<unknown>;
  readonly failures: string[];
}

const hx = (v: bigint) => `0x${v.toString(16)}`;
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
/** A split's or merge's result: "1 entry split, 513 tables allocated", or "nothing to split". */
const resizeLine = (
  r: { entries: number; tables: number },
  op: string,
  entryVerb: string,
  tableVerb: string,
) =>
  r.entries === 0 && r.tables === 0
    ? `nothing to ${op}`
    : `${count(r.entries, "entry", "entries")} ${entryVerb}, ${count(r.tables, "table", "tables")} ${tableVerb}`;
const splitLine = (r: { entries: number; tables: number }) => resizeLine(r, "split", "split", "allocated");
const mergeLine = (r: { entries: number; tables: number }) => resizeLine(r, "merge", "written", "freed");

/** Runs every step, printing one line each. The caller destroys `pt`. */
export function runScenario(sc: Scenario, print: (line: string) => void): ScenarioRun {
  const entry = findFormat(sc.format);
  const { format, walker } = entry.build({ ...entry.defaults, ...sc.config });
  const mem = new PhysMem({ base: sc.memory.base, size: sc.memory.size });
  let iommu: Iommu | undefined;
  const driver = {
    flush: (r: Parameters<NonNullable<Iommu["driver"]["flush"]>>[0]) => iommu?.driver.flush?.(r),
    cacheFlush: (pa: bigint, len: number) => iommu?.driver.cacheFlush?.(pa, len),
    changeTop: (root: bigint, level: number) => iommu?.driver.changeTop?.(root, level),
  };
  const pt = createPageTable(format, { mem, driver, features: { incoherent: !sc.coherent } });
  const info = pt.info();
  iommu = new Iommu({
    mem,
    walker,
    root: info.root,
    topLevel: info.topLevel,
    coherent: sc.coherent,
    dirtyTracking: info.dirtyTracking,
  });
  print(`${sc.name}: ${format.name} (${format.config}), ${sc.steps.length} steps`);
  const failures: string[] = [];
  let lastDirty: Array<{ iova: bigint; size: bigint }> = [];
  let lastUnmapped = 0n;
  for (const [i, step] of sc.steps.entries()) {
    const tag = `step ${i + 1} ${step.op}`;
    const fail = (why: string) => {
      failures.push(`${tag}: ${why}`);
      print(`${tag}: FAIL ${why}`);
    };
    const attempt = (desc: string, fn: () => string) => {
      const expectError = "expectError" in step ? step.expectError : undefined;
      try {
        const res = fn();
        if (expectError) fail(`${desc}: expected ${expectError}, but it succeeded (${res})`);
        else print(`${tag} ${desc}: ${res}`);
      } catch (e) {
        if (!(e instanceof PtError)) throw e;
        if (expectError === e.code) print(`${tag} ${desc}: ${e.code} as expected`);
        else fail(`${desc}: ${e.message}`);
      }
    };
    switch (step.op) {
      case "map":
        attempt(`${hx(step.iova)} -> ${hx(step.pa)} ${bytes(step.size)}`, () => {
          pt.map(step.iova, step.pa, step.size, step.prot);
          return "ok";
        });
        continue;
      case "unmap":
        attempt(`${hx(step.iova)} ${bytes(step.size)}`, () => {
          lastUnmapped = pt.unmap(step.iova, step.size);
          return `${bytes(lastUnmapped)} unmapped`;
        });
        continue;
      case "dma":
        attempt(`${step.access} ${hx(step.iova)} ${bytes(step.size)}`, () => {
          const r = iommu!.dma(step.iova, step.size, step.access);
          if (!r.ok)
            throw new PtError(
              "ENXIO",
              `device fault: ${r.fault.kind} at level ${r.fault.level}, iova ${hx(r.fault.iova)} (${r.fault.detail})`,
            );
          return `${r.segments.length} segment(s), first -> ${hx(r.segments[0]!.pa)}`;
        });
        continue;
      case "dirty":
        attempt(`${hx(step.iova)} ${bytes(step.size)}${step.noClear ? " noClear" : ""}`, () => {
          lastDirty = pt.readAndClearDirty(step.iova, step.size, { noClear: step.noClear });
          return lastDirty.length === 0
            ? "nothing dirty"
            : lastDirty.map((d) => `${hx(d.iova)}+${bytes(d.size)}`).join(", ");
        });
        continue;
      case "cut":
        attempt(hx(step.iova), () =>
          pt.cut(step.iova)
            ? `entry split (census: ${censusLine(pt.census().leaves)})`
            : "already an entry boundary or unmapped, nothing to do",
        );
        continue;
      case "split":
        attempt(`${hx(step.iova)} ${bytes(step.size)}`, () =>
          splitLine(pt.splitBlocks(step.iova, step.size)),
        );
        continue;
      case "merge":
        attempt(
          `${hx(step.iova)} ${bytes(step.size)}${step.dirty === "carry" ? " carrying dirty" : ""}`,
          () => mergeLine(pt.mergePages(step.iova, step.size, { dirty: step.dirty })),
        );
        continue;
      case "startDirtyLog":
        attempt(`${hx(step.iova)} ${bytes(step.size)}${step.split ? " split" : ""}`, () => {
          const r = pt.startDirtyLog(step.iova, step.size, { split: step.split });
          return `${step.split ? `${splitLine(r)}, ` : ""}dirty bits cleared`;
        });
        continue;
      case "stopDirtyLog":
        attempt(`${hx(step.iova)} ${bytes(step.size)}${step.merge ? " merge" : ""}`, () => {
          const r = pt.stopDirtyLog(step.iova, step.size, { merge: step.merge });
          return step.merge ? mergeLine(r) : "stopped, tables left as they are";
        });
        continue;
      case "dump":
        print(pt.dump());
        continue;
      case "expect": {
        const problems = checkExpect(pt, step, lastDirty, lastUnmapped);
        if (problems.length === 0) print(`${tag}: ok`);
        else for (const p of problems) fail(p);
        continue;
      }
    }
  }
  return { pt, failures };
}

function checkExpect(
  pt: PageTable<unknown>,
  step: Extract<Step, { op: "expect" }>,
  lastDirty: Array<{ iova: bigint; size: bigint }>,
  lastUnmapped: bigint,
): string[] {
  const out: string[] = [];
  for (const t of step.translations ?? []) {
    const got = pt.iovaToPhys(t.iova);
    if ((got ?? null) !== t.pa)
      out.push(
        `iova ${hx(t.iova)} translates to ${got === undefined ? "nothing" : hx(got)}, expected ${t.pa === null ? "nothing" : hx(t.pa)}`,
      );
  }
  if (step.entries) {
    const leaves = pt.census().leaves;
    for (const [k, want] of Object.entries(step.entries)) {
      const size = parseU64(k, "entries");
      const lg2 = size.toString(2).length - 1;
      const got = leaves[lg2] ?? 0;
      if (got !== want)
        out.push(`${want} entries of ${k} expected, found ${got} (census: ${censusLine(leaves)})`);
    }
  }
  if (step.topLevel !== undefined && pt.info().topLevel !== step.topLevel)
    out.push(`top level ${pt.info().topLevel}, expected ${step.topLevel}`);
  if (step.dirty) {
    const a = JSON.stringify(step.dirty.map((d) => [hx(d.iova), hx(d.size)]));
    const b = JSON.stringify(lastDirty.map((d) => [hx(d.iova), hx(d.size)]));
    if (a !== b) out.push(`last dirty harvest was ${b}, expected ${a}`);
  }
  if (step.unmapped !== undefined && lastUnmapped !== step.unmapped)
    out.push(`last unmap removed ${hx(lastUnmapped)} bytes, expected ${hx(step.unmapped)}`);
  return out;
}

export function censusLine(leaves: Record<number, number>): string {
  const parts = Object.entries(leaves).map(([lg2, n]) => `${n} x ${sizeName(Number(lg2))}`);
  return parts.length === 0 ? "empty" : parts.join(", ");
}
