// The newest stored state of recently used documents, as this process wrote or read it. Services write
// documents conditionally on the version they started from, so a stale entry can only cost a refused
// write (then the document is read again), never a wrong one: a writer can start from the cache instead
// of reading first, which on FerretDB saves a read that grows with the document's size.

export class VersionedCache<T extends { _id: string }> {
  readonly #versionOf: (doc: T) => number;
  readonly #limit: number;
  /** Map order is recency order: least recently used first. */
  readonly #docs = new Map<string, T>();

  constructor(versionOf: (doc: T) => number, limit: number) {
    this.#versionOf = versionOf;
    this.#limit = limit;
  }

  get(id: string): T | undefined {
    const doc = this.#docs.get(id);
    if (doc !== undefined) {
      this.#docs.delete(id);
      this.#docs.set(id, doc);
    }
    return doc;
  }

  /** Keeps `doc` unless a newer version of it is known already; beyond the limit the least recently used goes. */
  remember(doc: T): void {
    const known = this.#docs.get(doc._id);
    if (known !== undefined && this.#versionOf(known) > this.#versionOf(doc)) return;
    this.#docs.delete(doc._id);
    this.#docs.set(doc._id, doc);
    if (this.#docs.size > this.#limit) {
      const oldest = this.#docs.keys().next();
      if (oldest.done !== true) this.#docs.delete(oldest.value);
    }
  }

  /**
   * The store holds something newer than `version` (a write from it lost a race): unless a newer copy is
   * known already, the document is read again next time. Without a version, it is forgotten in any case.
   */
  forget(id: string, version = Number.POSITIVE_INFINITY): void {
    const known = this.#docs.get(id);
    if (known !== undefined && this.#versionOf(known) <= version) this.#docs.delete(id);
  }
}
