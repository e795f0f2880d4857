// TableList: the RFC "add never links" trap, O(1) splice, iteration, misuse, and freeing lists.
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem, type TableList } from "../src/index.js";
import { expectUnchanged } from "./helpers.js";

function setup() {
  const mem = new PhysMem({ size: 16n << 20n });
  return { mem, a: new LevelAllocator(mem) };
}

describe("TableList", () => {
  it("add really links: k tables give count k, iterate k and free k (genpt-upstream §6.1)", () => {
    for (const k of [1, 2, 3, 17]) {
      const { a } = setup();
      const list = a.newList();
      expect(list.isEmpty()).toBe(true);
      expect(list.head).toBe(-1);
      expect(list.tail).toBe(-1);
      const pas: number[] = [];
      for (let i = 0; i < k; i++) {
        const pa = a.alloc(i % 2 === 0 ? 12 : 9);
        pas.push(pa);
        list.add(pa);
        expect(list.count).toBe(i + 1);
        expect(list.tail).toBe(pa);
        expect(list.head).toBe(pas[0]);
      }
      expect([...list]).toEqual(pas);
      expect(a.stats().liveTables).toBe(k);
      a.freeList(list);
      expect(list.isEmpty()).toBe(true);
      expect(list.count).toBe(0);
      expect([...list]).toEqual([]);
      expect(a.stats().liveTables).toBe(0);
      expect(a.stats().frees).toBe(k);
      for (const pa of pas) expect(a.isLive(pa)).toBe(false);
      a.assertNoLeaks();
    }
  });

  it("splice moves every node to the end in one step and empties the source", () => {
    const { a } = setup();
    const x = a.newList();
    const y = a.newList();
    const xs = [a.alloc(12), a.alloc(12)];
    const ys = [a.alloc(10), a.alloc(12), a.alloc(6)];
    for (const pa of xs) x.add(pa);
    for (const pa of ys) y.add(pa);
    x.splice(y);
    expect(x.count).toBe(5);
    expect([...x]).toEqual([...xs, ...ys]);
    expect(x.head).toBe(xs[0]);
    expect(x.tail).toBe(ys[2]);
    expect(y.isEmpty()).toBe(true);
    expect(y.head).toBe(-1);
    // Splicing into an empty list, and splicing an empty list, both work.
    y.splice(x);
    expect([...y]).toEqual([...xs, ...ys]);
    expect(x.count).toBe(0);
    y.splice(x);
    expect(y.count).toBe(5);
    // The emptied list is reusable and the nodes stay linked after more adds.
    const z = a.alloc(12);
    x.add(z);
    y.splice(x);
    expect([...y]).toEqual([...xs, ...ys, z]);
    a.freeList(y);
    a.assertNoLeaks();
  });

  it("splice is O(1): the cost does not depend on the source length", () => {
    // No timing: count the link lookups iteration would make instead. Splicing a long list must not walk it.
    const { a } = setup();
    const big = a.newList();
    for (let i = 0; i < 2000; i++) big.add(a.alloc(6));
    const dst = a.newList();
    dst.add(a.alloc(12));
    let walked = 0;
    const host = (big as unknown as { host: { listNext(pa: number): number } }).host;
    const orig = host.listNext.bind(host);
    host.listNext = (pa: number) => {
      walked++;
      return orig(pa);
    };
    try {
      dst.splice(big);
    } finally {
      host.listNext = orig;
    }
    expect(walked).toBe(0);
    expect(dst.count).toBe(2001);
    a.freeList(dst);
    a.assertNoLeaks();
  });

  it("rejects a table that is not live, already listed, or a foreign list, changing nothing", () => {
    const { a } = setup();
    const list = a.newList();
    const other = a.newList();
    const t = a.alloc(12);
    const dead = a.alloc(12);
    a.free(dead);
    list.add(t);
    expectUnchanged(a, () => list.add(t), "EINVAL", /on a list already/);
    expectUnchanged(a, () => other.add(t), "EINVAL", /on a list already/);
    expectUnchanged(a, () => list.add(dead), "EINVAL", new RegExp(dead.toString(16)));
    expectUnchanged(a, () => list.add(12345), "EINVAL");
    expect(list.count).toBe(1);
    expect(other.count).toBe(0);
    expectUnchanged(a, () => list.splice(list), "EINVAL", /itself/);
    // A table on a list is freed through the list, not directly.
    expectUnchanged(a, () => a.free(t), "EINVAL", /TableList/);

    const { a: b } = setup();
    const foreign = b.newList();
    foreign.add(b.alloc(12));
    expectUnchanged(a, () => list.splice(foreign), "EINVAL", /newList/);
    expectUnchanged(a, () => a.freeList(foreign), "EINVAL", /newList/);
    expectUnchanged(a, () => a.freeList({} as TableList), "EINVAL");
    expect(foreign.count).toBe(1);
    a.freeList(list);
    a.assertNoLeaks();
  });
});
