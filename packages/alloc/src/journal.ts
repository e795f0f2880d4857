// Journal: the undo log behind LevelAllocator.checkpoint/rollback.
//
// While a transaction is open every write to allocator state records the old value here, so rollback
// can replay the log backwards and restore the exact free-list order (the next allocation then returns
// the same address as if the transaction never happened). Array writes are stored as three numbers
// with no allocation; rarer undo steps (memory content, list heads, queued RCU callbacks) as closures.

/** Entry kinds: which side array an entry restores, or J_UNDO for a closure. */
export const J_META = 0;
export const J_OWNER = 1;
export const J_LINK = 2;
export const J_PREV = 3;
export const J_FRAME = 4;
export const J_HEAD = 5;
export const J_FRONTIER = 6;
export const J_HOT = 7;
export const J_UNDO = 8;

export class Journal {
  /** Open transactions; entries are recorded only while this is non-zero. */
  depth = 0;
  length = 0;
  private kind = new Uint8Array(256);
  private index = new Int32Array(256);
  private old = new Float64Array(256);
  private readonly undos: (() => void)[] = [];

  push(kind: number, index: number, old: number): void {
    const n = this.length;
    if (n === this.kind.length) this.grow();
    this.kind[n] = kind;
    this.index[n] = index;
    this.old[n] = old;
    this.length = n + 1;
  }

  pushUndo(fn: () => void): void {
    this.push(J_UNDO, 0, 0);
    this.undos.push(fn);
  }

  /** Replays entries [mark, length) newest first through `apply` and forgets them. */
  rewind(mark: number, apply: (kind: number, index: number, old: number) => void): void {
    for (let n = this.length - 1; n >= mark; n--) {
      const k = this.kind[n]!;
      // Closures are pushed in entry order, so the newest entry's closure is the last one.
      if (k === J_UNDO) this.undos.pop()!();
      else apply(k, this.index[n]!, this.old[n]!);
      this.length = n;
    }
  }

  /** Forgets every entry (the outermost transaction committed). */
  clear(): void {
    this.length = 0;
    this.undos.length = 0;
  }

  private grow(): void {
    const cap = this.kind.length * 2;
    const kind = new Uint8Array(cap);
    kind.set(this.kind);
    const index = new Int32Array(cap);
    index.set(this.index);
    const old = new Float64Array(cap);
    old.set(this.old);
    this.kind = kind;
    this.index = index;
    this.old = old;
  }
}
