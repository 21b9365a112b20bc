// The one pipeline every way in (HTTP, gRPC, the submissions topic) goes through: idempotency,
// threading onto an existing ticket, a durable event on Kafka, then the ticket view.
import { randomUUID, createHash } from "node:crypto";
import { Envelope, Topics, channelFromProto, channelToProto, type Channel } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import { deliveryKey, topicKey, type ChannelName, type IncomingSubmission } from "./domain/submission.ts";
import { channelThreadKey, topicThreadKey, type TicketStore, type TicketDoc } from "./ticket-store.ts";

export interface SubmitResult {
  ticketId: string;
  messageId: string;
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
  bus: EventBus;
  followUpWindowMs: number;
  now?: () => Date;
}

const PRODUCER = "intake";

/** An event id derived from the delivery key: a re-published delivery carries the same id. */
function eventIdFor(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class IntakePipeline {
  private readonly deps: PipelineDeps;
  constructor(deps: PipelineDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async submit(sub: IncomingSubmission): Promise<SubmitResult> {
    const { store, bus } = this.deps;
    const key = deliveryKey(sub.integrationId, sub.externalId);
    const seen = await store.findDelivery(key);
    if (seen) return this.redeliver(key, seen.ticketId, seen.messageId, seen.kind, seen.envelope, seen.published);

    const now = this.now();
    const target = await this.findTarget(sub, now);
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
          quotedText: "",
          sequence,
          customer: toProtoCustomer(sub),
          channelRefs: sub.channelRefs ?? {},
        },
        PRODUCER,
        { eventId: eventIdFor(key), occurredAt: now },
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
          quotedText: "",
          signature: "",
          threadId: sub.threadId ?? "",
          metadata: sub.metadata ?? {},
          channelRefs: sub.channelRefs ?? {},
          messageId,
          integrationId: sub.integrationId,
        },
        PRODUCER,
        { eventId: eventIdFor(key), occurredAt: now },
      );
    }
    const encoded = Buffer.from(Envelope.encode(envelope).finish());
    const recorded = await store.recordDelivery({
      _id: key,
      ticketId,
      messageId,
      kind: target ? "message" : "ticket",
      envelope: encoded,
      published: false,
      createdAt: now,
    });
    if (!recorded) {
      // The same delivery raced us: answer with whatever the first request recorded.
      const first = await store.findDelivery(key);
      if (!first) throw new Error("delivery vanished after a duplicate key");
      return this.redeliver(key, first.ticketId, first.messageId, first.kind, first.envelope, first.published);
    }
    await bus.publish({ topic: Topics.received, envelope });
    await this.writeView(envelope, sub);
    await store.markPublished(key);
    return { ticketId, messageId, duplicate: false, followUp: Boolean(target) };
  }

  /** A re-delivery: publish the recorded event again if it never reached Kafka, answer the original ids. */
  private async redeliver(key: string, ticketId: string, messageId: string, kind: "ticket" | "message", bytes: Buffer | { buffer: Uint8Array }, published: boolean): Promise<SubmitResult> {
    if (!published) {
      const raw = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer);
      const envelope = Envelope.decode(raw);
      await this.deps.bus.publish({ topic: Topics.received, envelope });
      await this.writeView(envelope, undefined);
      await this.deps.store.markPublished(key);
    }
    return { ticketId, messageId, duplicate: true, followUp: kind === "message" };
  }

  private async findTarget(sub: IncomingSubmission, now: Date): Promise<TicketDoc | null> {
    const { store } = this.deps;
    if (sub.ticketId) return store.get(sub.ticketId);
    if (sub.threadId) {
      const byId = await store.get(sub.threadId);
      if (byId) return byId;
      const byThread = await store.findByThreadKey(channelThreadKey(sub.channel, sub.threadId));
      if (byThread) return byThread;
    }
    const topic = topicKey(sub.subject);
    if (topic) {
      return store.findOpenOnTopic(sub.customer.id, topic, new Date(now.getTime() - this.deps.followUpWindowMs));
    }
    return null;
  }

  private async writeView(envelope: Envelope, sub: IncomingSubmission | undefined): Promise<void> {
    const { store } = this.deps;
    const at = envelope.occurredAt ?? this.now();
    const p = envelope.payload;
    if (p?.$case === "ticketReceived") {
      const v = p.value;
      const channel = sub?.channel ?? channelNameOf(v.channel);
      await store.createTicket({
        _id: envelope.ticketId,
        status: "new",
        channel,
        customer: sub?.customer ?? fromProtoCustomer(v.customer),
        subject: v.subject || null,
        topic: topicKey(v.subject) ?? null,
        language: null,
        intent: null,
        priority: null,
        group: null,
        requiredSkills: [],
        ownerId: null,
        lastOwnerId: null,
        collaborators: [],
        triage: null,
        sla: null,
        metadata: v.metadata,
        channelRefs: v.channelRefs,
        messageCount: 1,
        messages: [{ id: v.messageId, externalId: v.externalId, channel, from: "customer", body: v.body, sequence: 1, at }],
        history: [{ eventId: envelope.eventId, type: envelope.type, at, detail: { channel } }],
        createdAt: at,
        updatedAt: at,
      });
      await store.linkThreads(envelope.ticketId, threadKeysOf(customerIdOf(sub, v.customer), channel, v.threadId, v.subject), at);
    } else if (p?.$case === "messageReceived") {
      const v = p.value;
      const channel = channelNameOf(v.channel);
      await store.appendMessage(
        envelope.ticketId,
        { id: v.messageId, externalId: v.externalId, channel, from: v.from === "agent" ? "agent" : "customer", body: v.body, sequence: v.sequence, at },
        { eventId: envelope.eventId, type: envelope.type, at, detail: { channel, sequence: v.sequence } },
      );
      const ticket = await store.get(envelope.ticketId);
      if (ticket) await store.linkThreads(ticket._id, threadKeysOf(ticket.customer.id, channel, sub?.threadId, ticket.subject ?? undefined), at);
    }
  }
}

/** The keys a later message may thread by: its channel thread id, and (customer, topic). */
function threadKeysOf(customerId: string, channel: ChannelName, threadId: string | undefined, subject: string | undefined): string[] {
  const keys: string[] = [];
  if (threadId) keys.push(channelThreadKey(channel, threadId));
  const topic = topicKey(subject);
  if (topic) keys.push(topicThreadKey(customerId, topic));
  return keys;
}

function customerIdOf(sub: IncomingSubmission | undefined, c: { id: string } | undefined): string {
  return sub?.customer.id ?? c?.id ?? "unknown";
}

function toProtoCustomer(sub: IncomingSubmission) {
  const c = sub.customer;
  return { id: c.id, name: c.name ?? "", email: c.email ?? "", phone: c.phone ?? "", tier: c.tier ?? "standard", language: c.language ?? "" };
}

function fromProtoCustomer(c: { id: string; name: string; email: string; phone: string; tier: string; language: string } | undefined) {
  if (!c) return { id: "unknown" };
  return {
    id: c.id,
    ...(c.name ? { name: c.name } : {}),
    ...(c.email ? { email: c.email } : {}),
    ...(c.phone ? { phone: c.phone } : {}),
    tier: c.tier === "vip" ? ("vip" as const) : ("standard" as const),
    ...(c.language ? { language: c.language } : {}),
  };
}

function channelNameOf(n: Channel): ChannelName {
  return channelFromProto(n) ?? "api";
}
