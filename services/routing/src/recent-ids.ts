// A bounded set of recently seen ids (the oldest leave first): enough to recognise a repeat that comes
// soon after the first, without growing for ever.

/** Remembers the last N ids seen, in insertion order. */
export class RecentIds {
  readonly #limit: number;
  readonly #ids = new Set<string>();
  constructor(limit: number) {
    this.#limit = limit;
  }
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    this.#ids.add(id);
    if (this.#ids.size > this.#limit) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
  }
}
