// The one pipeline every way in (HTTP, gRPC, the submissions topic, raw e-mail) goes through, after
// the shared validator: idempotency, the customer across channels, threading onto an existing ticket (by
// id, thread, e-mail references, a quoted ST-… reference, or the customer's open ticket on the topic), a
// durable event on Kafka, then the ticket view: written before the answer, or (with the view's
// write-behind) in the next flush, this process answering for it from memory meanwhile. Every store read
// on the way is by _id; a new customer costs no thread look-up at all (nothing can link to an id made a
// moment ago). A new ticket's ids are derived from its delivery key, so its delivery record and its
// event go out side by side: two requests racing with one delivery publish the same event (ADR 0019).
import { randomUUID } from "node:crypto";
import { Envelope, Topics, channelToProto } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import { withSpan, type Logger } from "@steward/telemetry";
import { channelThreadKey, deliveryKey, threadLinksOf, topicKey, topicThreadKey, type IncomingSubmission } from "./domain/submission.ts";
import { derivedEventId, newTicketIds } from "./domain/event-ids.ts";
import { identityKeysOf, referenceThreadKey, referencesIn, type IdentityKey } from "./domain/customer-identity.ts";
import { acceptedTicketDoc, writeAcceptedView } from "./accepted-view.ts";
import { TicketViews } from "./ticket-views.ts";
import { ticketReference } from "./domain/acknowledgement.ts";
import { CustomerStore } from "./customer-store.ts";
import type { DeliveryDoc, TicketStore, TicketDoc } from "./ticket-store.ts";
import type { ViewWriter } from "./projector.ts";

export interface SubmitResult {
  ticketId: string;
  messageId: string;
  /** True when this delivery id was accepted before (a 2xx was already answered for it). */
  duplicate: boolean;
  followUp: boolean;
}

export class TicketNotFoundError extends Error {
  readonly code = "TICKET_NOT_FOUND";
  constructor(ticketId: string) {
    super(`no ticket ${ticketId}`);
    this.name = "TicketNotFoundError";
  }
}

export interface PipelineDeps {
  store: TicketStore;
  /** Recent views in memory (shared with the projector and the HTTP reads); one of its own otherwise. */
  views?: TicketViews;
  bus: EventBus;
  /** Customer records across channels (ADR 0012). */
  customers: CustomerStore;
  /** The secret customer keys are hashed with (INTAKE_CUSTOMER_KEY_SECRET). */
  customerKeySecret: string;
  followUpWindowMs: number;
  /**
   * The view's write-behind: a new ticket is answered once its event is on Kafka, and its view, links
   * and keys go to the store with the next flush (this process answers for them meanwhile). Without
   * it, they are written before the answer.
   */
  writer?: ViewWriter;
  /**
   * How long another intake instance may hold a new ticket's view before writing it (two flush
   * intervals, ViewWriter.lagMs): a submission naming a ticket not found is looked for again until that
   * (and a second for the write) passed.
   */
  viewLagMs?: number;
  log?: Logger;
  now?: () => Date;
}

const PRODUCER = "intake";

export class IntakePipeline {
  private readonly deps: PipelineDeps;
  private readonly views: TicketViews;
  constructor(deps: PipelineDeps) {
    this.deps = deps;
    this.views = deps.views ?? new TicketViews(deps.store);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Accepts one validated submission; resolves once its event is durably on Kafka. */
  submit(sub: IncomingSubmission): Promise<SubmitResult> {
    // Span attributes carry no personal data: channel and integration only, then the ticket id.
    return withSpan("intake.submit", { attributes: { "steward.channel": sub.channel, "steward.integration": sub.integrationId } }, async (span) => {
      const result = await this.accept(sub);
      span.setAttributes({ "steward.ticket_id": result.ticketId, "steward.duplicate": result.duplicate, "steward.follow_up": result.followUp });
      return result;
    });
  }

  private async accept(sub: IncomingSubmission): Promise<SubmitResult> {
    const { store, bus } = this.deps;
    const key = deliveryKey(sub.integrationId, sub.externalId);
    const now = this.now();
    // A follow-up reserves a sequence number below, so a re-delivery must be recognised before that.
    // Who wrote: the customer record any of the submission's keys (address, number, handle, id) leads to.
    const identityKeys = identityKeysOf(sub, this.deps.customerKeySecret);
    // Every delivery is looked for first, a read beside the customer's: a new ticket's record is then
    // written beside its publish instead of before it.
    const [seenFirst, stored] = await Promise.all([store.findDelivery(key), this.deps.customers.find(identityKeys)]);
    if (seenFirst) return this.redeliver(seenFirst);
    const known = this.withPendingKeys(stored, identityKeys);
    const customerId = known.customerId ?? CustomerStore.newId();
    const newKeys = known.unlinked;
    const target = await this.findTarget(sub, customerId, known.customerId !== null, now);
    if (sub.ticketId && !target) throw new TicketNotFoundError(sub.ticketId);
    // A new ticket's ids follow from its delivery: a request racing with the same delivery makes the same event.
    const ids = target ? { ticketId: target._id, messageId: randomUUID() } : newTicketIds(this.deps.customerKeySecret, key);
    const { ticketId, messageId } = ids;
    let envelope: Envelope;
    if (target) {
      // A follow-up changes the stored view: a new view still waiting for its flush goes first.
      await this.deps.writer?.settle(ticketId);
      const sequence = (await store.nextSequence(ticketId)) ?? target.messageCount + 1;
      envelope = newEnvelope(
        "messageReceived",
        ticketId,
        {
          messageId,
          channel: channelToProto(sub.channel),
          externalId: sub.externalId,
          from: "customer",
          body: sub.body,
          quotedText: sub.quotedText ?? "",
          sequence,
          customer: toProtoCustomer(sub),
          channelRefs: sub.channelRefs ?? {},
        },
        PRODUCER,
        { eventId: derivedEventId(key), occurredAt: now },
      );
    } else {
      envelope = newEnvelope(
        "ticketReceived",
        ticketId,
        {
          channel: channelToProto(sub.channel),
          externalId: sub.externalId,
          customer: toProtoCustomer(sub),
          subject: sub.subject ?? "",
          body: sub.body,
          quotedText: sub.quotedText ?? "",
          signature: sub.signature ?? "",
          threadId: sub.threadId ?? "",
          metadata: sub.metadata ?? {},
          channelRefs: sub.channelRefs ?? {},
          messageId,
          integrationId: sub.integrationId,
        },
        PRODUCER,
        { eventId: derivedEventId(key), occurredAt: now },
      );
    }
    // A follow-up keeps the ticket's own topic; it adds its channel ids.
    // Topic links are the customer record's, so the same person on another channel finds the ticket.
    const threadLinks = threadLinksOf(target ? { ...sub, subject: target.subject ?? undefined } : sub, target?.customerId ?? customerId);
    if (!target) threadLinks.push(referenceThreadKey(ticketReference(ticketId)));
    const encoded = Buffer.from(Envelope.encode(envelope).finish());
    const record = store.recordDelivery({
      _id: key,
      ticketId,
      messageId,
      kind: target ? "message" : "ticket",
      envelope: encoded,
      threadLinks,
      customerId,
      customerKeys: newKeys,
      // message.received has no signature field: the view keeps a follow-up's signature from here.
      ...(target && sub.signature ? { signature: sub.signature } : {}),
      createdAt: now,
    });
    // A follow-up's message id and sequence are this request's own: it publishes only once its record won.
    // A new ticket's event is the same whoever sends it (ids derived from the delivery): record and publish
    // side by side, and a request that loses the record's race has published a copy consumers drop by id.
    const published = target ? undefined : bus.publish({ topic: Topics.received, envelope });
    const [recorded] = await Promise.all([record, published?.catch(() => undefined)]);
    if (!recorded) {
      // A re-delivery, or the same delivery racing us: answer with whatever the first request recorded.
      const first = await store.findDelivery(key);
      if (!first) throw new Error("delivery vanished after a duplicate key");
      return this.redeliver(first);
    }
    await (published ?? bus.publish({ topic: Topics.received, envelope }));
    const doc = target ? undefined : acceptedTicketDoc(envelope, customerId, now);
    const writer = this.deps.writer;
    if (doc && writer) {
      writer.accepted({ doc, threadLinks, customer: { customerId, keys: newKeys } }, (err) =>
        this.deps.log?.warn({ err, ticketId }, "writing a new ticket's view failed; the projector writes it from the ticket's event"),
      );
    } else {
      await this.writeView(envelope, threadLinks, sub.signature, { customerId, keys: newKeys });
    }
    return { ticketId, messageId, duplicate: false, followUp: Boolean(target) };
  }

  /** The customer a key belongs to counts the links this process has not written yet. */
  private withPendingKeys(stored: { customerId: string | null; unlinked: IdentityKey[] }, keys: readonly IdentityKey[]): { customerId: string | null; unlinked: IdentityKey[] } {
    const writer = this.deps.writer;
    if (!writer || stored.unlinked.length === 0) return stored;
    const pending = (k: IdentityKey) => writer.pendingCustomerOf(k.key);
    const customerId = stored.customerId ?? keys.map(pending).find((id) => id !== undefined) ?? null;
    return { customerId, unlinked: stored.unlinked.filter((k) => pending(k) === undefined) };
  }

  /** The ticket a thread key points at, including links not written yet. */
  private async byThreadKey(key: string): Promise<TicketDoc | null> {
    return this.deps.writer?.pendingTicketOf(key) ?? (await this.deps.store.findByThreadKey(key));
  }

  /**
   * A re-delivery answers the original ids. The view is written only after the event is on Kafka, so
   * when the view does not show the delivery yet, the first attempt got a 503 (or died before its view
   * write): the recorded event is published now, exactly as recorded, and this counts as the first
   * acceptance. (A publish repeated after a lost view write carries the same event id.)
   */
  private async redeliver(seen: DeliveryDoc): Promise<SubmitResult> {
    const published = seen.published === true || (await this.viewShows(seen));
    if (!published) {
      const envelope = Envelope.decode(storedBytes(seen.envelope));
      await this.deps.bus.publish({ topic: Topics.received, envelope });
      await this.writeView(
        envelope,
        seen.threadLinks ?? [],
        seen.signature,
        seen.customerId === undefined ? undefined : { customerId: seen.customerId, keys: seen.customerKeys ?? [] },
      );
    }
    return { ticketId: seen.ticketId, messageId: seen.messageId, duplicate: published, followUp: seen.kind === "message" };
  }

  /** Whether the delivery's view write (the last step of an acceptance) happened. */
  private async viewShows(seen: DeliveryDoc): Promise<boolean> {
    const ticket = this.deps.writer?.pendingView(seen.ticketId) ?? (await this.deps.store.get(seen.ticketId));
    if (!ticket) return false;
    return seen.kind === "ticket" || ticket.messages.some((m) => m.id === seen.messageId);
  }

  /**
   * The ticket a submission joins. A ticket or thread named by the sender is joined only when it is the
   * same customer's or was submitted by the same integration: otherwise anyone could write into another
   * customer's conversation by guessing its id. A named ticket that fails the check is "not found"; a
   * thread that fails it opens a new ticket. A quoted ST-… reference is a thread like any other.
   */
  private async findTarget(sub: IncomingSubmission, customerId: string, knownCustomer: boolean, now: Date): Promise<TicketDoc | null> {
    const { store } = this.deps;
    const views = this.views;
    const ours = (t: TicketDoc | null): TicketDoc | null => (t !== null && mayJoin(t, sub, customerId) ? t : null);
    if (sub.ticketId) return ours(await this.namedTicket(sub.ticketId));
    if (sub.threadId) {
      const byId = ours(await views.get(sub.threadId));
      if (byId) return byId;
      const byThread = ours(await this.byThreadKey(channelThreadKey(sub.channel, sub.threadId)));
      if (byThread) return byThread;
    }
    for (const ref of sub.threadRefs ?? []) {
      const byRef = ours(await this.byThreadKey(channelThreadKey(sub.channel, ref)));
      if (byRef) return byRef;
    }
    for (const reference of referencesIn(sub.subject, sub.body)) {
      const byReference = ours(await this.byThreadKey(referenceThreadKey(reference)));
      if (byReference) return byReference;
    }
    // A customer first seen now has no ticket yet: no look-up for its (customer, topic) link.
    const topic = topicKey(sub.subject);
    if (topic && knownCustomer) {
      const pending = this.deps.writer?.pendingTicketOf(topicThreadKey(customerId, topic));
      if (pending) return pending;
      return store.findOpenOnTopic(customerId, topic, new Date(now.getTime() - this.deps.followUpWindowMs));
    }
    return null;
  }

  /**
   * A ticket the sender names by id. One not found is looked for again until the view's lag has passed
   * (two flush intervals and a second for its write): another intake instance may have accepted it a
   * moment ago and not written its view yet.
   */
  private async namedTicket(ticketId: string): Promise<TicketDoc | null> {
    const lagMs = this.deps.viewLagMs ?? 0;
    const until = Date.now() + (lagMs > 0 ? lagMs + 1_000 : 0);
    for (;;) {
      const found = await this.views.get(ticketId);
      if (found || Date.now() >= until) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async writeView(
    envelope: Envelope,
    threadLinks: string[],
    followUpSignature: string | undefined,
    customer: { customerId: string; keys: IdentityKey[] } | undefined,
  ): Promise<void> {
    const created = await writeAcceptedView(this.deps, envelope, threadLinks, followUpSignature, customer, this.now());
    // The new view is what the projector folds onto next (within the bounded lag, usually at once);
    // a follow-up changed the messages, so that view is read again.
    if (created) this.views.remember(created);
    else this.views.forget(envelope.ticketId);
  }
}

/** Same customer (the same id, or a key of the same customer record), or the integration that submitted the ticket. */
function mayJoin(t: TicketDoc, sub: IncomingSubmission, customerId: string): boolean {
  return (
    t.customer.id === sub.customer.id || (t.customerId !== undefined && t.customerId === customerId) || (t.integrationId !== undefined && t.integrationId === sub.integrationId)
  );
}

/** The stored envelope bytes: a Buffer, or the driver's Binary (whose buffer may be longer than its content). */
function storedBytes(value: Buffer | { buffer: Uint8Array; position?: number }): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const bytes = Buffer.from(value.buffer);
  return value.position === undefined ? bytes : bytes.subarray(0, value.position);
}

function toProtoCustomer(sub: IncomingSubmission) {
  const c = sub.customer;
  return { id: c.id, name: c.name ?? "", email: c.email ?? "", phone: c.phone ?? "", tier: c.tier ?? "standard", language: c.language ?? "" };
}
