// The last step of accepting a message, shared by the pipeline (right after the publish) and the
// projector (when it meets a ticket.received whose view is missing because intake died or lagged between
// the publish and this write): thread links, the customer's keys, then the ticket or message in the view.
// Every write is idempotent, so both may do it, in any order. ADR 0015.
import { channelFromProto, type Channel, type Envelope } from "@steward/proto";
import { topicKey, type ChannelName } from "./domain/submission.ts";
import { emptyProjection } from "./domain/ticket-view.ts";
import type { IdentityKey } from "./domain/customer-identity.ts";
import type { CustomerStore } from "./customer-store.ts";
import type { TicketDoc, TicketStore } from "./ticket-store.ts";

export interface AcceptedViewDeps {
  store: TicketStore;
  customers: CustomerStore;
}

/** Writes what an accepted event adds to the view; returns the new ticket's view when this call created it. */
export async function writeAcceptedView(
  deps: AcceptedViewDeps,
  envelope: Envelope,
  threadLinks: string[],
  followUpSignature: string | undefined,
  customer: { customerId: string; keys: IdentityKey[] } | undefined,
  now: Date,
): Promise<TicketDoc | undefined> {
  const { store } = deps;
  const at = envelope.occurredAt ?? now;
  // Thread links and customer keys first: the ticket/message write below is what marks the delivery
  // accepted (see IntakePipeline.redeliver), so once it is there, so are the links.
  await Promise.all([store.linkThreads(envelope.ticketId, threadLinks, at), customer ? deps.customers.link(customer.customerId, customer.keys, at) : undefined]);
  const doc = acceptedTicketDoc(envelope, customer?.customerId, now);
  // Only a view written exactly as built here may be remembered as it is.
  if (doc) return (await store.createTicket(doc)) ? doc : undefined;
  const p = envelope.payload;
  if (p?.$case === "messageReceived") {
    const v = p.value;
    const channel = channelNameOf(v.channel);
    await store.appendMessage(
      envelope.ticketId,
      {
        id: v.messageId,
        externalId: v.externalId,
        channel,
        from: v.from === "agent" ? "agent" : "customer",
        body: v.body,
        ...textParts(v.quotedText, followUpSignature ?? ""),
        channelRefs: v.channelRefs,
        sequence: v.sequence,
        at,
      },
      { eventId: envelope.eventId, type: envelope.type, at, detail: { channel, sequence: v.sequence } },
    );
  }
  return undefined;
}

/** A new ticket's view as its ticket.received makes it; undefined for any other event. */
export function acceptedTicketDoc(envelope: Envelope, customerId: string | undefined, now: Date): TicketDoc | undefined {
  const p = envelope.payload;
  if (p?.$case !== "ticketReceived") return undefined;
  const at = envelope.occurredAt ?? now;
  const v = p.value;
  const channel = channelNameOf(v.channel);
  return {
    _id: envelope.ticketId,
    channel,
    customer: fromProtoCustomer(v.customer),
    subject: v.subject || null,
    topic: topicKey(v.subject) ?? null,
    ...emptyProjection(),
    metadata: v.metadata,
    channelRefs: v.channelRefs,
    ...(v.integrationId ? { integrationId: v.integrationId } : {}),
    ...(customerId !== undefined ? { customerId } : {}),
    messageCount: 1,
    messages: [
      {
        id: v.messageId,
        externalId: v.externalId,
        channel,
        from: "customer",
        body: v.body,
        ...textParts(v.quotedText, v.signature),
        channelRefs: v.channelRefs,
        sequence: 1,
        at,
      },
    ],
    history: [{ eventId: envelope.eventId, type: envelope.type, at, detail: { channel } }],
    createdAt: at,
    updatedAt: at,
  };
}

function textParts(quotedText: string, signature: string): { quotedText?: string; signature?: string } {
  return { ...(quotedText ? { quotedText } : {}), ...(signature ? { signature } : {}) };
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
