// The SLA documents this instance wrote or read last, so the next write of a ticket needs no read
// first: every write is conditional on the revision, so a copy gone stale (another instance wrote
// meanwhile) only costs a failed write, a read and a redo.
import type { SlaDoc } from "./sla-store.ts";

/** Tickets remembered; the least recently used one is forgotten first. */
const DEFAULT_CAPACITY = 20_000;

export class SlaCache {
  private readonly docs = new Map<string, SlaDoc>();
  private readonly capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.capacity = capacity;
  }

  get(ticketId: string): SlaDoc | undefined {
    const doc = this.docs.get(ticketId);
    if (doc !== undefined) {
      // Map order is insertion order: re-inserting keeps the most recently used at the end.
      this.docs.delete(ticketId);
      this.docs.set(ticketId, doc);
    }
    return doc;
  }

  /** Remembers `doc` unless a newer revision of it is already known. */
  put(doc: SlaDoc): void {
    const known = this.docs.get(doc._id);
    if (known !== undefined && known.rev > doc.rev) return;
    this.docs.delete(doc._id);
    this.docs.set(doc._id, doc);
    if (this.docs.size > this.capacity) {
      const oldest = this.docs.keys().next();
      if (oldest.done !== true) this.docs.delete(oldest.value);
    }
  }

  forget(ticketId: string): void {
    this.docs.delete(ticketId);
  }
}
