// Rcu: a single-threaded simulation of read-copy-update grace periods.
//
// Every read-side section and every callback gets a ticket from one counter. A callback is ripe once no
// reader holding an older ticket is still inside: readers that began after the call never delay it.
// Ripe callbacks are always a prefix of the FIFO queue, because ripeness is monotone in the ticket.

interface Pending {
  id: number;
  ticket: number;
  fn: () => void;
}

/**
 * Read-side sections and deferred callbacks with RCU ordering.
 *
 * @example
 * const rcu = new Rcu();
 * const r = rcu.readLock();
 * rcu.callRcu(() => console.log("freed"));
 * rcu.quiescent();   // 0: the reader that began before the call is still inside
 * rcu.readUnlock(r);
 * rcu.quiescent();   // 1: prints "freed"
 */
export class Rcu {
  private ticket = 0;
  private nextId = 1;
  private readonly readers = new Map<number, number>(); // token -> ticket at entry
  private queue: Pending[] = [];

  /** Enters a read-side section; sections nest and may end in any order. Returns the token to unlock with. */
  readLock(): number {
    const t = ++this.ticket;
    this.readers.set(t, t);
    return t;
  }

  /** Leaves the section `token` opened. An unknown or already closed token is an Error. */
  readUnlock(token: number): void {
    if (!this.readers.delete(token)) {
      throw new Error(`rcu.readUnlock(${String(token)}): no open read-side section has this token`);
    }
  }

  /** Queues `fn` to run once every reader active now has left. */
  callRcu(fn: () => void): void {
    this.enqueue(fn);
  }

  /**
   * Runs every ripe callback in queue order and returns how many ran. Callbacks queued while it runs
   * wait for the next call.
   */
  quiescent(): number {
    const oldest = this.oldestReader();
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.ticket < oldest) n++;
    return this.runFirst(n);
  }

  /**
   * Ends the grace period of every callback queued so far and runs them. If a reader that began before
   * one of them is still inside, waiting would deadlock a single thread: it throws and runs nothing.
   */
  synchronize(): void {
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1]!.ticket : 0;
    const oldest = this.oldestReader();
    if (oldest < last) {
      throw new Error(
        `rcu.synchronize() would deadlock: read-side section ${oldest} began before a queued callback and is still open`,
      );
    }
    this.runFirst(this.queue.length);
  }

  /** Callbacks queued and not yet run. */
  pending(): number {
    return this.queue.length;
  }

  /** Open read-side sections. */
  activeReaders(): number {
    return this.readers.size;
  }

  /** @internal Queues `fn` and returns an id that {@link cancel} accepts. */
  enqueue(fn: () => void): number {
    const id = this.nextId++;
    this.queue.push({ id, ticket: ++this.ticket, fn });
    return id;
  }

  /** @internal Drops a queued callback without running it (used by allocator rollback). */
  cancel(id: number): boolean {
    const i = this.queue.findIndex((p) => p.id === id);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  private oldestReader(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const t of this.readers.values()) if (t < oldest) oldest = t;
    return oldest;
  }

  // Removes the first n callbacks before running any, so a throwing callback cannot run twice.
  private runFirst(n: number): number {
    if (n === 0) return 0;
    const ripe = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    let ran = 0;
    try {
      for (const p of ripe) {
        ran++;
        p.fn();
      }
    } catch (e) {
      // Put back what did not get to run, in order, ahead of anything queued meanwhile.
      this.queue = ripe.slice(ran).concat(this.queue);
      throw e;
    }
    return ran;
  }
}
