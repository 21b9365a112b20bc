// Gathers items by key for up to a flush interval and hands them to one writer call, so many events of
// one ticket, from any partition, become one store write. add() resolves only once the flush holding its
// items landed (a consumer commits its offsets after that, so a crash before the flush loses nothing: the
// events are consumed again) and rejects when that flush failed. Flushes run one at a time.

export interface WriteBehindOptions {
  /** The longest an item waits for its flush. */
  flushMs: number;
  /** A flush starts at once when this many keys wait. */
  maxKeys: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WriteBehind<T> {
  readonly #write: (byKey: ReadonlyMap<string, readonly T[]>) => Promise<void>;
  readonly #opts: WriteBehindOptions;
  #pending = new Map<string, T[]>();
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Once closing, whatever is added is written at once: nothing waits for an interval nobody will see. */
  #closing = false;

  constructor(write: (byKey: ReadonlyMap<string, readonly T[]>) => Promise<void>, opts: WriteBehindOptions) {
    this.#write = write;
    this.#opts = opts;
  }

  /** Queues items (in order per key); resolves once they are written. */
  add(items: ReadonlyArray<readonly [string, T]>): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    for (const [key, item] of items) {
      const list = this.#pending.get(key);
      if (list) list.push(item);
      else this.#pending.set(key, [item]);
    }
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#closing || this.#pending.size >= this.#opts.maxKeys) this.#flushSoon(0);
    else this.#flushSoon(this.#opts.flushMs);
    return done;
  }

  /** Starts the flush of whatever waits now instead of at the end of the interval (add() still tells when it landed). */
  hurry(): void {
    if (this.#pending.size > 0) this.#flushSoon(0);
  }

  /** Writes whatever waits now; resolves when every flush so far is done. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#running.then(() => this.#flush());
    await this.#running;
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#flush());
    }, delayMs);
  }

  async #flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    const waiters = this.#waiters;
    this.#pending = new Map();
    this.#waiters = [];
    try {
      await this.#write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}
