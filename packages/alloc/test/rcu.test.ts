// RCU: the Rcu primitive's ordering rules, and freeListRcu keeping tables intact for older readers.
import { describe, expect, it } from "vitest";
import { LevelAllocator, PhysMem, Rcu } from "../src/index.js";
import { expectPtError } from "./helpers.js";

describe("Rcu", () => {
  it("a callback waits for readers that began before it, not after", () => {
    const rcu = new Rcu();
    const ran: string[] = [];
    const early = rcu.readLock();
    rcu.callRcu(() => ran.push("a"));
    const late = rcu.readLock();
    expect(rcu.pending()).toBe(1);
    expect(rcu.activeReaders()).toBe(2);
    expect(rcu.quiescent()).toBe(0);
    rcu.readUnlock(early);
    expect(rcu.quiescent()).toBe(1); // `late` began after the call and does not delay it
    expect(ran).toEqual(["a"]);
    rcu.callRcu(() => ran.push("b"));
    expect(rcu.quiescent()).toBe(0); // but it does delay a callback queued after it began
    rcu.readUnlock(late);
    expect(rcu.quiescent()).toBe(1);
    expect(ran).toEqual(["a", "b"]);
    expect(rcu.pending()).toBe(0);
    expect(rcu.activeReaders()).toBe(0);
  });

  it("nested sections keep the grace period open until the outermost older one ends", () => {
    const rcu = new Rcu();
    let ran = 0;
    const outer = rcu.readLock();
    const inner = rcu.readLock();
    rcu.callRcu(() => ran++);
    rcu.readUnlock(inner);
    expect(rcu.quiescent()).toBe(0);
    expect(ran).toBe(0);
    rcu.readUnlock(outer);
    expect(rcu.quiescent()).toBe(1);
    expect(ran).toBe(1);
  });

  it("runs ripe callbacks in order and leaves later ones queued", () => {
    const rcu = new Rcu();
    const order: number[] = [];
    rcu.callRcu(() => order.push(1));
    rcu.callRcu(() => order.push(2));
    const r = rcu.readLock();
    rcu.callRcu(() => order.push(3));
    expect(rcu.quiescent()).toBe(2);
    expect(order).toEqual([1, 2]);
    expect(rcu.pending()).toBe(1);
    rcu.readUnlock(r);
    expect(rcu.quiescent()).toBe(1);
    expect(order).toEqual([1, 2, 3]);
  });

  it("a callback queued by a callback waits for the next grace period", () => {
    const rcu = new Rcu();
    let second = false;
    rcu.callRcu(() => rcu.callRcu(() => (second = true)));
    expect(rcu.quiescent()).toBe(1);
    expect(second).toBe(false);
    expect(rcu.quiescent()).toBe(1);
    expect(second).toBe(true);
  });

  it("synchronize runs everything, or throws and runs nothing when it would deadlock", () => {
    const rcu = new Rcu();
    let ran = 0;
    const r = rcu.readLock();
    rcu.callRcu(() => ran++);
    expect(() => rcu.synchronize()).toThrow(/deadlock/);
    expect(ran).toBe(0);
    expect(rcu.pending()).toBe(1);
    rcu.readUnlock(r);
    const late = rcu.readLock(); // began after the callback: no deadlock
    rcu.synchronize();
    expect(ran).toBe(1);
    expect(rcu.pending()).toBe(0);
    rcu.readUnlock(late);
    rcu.synchronize(); // nothing queued
    expect(ran).toBe(1);
  });

  it("misuse of tokens is an Error", () => {
    const rcu = new Rcu();
    const r = rcu.readLock();
    rcu.readUnlock(r);
    expect(() => rcu.readUnlock(r)).toThrow(/no open read-side section/);
    expect(() => rcu.readUnlock(999)).toThrow(Error);
    expect(rcu.activeReaders()).toBe(0);
  });
});

describe("freeListRcu", () => {
  function setup(debug: boolean) {
    const mem = new PhysMem({ size: 16n << 20n });
    const a = new LevelAllocator(mem, { debug });
    return { mem, a };
  }

  for (const debug of [false, true]) {
    it(`an older reader still sees intact tables; the memory is not reused until it leaves (debug=${debug})`, () => {
      const { mem, a } = setup(debug);
      const list = a.newList();
      const tables = [a.alloc(12), a.alloc(10), a.alloc(12)];
      tables.forEach((pa, i) => {
        mem.write32(pa, 0x100 + i);
        list.add(pa);
      });
      const reader = a.rcu.readLock();
      const before = a.stats();
      a.freeListRcu(list);
      expect(list.isEmpty()).toBe(true);
      expect(a.rcu.pending()).toBe(1); // one callback for the whole list
      expect(a.stats()).toEqual({ ...before, rcuPending: 3 });
      // Allocations meanwhile never get these addresses, and the contents stay as they were.
      const others = Array.from({ length: 8 }, () => a.alloc(12)).concat([a.alloc(10)]);
      for (const pa of tables) expect(others).not.toContain(pa);
      tables.forEach((pa, i) => {
        expect(mem.read32(pa)).toBe(0x100 + i);
        expect(a.isLive(pa)).toBe(true);
      });
      expectPtError(() => a.free(tables[0]!), "EINVAL", /RCU/);
      expectPtError(() => a.newList().add(tables[0]!), "EINVAL");
      expect(() => a.assertNoLeaks()).toThrow(/RCU grace period/);
      expect(a.rcu.quiescent()).toBe(0);
      a.rcu.readUnlock(reader);
      expect(a.rcu.quiescent()).toBe(1);
      expect(a.stats().rcuPending).toBe(0);
      expect(a.stats().frees).toBe(before.frees + 3);
      for (const pa of tables) {
        expect(a.isLive(pa)).toBe(false);
        expect(mem.read32(pa)).toBe(debug ? 0xdead_beef : 0);
      }
      for (const pa of others) a.free(pa);
      a.assertNoLeaks();
    });
  }

  it("a reader that starts after the free does not delay it", () => {
    const { a } = setup(false);
    const list = a.newList();
    list.add(a.alloc(12));
    a.freeListRcu(list);
    const late = a.rcu.readLock();
    expect(a.rcu.quiescent()).toBe(1);
    expect(a.stats().liveTables).toBe(0);
    a.rcu.readUnlock(late);
    a.assertNoLeaks();
  });

  it("synchronize frees everything queued when no older reader remains", () => {
    const { a } = setup(false);
    for (let i = 0; i < 3; i++) {
      const list = a.newList();
      list.add(a.alloc(12));
      list.add(a.alloc(6));
      a.freeListRcu(list);
    }
    const r = a.rcu.readLock();
    expect(() => a.rcu.synchronize()).not.toThrow();
    a.rcu.readUnlock(r);
    expect(a.stats().rcuPending).toBe(0);
    a.assertNoLeaks();
    a.freeListRcu(a.newList()); // empty: no callback
    expect(a.rcu.pending()).toBe(0);
  });
});
