// CaseEnv: the fixture every case runs in. It owns a fresh PhysMem, creates the page tables the case
// asks for (with the configuration's features and a recording driver), and on finish destroys every
// table still alive and checks the allocator holds nothing: the leak check that ends every case.
import { PhysMem } from "@genpt/alloc";
import { createPageTable, type PtDriver, type PtFeatures } from "@genpt/core";
import type { FormatUnderTest } from "../types.js";
import { fail } from "./assert.js";
import { RecordingDriver } from "./driver.js";
import { Rng } from "./rng.js";
import { TestTable } from "./table.js";

export interface TableOptions {
  /** Merged over the configuration's own features. */
  readonly features?: PtFeatures;
  /** Receives every driver call after the recorder (e.g. the sim's Iommu driver). */
  readonly driver?: PtDriver;
  /** Narrows the page sizes, as a domain's pgsize bitmap does. */
  readonly pgsizes?: readonly bigint[];
}

export class CaseEnv {
  readonly mem: PhysMem;
  /** The IOVA the case was working on last, reported with a failure that names none. */
  lastIova: bigint | undefined;
  private readonly tables: TestTable[] = [];

  constructor(
    readonly subject: FormatUnderTest,
    readonly caseName: string,
    readonly seed: number,
    readonly iterations: number,
  ) {
    this.mem = new PhysMem({ base: subject.memBase ?? 0x8000_0000n, size: subject.memSize ?? 64n << 20n });
  }

  get format() {
    return this.subject.format;
  }

  get walker() {
    return this.subject.walker;
  }

  /** A new, empty page table of the configuration in this case's memory. */
  table(opts: TableOptions = {}): TestTable {
    const rec = new RecordingDriver(opts.driver);
    const features = { ...this.subject.features, ...opts.features };
    const pt = createPageTable(this.subject.format, {
      mem: this.mem,
      features,
      driver: rec,
      ...(opts.pgsizes ? { pgsizes: opts.pgsizes } : {}),
    });
    const t = new TestTable(pt, rec, this.subject.walker);
    this.tables.push(t);
    return t;
  }

  /** A random source for this case, reproducible from the seed. */
  rng(stream = ""): Rng {
    return new Rng(this.seed, `${this.caseName}/${stream}`);
  }

  /** Notes the IOVA being worked on, for the failure report. */
  at(iova: bigint): bigint {
    this.lastIova = iova;
    return iova;
  }

  /** Destroys every table still alive, then checks that nothing is left in the allocator. */
  finish(): void {
    for (const t of this.tables) {
      if (t.pt.internals.destroyed) continue;
      t.pt.destroy();
      t.pt.allocator.rcu.synchronize();
      t.pt.allocator.assertNoLeaks(t.pt.owner);
    }
    const alloc = this.tables[0]?.pt.allocator;
    if (!alloc) return;
    alloc.rcu.synchronize();
    alloc.assertNoLeaks();
    const s = alloc.stats();
    if (s.liveTables !== 0 || s.liveBytes !== 0)
      fail(`leak: ${s.liveTables} tables (${s.liveBytes} bytes) still live`);
  }
}
