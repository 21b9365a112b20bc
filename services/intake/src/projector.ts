// Keeps the ticket view current from the other services' events (triage, routing, escalation),
// so GET /v1/tickets/{id} shows status, owner, triage reasons and SLA clocks in one place; and sends
// each new ticket's acknowledgement once triage knows the customer's language.
import { Topics, channelToProto, priorityFromProto, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { acknowledgementFor } from "./domain/acknowledgement.ts";
import { derivedEventId } from "./domain/event-ids.ts";
import type { HistoryEntry, TicketDoc, TicketStore } from "./ticket-store.ts";

export async function startProjector(bus: EventBus, store: TicketStore, groupId = "intake-projector"): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [Topics.triaged, Topics.routing, Topics.escalation],
    partitionsConsumedConcurrently: 6,
    handler: async ({ envelope }) => {
      await project(store, envelope);
      const p = envelope.payload;
      if (p?.$case === "ticketTriaged" && !p.value.retriage && envelope.ticketId) await acknowledge(bus, store, envelope.ticketId, p.value.language);
    },
  });
}

export class TicketViewMissingError extends Error {
  readonly code = "TICKET_VIEW_MISSING";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} is not in the view yet`);
    this.name = "TicketViewMissingError";
  }
}

/** Where the acknowledgement goes on the ticket's channel: the e-mail address, the callback number, else the customer id. */
function recipientOf(t: TicketDoc): string {
  if (t.channel === "email" && t.customer.email) return t.customer.email;
  if (t.channel === "phone") return t.channelRefs["callbackNumber"] ?? t.customer.phone ?? t.customer.id;
  return t.customer.id;
}

/**
 * Publishes the ticket's acknowledgement once (derived event id, and a history line that marks it
 * sent). Automatic e-mails (out-of-office replies, bulk mail) get none, so two auto-responders
 * cannot keep answering each other.
 */
export async function acknowledge(bus: EventBus, store: TicketStore, ticketId: string, triagedLanguage: string): Promise<void> {
  const ticket = await store.get(ticketId);
  // The view is written right after ticket.received is published; retry until it is there.
  if (!ticket) throw new TicketViewMissingError(ticketId);
  const eventId = derivedEventId(`acknowledgement\u0000${ticketId}`);
  if (ticket.history.some((h) => h.eventId === eventId)) return;
  if (ticket.metadata["autoSubmitted"]) return;
  const ack = acknowledgementFor(ticketId, [triagedLanguage, ticket.customer.language]);
  const at = new Date();
  await bus.publish({
    topic: Topics.outbound,
    envelope: newEnvelope(
      "notification",
      ticketId,
      { channel: channelToProto(ticket.channel), kind: "acknowledgement", recipient: recipientOf(ticket), language: ack.language, text: ack.text, reference: ack.reference },
      "intake",
      { eventId, occurredAt: at },
    ),
  });
  await store.applyEvent(ticketId, { eventId, type: "notification", at, actor: "intake", detail: { kind: "acknowledgement", language: ack.language, reference: ack.reference } }, {});
}

export async function project(store: TicketStore, envelope: Envelope): Promise<void> {
  const p = envelope.payload;
  if (!p || !envelope.ticketId) return;
  const at = envelope.occurredAt ?? new Date();
  const entry = (actor?: string, detail?: Record<string, unknown>): HistoryEntry => ({
    eventId: envelope.eventId,
    type: envelope.type,
    at,
    ...(actor ? { actor } : {}),
    ...(detail ? { detail } : {}),
  });
  const id = envelope.ticketId;
  switch (p.$case) {
    case "ticketTriaged": {
      const t = p.value;
      const priority = priorityFromProto(t.priority) ?? null;
      await store.applyEvent(
        id,
        entry("triage", { intent: t.intent, language: t.language, priority, group: t.group, retriage: t.retriage }),
        {
          status: "triaged",
          language: t.language,
          intent: t.intent,
          priority,
          group: t.group,
          requiredSkills: t.requiredSkills.map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional })),
          triage: {
            language: t.language,
            languageConfidence: t.languageConfidence,
            intent: t.intent,
            intentConfidence: t.intentConfidence,
            priority,
            reasons: t.reasons,
            policyVersion: t.policyVersion,
            slaPolicy: t.slaPolicy,
            repeatContactCount: t.repeatContactCount,
            answerDidNotHelp: t.answerDidNotHelp,
          },
        },
        { onlyIfStatusIn: ["new"] },
      );
      return;
    }
    case "ticketQueued":
      await store.applyEvent(id, entry("routing", { group: p.value.group, reason: p.value.reason }), { status: "waiting" }, { onlyIfStatusIn: ["new", "triaged", "offered"] });
      return;
    case "noEligibleAgent":
      await store.applyEvent(id, entry("routing", { group: p.value.group, reasons: p.value.reasons }), { status: "waiting" }, { onlyIfStatusIn: ["new", "triaged", "offered"] });
      return;
    case "offerMade":
      await store.applyEvent(id, entry("routing", { agentId: p.value.agentId, offerId: p.value.offerId, why: p.value.explanation?.summary }), { status: "offered" }, { onlyIfStatusIn: ["new", "triaged", "waiting"] });
      return;
    case "offerClosed":
      await store.applyEvent(id, entry(p.value.agentId, { offerId: p.value.offerId, outcome: p.value.outcome, reason: p.value.reason }), { status: "waiting" }, { onlyIfStatusIn: ["offered"] });
      return;
    case "ticketAssigned":
      await store.applyEvent(id, entry(p.value.agentId, { offerId: p.value.offerId }), { status: "assigned", ownerId: p.value.agentId, lastOwnerId: p.value.agentId }, { onlyIfStatusIn: ["new", "triaged", "waiting", "offered"] });
      return;
    case "followUpRouted":
      await store.applyEvent(id, entry("routing", { agentId: p.value.agentId, messageId: p.value.messageId }), {});
      return;
    case "ticketResolved":
      await store.applyEvent(id, entry(p.value.agentId), { status: "resolved", ownerId: null, lastOwnerId: p.value.agentId });
      return;
    case "ticketReopened":
      await store.applyEvent(id, entry("customer", { ownerId: p.value.ownerId }), { status: "assigned", ownerId: p.value.ownerId, lastOwnerId: p.value.ownerId });
      return;
    case "ownerReassigned":
      await store.applyEvent(id, entry(p.value.supervisorId, { from: p.value.fromAgentId, to: p.value.toAgentId, reason: p.value.reason }), { ownerId: p.value.toAgentId, lastOwnerId: p.value.toAgentId });
      return;
    case "collaboratorAdded":
      await store.applyEvent(id, entry("escalation", { agentId: p.value.agentId, reason: p.value.reason }), {}, { addCollaborator: p.value.agentId });
      return;
    case "slaUpdated": {
      const s = p.value;
      await store.applyEvent(id, entry("escalation", { level: s.level }), {});
      await store.applySlaView(id, {
        policy: s.policy,
        policyVersion: s.policyVersion,
        firstResponseDue: s.firstResponseDue?.toISOString() ?? null,
        nextResponseDue: s.nextResponseDue?.toISOString() ?? null,
        resolutionDue: s.resolutionDue?.toISOString() ?? null,
        paused: s.paused,
        warnings: s.warnings,
        breaches: s.breaches,
        level: s.level,
        revision: s.revision,
      });
      return;
    }
    case "escalationAction": {
      const a = p.value;
      const priority = a.action === "raise_priority" ? priorityFromProto(a.priority) : undefined;
      await store.applyEvent(id, entry("escalation", { action: a.action, level: a.level, reason: a.reason }), priority ? { priority } : {});
      return;
    }
    default:
      return;
  }
}
