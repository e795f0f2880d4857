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
  list.push(...splitMerge(fmt, mk(64n * MiB), sizes, base));
  return { list, tables };
}

/**
 * Split 1 GiB of blocks into smallest pages, and merge it back, in ns per resulting page. The block is the
 * item size of level 1 (2M with a 4K granule, 32M/512M with 16K/64K, 1M sections on v7s); none when the
 * format has no leaf of that size or it exceeds 1 GiB. Each block is mapped by its own call with the OA one
 * block past the IOVA, so no larger leaf (1G, supersection, AMD replicated) can hold the range, then or
 * after a merge. The table's leaves are checked once by census, and every split and merge by its counts,
 * so that a broken core fails rather than producing a fast bogus figure.
 */
function splitMerge(
  fmt: PtFormat<unknown>,
  pt: PageTable<unknown>,
  sizes: readonly bigint[],
  base: bigint,
): Workload[] {
  const level1 = fmt.geometry.levels[1];
  if (!level1?.leafLg2.includes(level1.itemLg2)) return [];
  const blockLg2 = level1.itemLg2;
  const block = 1n << BigInt(blockLg2);
  if (block > GiB || !sizes.includes(block)) return [];
  const g = pt.info().granule;
  const gLg2 = log2(g);
  const pages = Number(GiB / g);
  const blocks = Number(GiB / block);
  const what = `${fmt.name}: 1 GiB of ${sizeName(block)} blocks`;
  const expectLeaves = (after: string, lg2: number, count: number) => {
    const c = pt.census();
    const kinds = Object.keys(c.leaves).length;
    if (kinds !== 1 || c.leaves[lg2] !== count || c.mappedBytes !== GiB)
      throw new Error(
        `bench ${what}: after ${after}, expected ${count} leaves of ${sizeName(1n << BigInt(lg2))} ` +
          `mapping 1 GiB, census has ${JSON.stringify(c.leaves)} mapping ${c.mappedBytes} bytes`,
      );
  };
  // Every block becomes one table of smallest pages, and every table one block again.
  const expectCounts = (op: string, r: { entries: number; tables: number } | undefined) => {
    if (r?.entries !== blocks || r.tables !== blocks)
      throw new Error(
        `bench ${what}: ${op} replaced ${r?.entries} entries and ${r?.tables} tables, expected ${blocks} of each`,
      );
  };

  for (let o = 0n; o < GiB; o += block) pt.map(base + o, base + block + o, block, RW);
  expectLeaves("mapping", blockLg2, blocks);
  expectCounts("splitBlocks", pt.splitBlocks(base, GiB));
  expectLeaves("splitBlocks", gLg2, pages);
  expectCounts("mergePages", pt.mergePages(base, GiB));
  expectLeaves("mergePages", blockLg2, blocks);

  let last: { entries: number; tables: number } | undefined;
  const took = (op: string) => {
    const r = last;
    last = undefined;
    if (r) expectCounts(op, r); // else the timed call threw, and tinybench reports that
  };
  return [
    {
      name: `split 1 GiB of ${sizeName(block)} blocks`,
      unit: "page",
      unitsPerCall: pages,
      fn: () => {
        last = pt.splitBlocks(base, GiB);
      },
      afterEach: () => {
        took("splitBlocks");
        expectCounts("mergePages (restore)", pt.mergePages(base, GiB));
      },
    },
    {
      name: `merge 1 GiB back to ${sizeName(block)}`,
      unit: "page",
      unitsPerCall: pages,
      beforeEach: () => expectCounts("splitBlocks (restore)", pt.splitBlocks(base, GiB)),
      fn: () => {
        last = pt.mergePages(base, GiB);
      },
      afterEach: () => took("mergePages"),
    },
  ];
}

function log2(x: bigint): number {
  return x.toString(2).length - 1;
}

/** 4096n -> "4K", 2 MiB -> "2M", 1 GiB -> "1G". */
function sizeName(bytes: bigint): string {
  for (const [shift, suffix] of [
    [30n, "G"],
    [20n, "M"],
    [10n, "K"],
  ] as const)
    if (bytes >= 1n << shift && bytes % (1n << shift) === 0n) return `${bytes >> shift}${suffix}`;
  return `${bytes}`;
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
