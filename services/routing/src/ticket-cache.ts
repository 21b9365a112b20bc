// The newest stored state of recently touched tickets, as this process wrote or read it. Every write is
// conditional on the version it started from, so a stale entry can only cost a refused write (then the
// ticket is read again), never a wrong one: the ledger and the matcher start from it instead of reading.
import type { TicketDoc } from "./routing-store.ts";

export class TicketCache {
  readonly #limit: number;
  /** Map order is recency order: oldest first. */
  readonly #docs = new Map<string, TicketDoc>();

  constructor(limit = 5_000) {
    this.#limit = limit;
  }

  get(ticketId: string): TicketDoc | undefined {
    return this.#docs.get(ticketId);
  }

  /** Keeps `doc` unless a newer version of the ticket is known already. */
  remember(doc: TicketDoc): void {
    const known = this.#docs.get(doc._id);
    if (known !== undefined && known.version > doc.version) return;
    this.#docs.delete(doc._id);
    this.#docs.set(doc._id, doc);
    if (this.#docs.size > this.#limit) {
      const oldest = this.#docs.keys().next();
      if (oldest.done !== true) this.#docs.delete(oldest.value);
    }
  }

  /**
   * The store holds something newer than `version` (a write from it lost a race): unless a newer copy is
   * known already, the ticket is read again next time.
   */
  forget(ticketId: string, version = Number.POSITIVE_INFINITY): void {
    const known = this.#docs.get(ticketId);
    if (known !== undefined && known.version <= version) this.#docs.delete(ticketId);
  }
}
