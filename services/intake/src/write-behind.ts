// Gathers items by key for up to a flush interval and hands them to one writer call, so many events of
// one ticket, from any partition, become one store write. add() resolves only once the flush holding its
// items landed (a consumer commits its offsets after that, so a crash before the flush loses nothing: the
// events are consumed again) and rejects when that flush failed. take() is add() for a consumer that
// fetches on while the flush is pending (WrittenBehind). Flushes run one at a time. A flush may hold a key
// back for the next one (holdBack): its items stay, and so does every add() that carried them.

export interface WriteBehindOptions<T> {
  /** The longest an item waits for its flush (unless held back). */
  flushMs: number;
  /** A flush starts at once when this many keys wait; take() then waits for it. */
  maxKeys: number;
  /** Asked for every key when a flush starts: true keeps its items for the next flush. */
  holdBack?: (key: string, items: readonly T[]) => boolean;
}

interface Waiter {
  keys: readonly string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WriteBehind<T> {
  readonly #write: (byKey: ReadonlyMap<string, readonly T[]>) => Promise<void>;
  readonly #opts: WriteBehindOptions<T>;
  #pending = new Map<string, T[]>();
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Once closing, whatever is added is written at once: nothing waits for an interval nobody will see. */
  #closing = false;

  constructor(write: (byKey: ReadonlyMap<string, readonly T[]>) => Promise<void>, opts: WriteBehindOptions<T>) {
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
    const keys = items.map(([key]) => key);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ keys, resolve, reject }));
    if (this.#closing || this.#pending.size >= this.#opts.maxKeys) this.#flushSoon(0);
    else this.#flushSoon(this.#opts.flushMs);
    return done;
  }

  /**
   * Queues items like add(), for a caller that moves on before they are written: resolves with the
   * promise of their write at once, or, when maxKeys keys wait, only once that write landed (so a
   * caller that keeps taking cannot grow the buffer without bound).
   */
  async take(items: ReadonlyArray<readonly [string, T]>): Promise<{ durable: Promise<void> }> {
    const durable = this.add(items);
    durable.catch(() => undefined); // the caller observes it
    if (this.#closing || this.#pending.size >= this.#opts.maxKeys) await durable;
    return { durable };
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
    this.#pending = new Map();
    const holdBack = this.#opts.holdBack;
    if (holdBack && !this.#closing) {
      for (const [key, items] of batch) {
        if (!holdBack(key, items)) continue;
        batch.delete(key);
        this.#pending.set(key, items);
      }
    }
    const held = this.#pending;
    const waiters = this.#waiters.filter((w) => !w.keys.some((k) => held.has(k)));
    this.#waiters = this.#waiters.filter((w) => w.keys.some((k) => held.has(k)));
    if (held.size > 0) this.#flushSoon(this.#opts.flushMs);
    if (batch.size === 0) return;
    try {
      await this.#write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}
