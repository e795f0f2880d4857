// TableList: an intrusive singly linked list of live tables (head, tail, count; O(1) add and splice).
//
// The list object holds only the ends and the count. The next-links live in the allocator's side array,
// so queuing a table costs no allocation and never writes into table memory. Every mutation goes
// through the owning allocator, which validates it and journals it inside a transaction.

/** What a list needs from the allocator that made it. @internal */
export interface ListHost {
  listAdd(list: TableList, pa: number): void;
  listSplice(dst: TableList, src: TableList): void;
  listNext(pa: number): number;
}

/**
 * Tables waiting to be freed together, e.g. the tables an unmap emptied, freed after the IOTLB flush.
 * Made by {@link LevelAllocator.newList}.
 *
 * @example
 * const list = alloc.newList();
 * list.add(alloc.alloc(12)); list.add(alloc.alloc(12));
 * list.count; // 2
 * alloc.freeList(list); // frees both; list.isEmpty() === true
 */
export class TableList {
  private _head = -1;
  private _tail = -1;
  private _count = 0;

  /** @internal Lists are made by LevelAllocator.newList(). */
  constructor(readonly host: ListHost) {}

  /** Number of tables on the list. */
  get count(): number {
    return this._count;
  }
  /** PA of the first table, -1 when empty. */
  get head(): number {
    return this._head;
  }
  /** PA of the last table, -1 when empty. */
  get tail(): number {
    return this._tail;
  }

  isEmpty(): boolean {
    return this._count === 0;
  }

  /** Appends a live table that is on no list (else PtError EINVAL). */
  add(pa: number): void {
    this.host.listAdd(this, pa);
  }

  /** Moves every table of `other` to the end of this list in O(1); `other` becomes empty. */
  splice(other: TableList): void {
    this.host.listSplice(this, other);
  }

  *[Symbol.iterator](): Iterator<number> {
    let pa = this._head;
    for (let i = 0; i < this._count; i++) {
      yield pa;
      if (i + 1 < this._count) pa = this.host.listNext(pa);
    }
  }

  /** @internal Sets the ends and the count (the allocator keeps the links consistent). */
  setState(head: number, tail: number, count: number): void {
    this._head = head;
    this._tail = tail;
    this._count = count;
  }
}
