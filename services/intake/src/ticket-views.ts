// Recent ticket views in memory, in front of intake_tickets: reads by id within the bounded lag come from
// here instead of the store, and the projector folds onto the copy it wrote last (its writes are guarded
// by viewRevision, so a stale copy costs one refused write and a re-read, never a wrong view). ADR 0015.
import type { FoldResult } from "./domain/ticket-view.ts";
import { referenceThreadKey } from "./domain/customer-identity.ts";
import { isStub, type StoredView, type TicketDoc, type TicketStore } from "./ticket-store.ts";

/** What the HTTP routes and the outbound worker read views through. */
export interface TicketReader {
  get(id: string): Promise<TicketDoc | null>;
  findByReference(reference: string): Promise<TicketDoc | null>;
}

/** New views accepted but not in the store yet (the view's write-behind); asked when the store has nothing. */
export interface PendingViews {
  pendingView(ticketId: string): TicketDoc | undefined;
  pendingTicketOf(threadKey: string): TicketDoc | undefined;
}

interface Remembered {
  doc: StoredView;
  /** When the copy was last read from the store (or written whole by this process): what bounds its lag. */
  readAt: number;
}

export interface TicketViewsOptions {
  /** Views kept; the least recently used goes first. */
  limit?: number;
  /** How old a copy a read may be answered from (the documented lag of reads by id). */
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_VIEW_READ_LAG_MS = 1_000;

export class TicketViews implements TicketReader {
  readonly store: TicketStore;
  readonly #limit: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** Map order is recency order. */
  readonly #views = new Map<string, Remembered>();
  #pending: PendingViews | undefined;

  constructor(store: TicketStore, opts: TicketViewsOptions = {}) {
    this.store = store;
    this.#limit = opts.limit ?? 10_000;
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_VIEW_READ_LAG_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Where views accepted but not written yet are found. */
  consult(pending: PendingViews): void {
    this.#pending = pending;
  }

  /** The view, from memory when the copy is younger than the read lag, else from the store (or the write-behind). */
  async get(id: string): Promise<TicketDoc | null> {
    const known = this.#touch(id);
    if (known !== undefined && this.#now() - known.readAt <= this.#maxAgeMs) return isStub(known.doc) ? null : known.doc;
    const doc = await this.load(id);
    if (doc === null) return this.#pending?.pendingView(id) ?? null;
    return isStub(doc) ? null : doc;
  }

  /**
   * The view as this process last held it, whatever its age, else from the store: for what never changes
   * after a ticket is created (its channel, customer and integration).
   */
  async getCreated(id: string): Promise<TicketDoc | null> {
    const known = this.#touch(id);
    if (known !== undefined && !isStub(known.doc)) return known.doc;
    return this.get(id);
  }

  /** The ticket an ST-… reference names (the link is read from the store; the view as by get). */
  async findByReference(reference: string): Promise<TicketDoc | null> {
    const key = referenceThreadKey(reference);
    const link = await this.store.threads.findOne({ _id: key });
    return link ? this.get(link.ticketId) : (this.#pending?.pendingTicketOf(key) ?? null);
  }

  /** The last copy this process holds, however old (the projector's fold base). */
  latest(id: string): StoredView | undefined {
    return this.#touch(id)?.doc;
  }

  /** Reads the view (or stub) from the store and remembers it. */
  async load(id: string): Promise<StoredView | null> {
    const readAt = this.#now();
    const doc = await this.store.getStored(id);
    if (doc === null) this.forget(id);
    else this.#keep(doc, readAt);
    return doc;
  }

  /** A view this process just wrote whole (a new ticket). */
  remember(doc: StoredView): void {
    this.#keep(doc, this.#now());
  }

  /**
   * The projector's write of `fold` onto `base` landed. The copy keeps the base's read time: fields the
   * projector does not own (messages another instance appended) are only as fresh as that read.
   */
  applied(base: StoredView, fold: FoldResult, at: Date): void {
    const readAt = this.#views.get(base._id)?.readAt ?? 0;
    const doc = { ...base, ...fold.set, history: [...base.history, ...fold.entries], updatedAt: at, viewRevision: (base.viewRevision ?? 0) + 1 } as StoredView;
    this.#keep(doc, readAt);
  }

  /** Another kind of write changed the view (a message appended): read it again next time. */
  forget(id: string): void {
    this.#views.delete(id);
  }

  #touch(id: string): Remembered | undefined {
    const known = this.#views.get(id);
    if (known !== undefined) {
      this.#views.delete(id);
      this.#views.set(id, known);
    }
    return known;
  }

  #keep(doc: StoredView, readAt: number): void {
    this.#views.delete(doc._id);
    this.#views.set(doc._id, { doc, readAt });
    if (this.#views.size > this.#limit) {
      const oldest = this.#views.keys().next();
      if (oldest.done !== true) this.#views.delete(oldest.value);
    }
  }
}
