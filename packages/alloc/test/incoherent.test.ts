// Incoherent-walker tracking: start/stop, still-flushing, the flush log, and every misuse error.
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem } from "../src/index.js";
import { expectPtError, expectUnchanged } from "./helpers.js";

function setup() {
  const mem = new PhysMem({ base: 0x1000_0000n, size: 16n << 20n });
  return { mem, a: new LevelAllocator(mem) };
}

describe("incoherent tracking", () => {
  it("start, stop and query", () => {
    const { a } = setup();
    const t = a.alloc(12);
    expect(a.isIncoherent(t)).toBe(false);
    a.startIncoherent(t);
    expect(a.isIncoherent(t)).toBe(true);
    a.stopIncoherent(t);
    expect(a.isIncoherent(t)).toBe(false);
  });

  it("misuse is EINVAL and changes nothing", () => {
    const { a } = setup();
    const t = a.alloc(12);
    expectUnchanged(a, () => a.stopIncoherent(t), "EINVAL", /never started/);
    a.startIncoherent(t);
    expectUnchanged(a, () => a.startIncoherent(t), "EINVAL", /already/);
    expect(a.isIncoherent(t)).toBe(true);
    const dead = a.alloc(10);
    a.free(dead);
    expectUnchanged(a, () => a.startIncoherent(dead), "EINVAL", new RegExp(dead.toString(16)));
    expectUnchanged(a, () => a.stopIncoherent(dead), "EINVAL");
    expectUnchanged(a, () => a.startIncoherent(t + 64), "EINVAL");
    expect(a.isIncoherent(dead)).toBe(false);
    // Freeing drops the flag: a new table at the same address starts coherent.
    a.free(t);
    expect(a.isIncoherent(t)).toBe(false);
    const again = [a.alloc(12), a.alloc(12)];
    expect(again).toContain(t);
    expect(a.isIncoherent(t)).toBe(false);
  });

  it("list versions are all or nothing", () => {
    const { a } = setup();
    const list = a.newList();
    const ts = [a.alloc(12), a.alloc(12), a.alloc(9)];
    for (const pa of ts) list.add(pa);
    a.startIncoherent(ts[1]!);
    expectUnchanged(a, () => a.startIncoherentList(list), "EINVAL", /incoherent already/);
    expect(ts.map((pa) => a.isIncoherent(pa))).toEqual([false, true, false]);
    expectUnchanged(a, () => a.stopIncoherentList(list), "EINVAL", /never started/);
    expect(ts.map((pa) => a.isIncoherent(pa))).toEqual([false, true, false]);
    a.stopIncoherent(ts[1]!);
    a.startIncoherentList(list);
    expect(ts.map((pa) => a.isIncoherent(pa))).toEqual([true, true, true]);
    a.stopIncoherentList(list);
    expect(ts.map((pa) => a.isIncoherent(pa))).toEqual([false, false, false]);
    a.freeList(list);
    a.assertNoLeaks();
  });

  it("still-flushing: set, query, done; done without set is EINVAL", () => {
    const { a } = setup();
    const t = a.alloc(12);
    expectUnchanged(a, () => a.doneFlush(t), "EINVAL", /setStillFlushing/);
    a.setStillFlushing(t);
    expect(a.isStillFlushing(t)).toBe(true);
    a.setStillFlushing(t);
    a.doneFlush(t);
    expect(a.isStillFlushing(t)).toBe(false);
    expectUnchanged(a, () => a.doneFlush(t), "EINVAL");
    a.free(t);
    expectUnchanged(a, () => a.setStillFlushing(t), "EINVAL");
    expect(a.isStillFlushing(t)).toBe(false);
  });

  it("records half-open flush ranges in order", () => {
    const { mem, a } = setup();
    const t = a.alloc(12);
    a.recordFlush(t, 8);
    a.recordFlush(t + 4088, 8);
    expect(a.flushLog()).toEqual([
      { pa: t, len: 8 },
      { pa: t + 4088, len: 8 },
    ]);
    expectPtError(() => a.recordFlush(t, 0), "EINVAL");
    expectPtError(() => a.recordFlush(t, 1.5), "EINVAL");
    expectPtError(() => a.recordFlush(mem.endNum - 4, 8), "ERANGE", /outside/);
    expect(a.flushLog()).toHaveLength(2);
    a.clearFlushLog();
    expect(a.flushLog()).toEqual([]);
  });
});
