// Publishes the events stored with each ticket change. A change and its events are written together (one
// document), then published, then dropped from the stored copy; whoever finds an uncleared outbox (the next
// writer of that ticket, the matcher at take-over, the periodic sweep) publishes it again with the same
// event ids. So a crash between the write and the publish loses no event; readers may see one twice.
// Events are handed to the bus in the order their changes were written, so one ticket's events keep their
// order; a writer does not wait for the previous change's events to be acknowledged: entries still in
// flight are carried into its own outbox. Acknowledged entries leave the stored copy with the ticket's next
// write from this process (which stores only what is not yet published) or, if none comes within
// DROP_DELAY_MS (the ticket's last change for now), with an update of their own, guarded by the version
// whose outbox was published. (Not `$pull` by eventId: FerretDB 1.24 matches but removes nothing.)
import type { EventBus } from "@steward/messaging";
import { Topics, type Envelope, type TopicName } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import { decodeOutboxEntry } from "./routing-events.ts";
import { RecentIds } from "./recent-ids.ts";
import type { OutboxEntry, TicketDoc } from "./routing-store.ts";
import type { RoutingState } from "./routing-state.ts";

/**
 * How long a published outbox waits for the ticket's next write to replace it before it is cleared on its
 * own. Well under the sweep's grace (10 s), so the sweep does not republish what is merely waiting.
 */
export const DROP_DELAY_MS = 1_000;

export class Outbox {
  readonly #bus: EventBus;
  readonly #store: RoutingState;
  readonly #log: Logger;
  readonly #published = new RecentIds(50_000);
  /** eventId -> its publication, while this process has it in flight. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Stored outboxes whose entries are all acknowledged, waiting to be cleared: ticketId -> which one, since when. */
  #toDrop = new Map<string, { version: number; outbox: readonly OutboxEntry[]; since: number }>();
  #dropTimer: NodeJS.Timeout | null = null;
  readonly #dropDelayMs: number;
  /** ticketId -> the newest version this process wrote: an older outbox acknowledged later is already gone. */
  readonly #replaced = new Map<string, number>();
  #dropping: Promise<void> = Promise.resolve();
  /** Hears this process's routing events as they are handed to the bus (they are durable by then). */
  #local: ((events: readonly Envelope[]) => void) | undefined;

  constructor(bus: EventBus, store: RoutingState, log: Logger, dropDelayMs = DROP_DELAY_MS) {
    this.#bus = bus;
    this.#store = store;
    this.#log = log;
    this.#dropDelayMs = dropDelayMs;
  }

  /**
   * `written` replaced `prev` in the store: the stored outbox is now `written`'s (only entries not yet
   * published), so a queued clearing of an older version is moot.
   */
  superseded(prev: TicketDoc, written: TicketDoc): void {
    const queued = this.#toDrop.get(prev._id);
    if (queued !== undefined && queued.version < written.version) this.#toDrop.delete(prev._id);
    this.#replaced.delete(prev._id);
    this.#replaced.set(prev._id, written.version);
    if (this.#replaced.size > 10_000) {
      const oldest = this.#replaced.keys().next();
      if (oldest.done !== true) this.#replaced.delete(oldest.value);
    }
  }

  /**
   * Hands this process's routing events to `listener` as they go to the bus: their change is durable
   * already (stored, or appended to the routing log), so the agents connected here hear their offers
   * without the round trip through Kafka. The copy that comes back from Kafka carries the same event id.
   */
  deliverLocally(listener: (events: readonly Envelope[]) => void): void {
    this.#local = listener;
  }

  /** How many stored outboxes wait to be cleared (for tests). */
  pendingDrops(): number {
    return this.#toDrop.size;
  }

  /**
   * What a writer replacing `prev`'s stored outbox must keep in its own: every entry not yet known to be
   * published. Those nobody here is publishing (another process wrote them, or crashed) are sent now.
   */
  carryOver(prev: TicketDoc, durable = true): OutboxEntry[] {
    const carried = prev.outbox.filter((e) => !this.#published.has(e.eventId));
    if (!durable) return carried; // not in the record yet (a new ticket held back from the log): they go out with the new write's
    const unsent = carried.filter((e) => !this.#inFlight.has(e.eventId));
    if (unsent.length > 0) void this.#start(unsent).catch(() => undefined);
    return carried;
  }

  /**
   * Publishes the new entries of the outbox stored at `version` (carried ones are already on their way),
   * then has the stored copy cleared once every entry is acknowledged.
   */
  publish(ticketId: string, version: number, outbox: readonly OutboxEntry[]): Promise<void> {
    if (outbox.length === 0) return Promise.resolve();
    const fresh = outbox.filter((e) => !this.#inFlight.has(e.eventId) && !this.#published.has(e.eventId));
    if (fresh.length > 0) void this.#start(fresh).catch(() => undefined);
    return this.#settled(outbox).then((all) => {
      if (outbox.some((e) => this.#published.has(e.eventId))) this.#drop(ticketId, version, outbox);
      if (!all) throw new Error(`Kafka did not acknowledge every event of ticket ${ticketId} v${version}; the outbox keeps them`);
    });
  }

  /**
   * Queues the clearing of a stored outbox whose entries are all published, after DROP_DELAY_MS, unless
   * the ticket's next write from this process replaces it first (superseded).
   */
  #drop(ticketId: string, version: number, outbox: readonly OutboxEntry[]): void {
    const queued = this.#toDrop.get(ticketId);
    if (queued !== undefined && queued.version >= version) return;
    if ((this.#replaced.get(ticketId) ?? -1) > version) return;
    this.#toDrop.set(ticketId, { version, outbox, since: Date.now() });
    this.#armDrop();
  }

  #armDrop(): void {
    if (this.#dropTimer !== null || this.#toDrop.size === 0) return;
    this.#dropTimer = setTimeout(
      () => {
        this.#dropTimer = null;
        this.#flushDrops(Date.now() - this.#dropDelayMs);
        this.#armDrop();
      },
      Math.max(50, this.#dropDelayMs / 4),
    );
  }

  /**
   * Clears the stored outboxes queued before `upTo`: one update per ticket, guarded by the version whose
   * outbox was published (a newer write replaced it already), keeping anything not acknowledged.
   */
  #flushDrops(upTo: number): void {
    const batch: Array<{ ticketId: string; version: number; keep: OutboxEntry[] }> = [];
    for (const [ticketId, queued] of this.#toDrop) {
      if (queued.since > upTo) continue;
      this.#toDrop.delete(ticketId);
      batch.push({ ticketId, version: queued.version, keep: queued.outbox.filter((e) => !this.#published.has(e.eventId)) });
    }
    if (batch.length === 0) return;
    this.#dropping = this.#dropping
      .then(() => this.#store.dropPublished(batch))
      .catch((err: unknown) => this.#log.warn({ err, tickets: batch.length }, "published events could not be dropped from outboxes; the sweep republishes them"));
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
    if (this.#dropTimer) clearTimeout(this.#dropTimer);
    this.#dropTimer = null;
    this.#flushDrops(Number.POSITIVE_INFINITY);
    await this.#dropping;
  }

  /** Hands entries to the bus now (so they keep the order of the calls) and tracks them until acknowledged. */
  #start(entries: readonly OutboxEntry[]): Promise<void> {
    const events = entries.map((e) => ({ topic: e.topic as TopicName, envelope: decodeOutboxEntry(e) }));
    const sent = this.#bus.publish(events);
    if (this.#local !== undefined) {
      try {
        this.#local(events.filter((e) => e.topic === Topics.routing).map((e) => e.envelope));
      } catch (err) {
        this.#log.warn({ err }, "delivering routing events to the agents connected here failed; they come through Kafka");
      }
    }
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
