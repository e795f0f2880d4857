// The benchmark workloads of DESIGN "Performance", written once against the public API so every format
// runs the same work. Each workload says how many units (pages, PTEs, calls) one timed call covers.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, LEAF, type PageTable, Prot, type PtFormat, TABLE, vaBitsAtTop } from "@genpt/core";

export interface Workload {
  readonly name: string;
  /** What one unit is, for the ns-per-unit column. */
  readonly unit: string;
  readonly unitsPerCall: number;
  readonly fn: () => void;
  /** Untimed work before/after each timed call, to restore the state. */
  readonly beforeEach?: () => void;
  readonly afterEach?: () => void;
  /** DESIGN target in ns per unit, when there is one. */
  readonly target?: number;
}

const RW = Prot.READ | Prot.WRITE;
const MiB = 1n << 20n;
const GiB = 1n << 30n;

function table(fmt: PtFormat<unknown>, memBytes = 256n * MiB): PageTable<unknown> {
  // Below 4 GiB, where every format can keep its tables (v7s must).
  return createPageTable(fmt, { mem: new PhysMem({ base: 0x8000_0000n, size: memBytes }) });
}

/** Work that maps `n` granules one granule apart in OA so that only the smallest page fits. */
export function workloads(fmt: PtFormat<unknown>): { list: Workload[]; tables: PageTable<unknown>[] } {
  const tables: PageTable<unknown>[] = [];
  const mk = (memBytes?: bigint) => {
    const pt = table(fmt, memBytes);
    tables.push(pt);
    return pt;
  };
  const pt = mk();
  const info = pt.info();
  const g = info.granule;
  const sizes = info.pgsizes.filter((s) => s <= GiB);
  const base = 0x4000_0000n; // 1 GiB aligned, inside every aperture here
  const list: Workload[] = [];

  // Steady state: the tables along the path already exist, as in Linux's perf test after the first pair.
  pt.map(base, base + g, g, RW);
  pt.unmap(base, g);
  list.push({
    name: "map+unmap 1 page",
    unit: "pair",
    unitsPerCall: 1,
    fn: () => {
      pt.map(base, base + g, g, RW);
      pt.unmap(base, g);
    },
    target: 200,
  });

  const run = (
    label: string,
    iova: bigint,
    pa: bigint,
    size: bigint,
    units: number,
    unit: string,
    targets: [number?, number?] = [],
  ) => {
    list.push({
      name: `map ${label}`,
      unit,
      unitsPerCall: units,
      fn: () => pt.map(iova, pa, size, RW),
      afterEach: () => void pt.unmap(iova, size),
      target: targets[0],
    });
    list.push({
      name: `unmap ${label}`,
      unit,
      unitsPerCall: units,
      beforeEach: () => pt.map(iova, pa, size, RW),
      fn: () => void pt.unmap(iova, size),
      target: targets[1],
    });
  };
  run("256 x smallest page", base, base + g, 256n * g, 1, "call");
  if (sizes.includes(2n * MiB)) run("256 x 2M", base + 2n * MiB, base + 2n * MiB, 512n * MiB, 1, "call");
  // One entry of each size, largest first, each naturally aligned, packed from 2 GiB (fits 32-bit VAs).
  const placed: Array<{ at: bigint; size: bigint }> = [];
  let at = 2n * GiB;
  for (const s of [...sizes].reverse()) {
    at = (at + s - 1n) & ~(s - 1n);
    placed.push({ at, size: s });
    at += s;
  }
  list.push({
    name: `map+unmap one of each size (${sizes.length})`,
    unit: "call",
    unitsPerCall: 1,
    fn: () => {
      for (const p of placed) pt.map(p.at, p.at, p.size, RW);
      for (const p of placed) pt.unmap(p.at, p.size);
    },
  });
  const bulk = 256n * MiB;
  const bulkPages = Number(bulk / g);
  run("256 MiB as smallest pages", base, base + g, bulk, bulkPages, "page", [2.5, 1.5]);

  // Dirty scan over 1 GiB of smallest pages, every page dirty; and iovaToPhys over the same mapping.
  if (info.dirtyTracking) {
    const dt = mk(512n * MiB);
    dt.map(base, base + g, GiB, RW);
    const ptes = Number(GiB / g);
    list.push({
      name: "dirty scan 1 GiB (noClear, all dirty)",
      unit: "PTE",
      unitsPerCall: ptes,
      beforeEach: () => dirtyAll(dt),
      fn: () => void dt.readAndClearDirty(base, GiB, { noClear: true }),
    });
    list.push({
      name: "read-and-clear dirty 1 GiB",
      unit: "PTE",
      unitsPerCall: ptes,
      beforeEach: () => dirtyAll(dt),
      fn: () => void dt.readAndClearDirty(base, GiB),
      target: 2.5,
    });
  }
  const lt = mk(512n * MiB);
  lt.map(base, base + g, GiB, RW);
  const hot = base + 0x12_3456n;
  list.push({
    name: "iovaToPhys hot",
    unit: "call",
    unitsPerCall: 1024,
    fn: () => {
      for (let i = 0; i < 1024; i++) lt.iovaToPhys(hot);
    },
  });
  const rnd: bigint[] = [];
  let x = 0x9e3779b9;
  for (let i = 0; i < 4096; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    rnd.push(base + BigInt(x % 0x4000_0000));
  }
  list.push({
    name: "iovaToPhys random",
    unit: "call",
    unitsPerCall: rnd.length,
    fn: () => {
      for (const v of rnd) lt.iovaToPhys(v);
    },
    target: 40,
  });
  return { list, tables };
}

/** Dirties every leaf item of the table by applying the format's make-dirty bits to raw memory. */
function dirtyAll(pt: PageTable<unknown>): void {
  const fmt = pt.format;
  const d = fmt.dirty!;
  const setLo = Number((d.makeDirty.set ?? 0n) & 0xffff_ffffn);
  const setHi = Number((d.makeDirty.set ?? 0n) >> 32n);
  const keepLo = ~Number((d.makeDirty.clear ?? 0n) & 0xffff_ffffn);
  const keepHi = ~Number((d.makeDirty.clear ?? 0n) >> 32n);
  const wpe = fmt.geometry.entryBytes / 4;
  const info = pt.info();
  const visit = (pa: number, level: number, entries: number) => {
    const w = pt.mem.chunk(pa);
    const off = pt.mem.wordIndex(pa);
    for (let i = 0; i < entries; i++) {
      const p = off + i * wpe;
      const lo = w[p]!;
      const hi = wpe === 2 ? w[p + 1]! : 0;
      if (lo === 0 && hi === 0) continue;
      const kind = fmt.kind(lo, hi, level);
      if (kind === TABLE)
        visit(
          fmt.tablePa(lo, hi, level),
          level - 1,
          2 ** (fmt.geometry.levels[level - 1]!.tableLg2 - (wpe === 2 ? 3 : 2)),
        );
      else if (kind === LEAF) {
        w[p] = (lo & keepLo) | setLo;
        if (wpe === 2) w[p + 1] = (hi & keepHi) | setHi;
      }
    }
  };
  const topEntries =
    2 ** (vaBitsAtTop(fmt.geometry, info.topLevel) - fmt.geometry.levels[info.topLevel]!.itemLg2);
  visit(Number(info.root), info.topLevel, topEntries);
}

/** Same-process baseline: the raw cost of writing PTE pairs into a Uint32Array. */
export function baseline(): Workload {
  const w = new Uint32Array(65536 * 2);
  return {
    name: "baseline: raw PTE pair write",
    unit: "PTE",
    unitsPerCall: 65536,
    fn: () => {
      for (let i = 0, v = 0x1003; i < w.length; i += 2, v += 0x1000) {
        w[i] = v;
        w[i + 1] = 0x4000_0000;
      }
    },
  };
}
