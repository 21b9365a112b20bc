// The one pipeline every way in (HTTP, gRPC, the submissions topic, raw e-mail) goes through, after
// the shared validator: idempotency, the customer across channels, threading onto an existing ticket (by
// id, thread, e-mail references, a quoted ST-… reference, or the customer's open ticket on the topic), a
// durable event on Kafka, then the ticket view. Every store read on the way is by _id; a new customer
// costs no thread look-up at all (nothing can link to an id made a moment ago).
import { randomUUID } from "node:crypto";
import { Envelope, Topics, channelToProto } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import { withSpan } from "@steward/telemetry";
import { channelThreadKey, deliveryKey, threadLinksOf, topicKey, type IncomingSubmission } from "./domain/submission.ts";
import { derivedEventId } from "./domain/event-ids.ts";
import { identityKeysOf, referenceThreadKey, referencesIn, type IdentityKey } from "./domain/customer-identity.ts";
import { writeAcceptedView } from "./accepted-view.ts";
import { TicketViews } from "./ticket-views.ts";
import { ticketReference } from "./domain/acknowledgement.ts";
import { CustomerStore } from "./customer-store.ts";
import type { DeliveryDoc, TicketStore, TicketDoc } from "./ticket-store.ts";

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
    // A follow-up reserves a sequence number below, so a re-delivery must be recognised before that;
    // a new ticket needs no look-up: recording its delivery fails on a re-delivery (duplicate key).
    // Who wrote: the customer record any of the submission's keys (address, number, handle, id) leads to.
    const identityKeys = identityKeysOf(sub, this.deps.customerKeySecret);
    const [seenFirst, known] = await Promise.all([sub.ticketId ? store.findDelivery(key) : null, this.deps.customers.find(identityKeys)]);
    if (seenFirst) return this.redeliver(seenFirst);
    const customerId = known.customerId ?? CustomerStore.newId();
    const newKeys = known.unlinked;
    const target = await this.findTarget(sub, customerId, known.customerId !== null, now);
    if (target && !sub.ticketId) {
      const seen = await store.findDelivery(key);
      if (seen) return this.redeliver(seen);
    }
    if (sub.ticketId && !target) throw new TicketNotFoundError(sub.ticketId);
    const messageId = randomUUID();
    let envelope: Envelope;
    let ticketId: string;
    if (target) {
      ticketId = target._id;
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
      ticketId = randomUUID();
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
    const recorded = await store.recordDelivery({
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
    if (!recorded) {
      // A re-delivery, or the same delivery racing us: answer with whatever the first request recorded.
      const first = await store.findDelivery(key);
      if (!first) throw new Error("delivery vanished after a duplicate key");
      return this.redeliver(first);
    }
    await bus.publish({ topic: Topics.received, envelope });
    await this.writeView(envelope, threadLinks, sub.signature, { customerId, keys: newKeys });
    return { ticketId, messageId, duplicate: false, followUp: Boolean(target) };
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
    const ticket = await this.deps.store.get(seen.ticketId);
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
    if (sub.ticketId) return ours(await views.get(sub.ticketId));
    if (sub.threadId) {
      const byId = ours(await views.get(sub.threadId));
      if (byId) return byId;
      const byThread = ours(await store.findByThreadKey(channelThreadKey(sub.channel, sub.threadId)));
      if (byThread) return byThread;
    }
    if (sub.threadRefs && sub.threadRefs.length > 0) {
      const byRefs = ours(await store.findByAnyThreadKey(sub.threadRefs.map((ref) => channelThreadKey(sub.channel, ref))));
      if (byRefs) return byRefs;
    }
    for (const reference of referencesIn(sub.subject, sub.body)) {
      const byReference = ours(await store.findByThreadKey(referenceThreadKey(reference)));
      if (byReference) return byReference;
    }
    // A customer first seen now has no ticket yet: no look-up for its (customer, topic) link.
    const topic = topicKey(sub.subject);
    if (topic && knownCustomer) {
      return store.findOpenOnTopic(customerId, topic, new Date(now.getTime() - this.deps.followUpWindowMs));
    }
    return null;
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
