// Keeps the ticket view current from the other services' events (triage, routing, escalation),
// so GET /v1/tickets/{id} shows status, owner, triage reasons and SLA clocks in one place.
import { Topics, priorityFromProto, type Envelope } from "@steward/proto";
import type { EventBus, Subscription } from "@steward/messaging";
import type { HistoryEntry, TicketStore } from "./ticket-store.ts";

export async function startProjector(bus: EventBus, store: TicketStore, groupId = "intake-projector"): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [Topics.triaged, Topics.routing, Topics.escalation],
    partitionsConsumedConcurrently: 6,
    handler: async ({ envelope }) => project(store, envelope),
  });
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
      await store.applyEvent(id, entry("escalation", { level: s.level }), {
        sla: {
          policy: s.policy,
          policyVersion: s.policyVersion,
          firstResponseDue: s.firstResponseDue?.toISOString() ?? null,
          nextResponseDue: s.nextResponseDue?.toISOString() ?? null,
          resolutionDue: s.resolutionDue?.toISOString() ?? null,
          paused: s.paused,
          warnings: s.warnings,
          breaches: s.breaches,
          level: s.level,
        },
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
