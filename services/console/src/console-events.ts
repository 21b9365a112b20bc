// The adapter edge between Steward's protobuf envelopes and the console's plain events: what each
// envelope means to the read models, or null when it means nothing to them.
import { channelFromProto, priorityFromProto, type Envelope } from "@steward/proto";
import { ticketReference, type AgentEvent, type TicketEvent } from "./domain/index.ts";

export function ticketEventOf(e: Envelope): TicketEvent | null {
  const p = e.payload;
  if (!p || !e.ticketId) return null;
  const meta = { eventId: e.eventId, ticketId: e.ticketId, at: e.occurredAt ?? new Date() };
  switch (p.$case) {
    case "ticketReceived": {
      const c = p.value.customer;
      return {
        ...meta,
        kind: "received",
        channel: channelFromProto(p.value.channel) ?? "api",
        customerId: c?.id ?? "",
        customerName: c?.name ?? "",
        customerLanguage: c?.language ?? "",
        subject: p.value.subject,
        reference: ticketReference(e.ticketId),
      };
    }
    case "ticketTriaged": {
      const t = p.value;
      return {
        ...meta,
        kind: "triaged",
        language: t.language,
        intent: t.intent,
        priority: priorityFromProto(t.priority) ?? "",
        group: t.group,
        repeatContactCount: t.repeatContactCount,
        reasons: t.reasons,
      };
    }
    case "ticketQueued":
      return { ...meta, kind: "queued", group: p.value.group };
    case "noEligibleAgent":
      return { ...meta, kind: "queued", group: p.value.group };
    case "offerMade":
      return { ...meta, kind: "offerMade", agentId: p.value.agentId, offerId: p.value.offerId, expiresAt: p.value.expiresAt ?? null, why: p.value.explanation?.summary ?? "" };
    case "offerClosed":
      return { ...meta, kind: "offerClosed", agentId: p.value.agentId, offerId: p.value.offerId, outcome: p.value.outcome };
    case "ticketAssigned":
      return { ...meta, kind: "assigned", agentId: p.value.agentId, offerId: p.value.offerId };
    case "ticketResolved":
      return { ...meta, kind: "resolved", agentId: p.value.agentId };
    case "ticketReopened":
      return { ...meta, kind: "reopened", ownerId: p.value.ownerId };
    case "ownerReassigned":
      return { ...meta, kind: "reassigned", fromAgentId: p.value.fromAgentId, toAgentId: p.value.toAgentId, supervisorId: p.value.supervisorId, reason: p.value.reason };
    case "slaUpdated": {
      const s = p.value;
      return {
        ...meta,
        kind: "slaUpdated",
        firstResponseDue: s.firstResponseDue ?? null,
        nextResponseDue: s.nextResponseDue ?? null,
        resolutionDue: s.resolutionDue ?? null,
        paused: s.paused,
        warnings: s.warnings,
        breaches: s.breaches,
      };
    }
    default:
      return null;
  }
}

export function agentEventOf(e: Envelope): AgentEvent | null {
  const p = e.payload;
  const at = e.occurredAt ?? new Date();
  if (p?.$case === "agentProfileUpdated") {
    const v = p.value;
    return { kind: "profile", agentId: v.agentId, at, name: v.name, groups: v.groups, languages: v.languages, capacity: { ...v.capacity } };
  }
  if (p?.$case === "agentPresenceChanged") return { kind: "presence", agentId: p.value.agentId, at: p.value.changedAt ?? at, status: p.value.status };
  return null;
}
