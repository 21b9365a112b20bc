// Writes what an accepted submission adds to the view (thread links, the customer's keys, the new ticket
// or the follow-up's message) behind the answer: intake answers once the event is on Kafka, and these
// writes go to the store group-committed, every acceptance that arrived while one write was running
// together in the next (one insert per collection instead of four commands per submission).
//
// Nothing depends on these writes for durability: the delivery record and the event are written before
// the answer, and the projector completes a view it finds missing from them. Lookups that may need a link
// still waiting here (thread keys, customer keys, ticket ids) wait for its write first (settled), so this
// instance never answers from a store that has not caught up with its own acceptances. ADR 0015.
import type { Envelope } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import { followUpOf, newTicketViewOf } from "./accepted-view.ts";
import type { IdentityKey } from "./domain/customer-identity.ts";
import type { CustomerStore } from "./customer-store.ts";
import type { TicketDoc, TicketStore } from "./ticket-store.ts";

export interface Acceptance {
  envelope: Envelope;
  threadLinks: readonly string[];
  /** A follow-up's signature block (message.received has no field for it). */
  followUpSignature: string | undefined;
  customer: { customerId: string; keys: readonly IdentityKey[] } | undefined;
  at: Date;
}

export interface AcceptanceWriterDeps {
  store: TicketStore;
  customers: CustomerStore;
  log?: Logger;
  /** Called with the views this writer created exactly as built (the caller may keep them in memory). */
  onCreated?: (views: readonly TicketDoc[]) => void;
  /** Called with tickets whose stored view changed some other way (a follow-up appended). */
  onChanged?: (ticketIds: readonly string[]) => void;
  /** Called when a write failed: the projector completes those views from the delivery records. */
  onFailed?: (ticketIds: readonly string[], err: unknown) => void;
}

/** Acceptances written per group commit at most. */
const MAX_BATCH = 200;

export class AcceptanceWriter {
  readonly #deps: AcceptanceWriterDeps;
  #queue: Acceptance[] = [];
  /** Every key (ticket id, thread key, customer key) with a write queued or running -> when it settles. */
  readonly #pending = new Map<string, Promise<void>>();
  #next: { promise: Promise<void>; resolve: () => void } | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(deps: AcceptanceWriterDeps) {
    this.#deps = deps;
  }

  /** Queues an acceptance's writes; resolves once they are in the store (never rejects: see onFailed). */
  add(acceptance: Acceptance): Promise<void> {
    if (this.#closed) throw new Error("acceptance writer closed");
    this.#queue.push(acceptance);
    this.#next ??= deferred();
    const settles = this.#next.promise;
    for (const key of keysOf(acceptance)) this.#pending.set(key, settles);
    if (this.#running === undefined) this.#running = this.#drain();
    return settles;
  }

  /** Waits until no write touching these keys (ticket ids, thread keys, customer keys) is queued or running. */
  async settled(keys: Iterable<string>): Promise<void> {
    const waits = new Set<Promise<void>>();
    for (const key of keys) {
      const pending = this.#pending.get(key);
      if (pending !== undefined) waits.add(pending);
    }
    if (waits.size > 0) await Promise.all(waits);
  }

  /** Whether anything waits to be written (for tests and shutdown). */
  get idle(): boolean {
    return this.#running === undefined;
  }

  /** Writes everything queued; no new acceptances after this. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const done = this.#queue.length === 0 ? this.#next : undefined;
      if (done !== undefined) this.#next = undefined;
      await this.#write(batch);
      for (const a of batch) {
        for (const key of keysOf(a)) if (this.#pending.get(key) === done?.promise) this.#pending.delete(key);
      }
      done?.resolve();
    }
    this.#running = undefined;
  }

  /** Thread links and customer keys first: the view write is what marks a delivery accepted (IntakePipeline.redeliver). */
  async #write(batch: readonly Acceptance[]): Promise<void> {
    const { store, customers } = this.#deps;
    const at = batch[batch.length - 1]?.at ?? new Date();
    const ticketIds = batch.map((a) => a.envelope.ticketId);
    try {
      await Promise.all([
        store.linkThreadsMany(
          batch.flatMap((a) => a.threadLinks.map((key) => ({ key, ticketId: a.envelope.ticketId }))),
          at,
        ),
        customers.linkMany(
          batch.flatMap((a) => (a.customer ? [a.customer] : [])),
          at,
        ),
      ]);
      const views = batch.flatMap((a) => newTicketViewOf(a.envelope, a.customer, a.envelope.occurredAt ?? a.at) ?? []);
      const created = await store.createTickets(views);
      const followUps = batch.flatMap((a) => {
        const f = followUpOf(a.envelope, a.followUpSignature, a.envelope.occurredAt ?? a.at);
        return f ? [{ ticketId: a.envelope.ticketId, ...f }] : [];
      });
      for (const f of followUps) await store.appendMessage(f.ticketId, f.message, f.history);
      this.#deps.onCreated?.(views.filter((v) => created.has(v._id)));
      const changed = [...views.filter((v) => !created.has(v._id)).map((v) => v._id), ...followUps.map((f) => f.ticketId)];
      if (changed.length > 0) this.#deps.onChanged?.(changed);
    } catch (err) {
      this.#deps.log?.warn({ err, tickets: ticketIds.length }, "accepted views not written; the projector completes them from the delivery records");
      this.#deps.onFailed?.(ticketIds, err);
    }
  }
}

function keysOf(a: Acceptance): string[] {
  return [a.envelope.ticketId, ...a.threadLinks, ...(a.customer?.keys.map((k) => k.key) ?? [])];
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
