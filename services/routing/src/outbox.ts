// Publishes the events stored with each ticket change. A change and its events are written together (one
// document), then published, then dropped from the stored copy; whoever finds an uncleared outbox (the next
// writer of that ticket, the matcher at take-over, the periodic sweep) publishes it again with the same
// event ids. So a crash between the write and the publish loses no event; readers may see one twice.
// Events are handed to the bus in the order their changes were written, so one ticket's events keep their
// order; a writer does not wait for the previous change's events to be acknowledged: entries still in
// flight are carried into its own outbox; each entry leaves the stored copy once Kafka acknowledged it.
import type { EventBus } from "@steward/messaging";
import type { TopicName } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import { decodeOutboxEntry } from "./routing-events.ts";
import type { OutboxEntry, RoutingStore, TicketDoc } from "./routing-store.ts";

/** Remembers the last N ids seen, in insertion order. */
class RecentIds {
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

export class Outbox {
  readonly #bus: EventBus;
  readonly #store: RoutingStore;
  readonly #log: Logger;
  readonly #published = new RecentIds(50_000);
  /** eventId -> its publication, while this process has it in flight. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Published entries still in their tickets' stored outboxes, dropped in batches. */
  #toDrop = new Map<string, string[]>();
  #dropTimer: NodeJS.Timeout | null = null;
  #dropping: Promise<void> = Promise.resolve();

  constructor(bus: EventBus, store: RoutingStore, log: Logger) {
    this.#bus = bus;
    this.#store = store;
    this.#log = log;
  }

  /**
   * What a writer replacing `prev`'s stored outbox must keep in its own: every entry not yet known to be
   * published. Those nobody here is publishing (another process wrote them, or crashed) are sent now.
   */
  carryOver(prev: TicketDoc): OutboxEntry[] {
    const carried = prev.outbox.filter((e) => !this.#published.has(e.eventId));
    const unsent = carried.filter((e) => !this.#inFlight.has(e.eventId));
    if (unsent.length > 0) void this.#start(unsent).catch(() => undefined);
    return carried;
  }

  /**
   * Publishes the new entries of a stored outbox (carried ones are already on their way), then drops the
   * ones acknowledged from the stored copy.
   */
  publish(ticketId: string, version: number, outbox: readonly OutboxEntry[]): Promise<void> {
    if (outbox.length === 0) return Promise.resolve();
    const fresh = outbox.filter((e) => !this.#inFlight.has(e.eventId) && !this.#published.has(e.eventId));
    if (fresh.length > 0) void this.#start(fresh).catch(() => undefined);
    return this.#settled(outbox).then(() => {
      const out = outbox.filter((e) => this.#published.has(e.eventId));
      if (out.length > 0) this.#drop(ticketId, out.map((e) => e.eventId));
      if (out.length < outbox.length) throw new Error(`Kafka did not acknowledge every event of ticket ${ticketId} v${version}; the outbox keeps them`);
    });
  }

  /** Queues published entries to be pulled from the stored outbox (batched: one store command per ~50 ms). */
  #drop(ticketId: string, eventIds: string[]): void {
    this.#toDrop.set(ticketId, [...(this.#toDrop.get(ticketId) ?? []), ...eventIds]);
    this.#dropTimer ??= setTimeout(() => {
      this.#dropTimer = null;
      const batch = this.#toDrop;
      this.#toDrop = new Map();
      this.#dropping = this.#dropping
        .then(() => this.#store.dropPublished(batch))
        .catch((err: unknown) => this.#log.warn({ err, tickets: batch.size }, "published events could not be dropped from outboxes; the sweep republishes them"));
    }, 50);
  }

  /** Waits for the entries in flight; true when every one of them is known to be published. */
  async #settled(outbox: readonly OutboxEntry[]): Promise<boolean> {
    await Promise.allSettled(outbox.map((e) => this.#inFlight.get(e.eventId) ?? Promise.resolve()));
    return outbox.every((e) => this.#published.has(e.eventId));
  }

  /** publish(), for callers that do not wait: a failure is logged and left to the sweep. */
  publishInBackground(ticketId: string, version: number, outbox: readonly OutboxEntry[]): void {
    this.publish(ticketId, version, outbox).catch((err: unknown) => this.#log.warn({ err, ticketId, version }, "events stored but not yet published; the outbox sweep will retry"));
  }

  /** Publishes a stored outbox found by a scan (take-over, sweep) and drops it. */
  republish(doc: TicketDoc): Promise<void> {
    return this.publish(doc._id, doc.version, doc.outbox);
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
    if (this.#dropTimer) {
      clearTimeout(this.#dropTimer);
      this.#dropTimer = null;
      const batch = this.#toDrop;
      this.#toDrop = new Map();
      this.#dropping = this.#dropping.then(() => this.#store.dropPublished(batch)).catch(() => undefined);
    }
    await this.#dropping;
  }

  /** Hands entries to the bus now (so they keep the order of the calls) and tracks them until acknowledged. */
  #start(entries: readonly OutboxEntry[]): Promise<void> {
    const sent = this.#bus.publish(entries.map((e) => ({ topic: e.topic as TopicName, envelope: decodeOutboxEntry(e) })));
    for (const e of entries) this.#inFlight.set(e.eventId, sent);
    const settle = (ok: boolean) => {
      for (const e of entries) {
        if (this.#inFlight.get(e.eventId) === sent) this.#inFlight.delete(e.eventId);
        if (ok) this.#published.add(e.eventId);
      }
    };
    sent.then(
      () => settle(true),
      () => settle(false),
    );
    return sent;
  }
}
