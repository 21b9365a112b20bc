// A binary min-heap whose entries can be removed from the middle in O(log n), and walked in order without
// being changed. The building block of the ticket queues and the offer-expiry timer.

export interface HeapEntry<T> {
  readonly item: T;
  /** Position in the heap's array; -1 once the entry has left the heap. */
  position: number;
}

/** How a heap orders (`before(i, j)`: position i belongs above j) and moves (`swap`) its array's slots. */
interface HeapOps {
  before(i: number, j: number): boolean;
  swap(i: number, j: number): void;
}

function siftUp(h: HeapOps, start: number): void {
  let i = start;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!h.before(i, parent)) return;
    h.swap(i, parent);
    i = parent;
  }
}

function siftDown(h: HeapOps, start: number, n: number): void {
  let i = start;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let best = i;
    if (left < n && h.before(left, best)) best = left;
    if (right < n && h.before(right, best)) best = right;
    if (best === i) return;
    h.swap(i, best);
    i = best;
  }
}

export class IndexedHeap<T> {
  readonly #entries: HeapEntry<T>[] = [];
  readonly #compare: (a: T, b: T) => number;

  /** `compare(a, b) < 0` means `a` comes out first. */
  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#entries.length;
  }

  peek(): T | undefined {
    return this.#entries[0]?.item;
  }

  push(item: T): HeapEntry<T> {
    const entry: HeapEntry<T> = { item, position: this.#entries.length };
    this.#entries.push(entry);
    this.#siftUp(entry.position);
    return entry;
  }

  pop(): T | undefined {
    const top = this.#entries[0];
    if (top === undefined) return undefined;
    this.remove(top);
    return top.item;
  }

  /** Removes an entry wherever it sits. Returns false if it had already left this heap. */
  remove(entry: HeapEntry<T>): boolean {
    const position = entry.position;
    if (position < 0 || this.#entries[position] !== entry) return false;
    const last = this.#entries.pop() as HeapEntry<T>;
    entry.position = -1;
    if (last !== entry) {
      this.#entries[position] = last;
      last.position = position;
      this.#siftDown(position);
      this.#siftUp(last.position);
    }
    return true;
  }

  /** The item at an array position (for cursors); undefined outside 0..size-1. */
  itemAt(position: number): T | undefined {
    return this.#entries[position]?.item;
  }

  compare(a: T, b: T): number {
    return this.#compare(a, b);
  }

  #before(i: number, j: number): boolean {
    return this.#compare((this.#entries[i] as HeapEntry<T>).item, (this.#entries[j] as HeapEntry<T>).item) < 0;
  }

  #swap(i: number, j: number): void {
    const a = this.#entries[i] as HeapEntry<T>;
    const b = this.#entries[j] as HeapEntry<T>;
    this.#entries[i] = b;
    this.#entries[j] = a;
    a.position = j;
    b.position = i;
  }

  readonly #ops: HeapOps = { before: (i, j) => this.#before(i, j), swap: (i, j) => this.#swap(i, j) };

  #siftUp(start: number): void {
    siftUp(this.#ops, start);
  }

  #siftDown(start: number): void {
    siftDown(this.#ops, start, this.#entries.length);
  }
}

/**
 * Walks a heap in order without popping: a best-first search over the heap's tree, holding only the
 * frontier. Reading the first k items costs O(k log k) whatever the heap's size. The heap must not change
 * while a cursor is in use.
 */
export class HeapCursor<T> {
  readonly #heap: IndexedHeap<T>;
  readonly #frontier: number[];

  constructor(heap: IndexedHeap<T>) {
    this.#heap = heap;
    this.#frontier = heap.size > 0 ? [0] : [];
  }

  peek(): T | undefined {
    const top = this.#frontier[0];
    return top === undefined ? undefined : this.#heap.itemAt(top);
  }

  advance(): void {
    const frontier = this.#frontier;
    const top = frontier[0];
    if (top === undefined) return;
    const last = frontier.pop() as number;
    if (frontier.length > 0) {
      frontier[0] = last;
      this.#siftDown(0);
    }
    const left = 2 * top + 1;
    if (left < this.#heap.size) {
      frontier.push(left);
      this.#siftUp(frontier.length - 1);
    }
    if (left + 1 < this.#heap.size) {
      frontier.push(left + 1);
      this.#siftUp(frontier.length - 1);
    }
  }

  #before(i: number, j: number): boolean {
    const heap = this.#heap;
    return heap.compare(heap.itemAt(this.#frontier[i] as number) as T, heap.itemAt(this.#frontier[j] as number) as T) < 0;
  }

  #swap(i: number, j: number): void {
    const f = this.#frontier;
    const a = f[i] as number;
    f[i] = f[j] as number;
    f[j] = a;
  }

  readonly #ops: HeapOps = { before: (i, j) => this.#before(i, j), swap: (i, j) => this.#swap(i, j) };

  #siftUp(start: number): void {
    siftUp(this.#ops, start);
  }

  #siftDown(start: number): void {
    siftDown(this.#ops, start, this.#frontier.length);
  }
}
