// What routing publishes, built from the domain's decisions. Every event caused by a stored change has an
// id derived from the ticket (or agent) and the version that change wrote, so a republished outbox keeps
// its ids and a reader can tell an event it has already seen from a newer one.
import { Envelope, Topics, channelToProto, priorityToProto, type RoutingExplanation } from "@steward/proto";
import { newEnvelope, type PayloadCase, type PayloadOf } from "@steward/messaging";
import type { AgentDecisionExplanation, TicketDecisionExplanation } from "./domain/index.ts";
import type { OutboxEntry } from "./routing-store.ts";

export const PRODUCER = "routing";

/** One event of a ticket change, before it gets its id. */
export interface PendingEvent<C extends PayloadCase = PayloadCase> {
  payloadCase: C;
  value: PayloadOf<C>;
}

export function pending<C extends PayloadCase>(payloadCase: C, value: PayloadOf<C>): PendingEvent {
  return { payloadCase, value };
}

export function ticketEventId(ticketId: string, version: number, index: number): string {
  return `routing/t/${ticketId}/${version}/${index}`;
}

export function agentEventId(agentId: string, version: number, kind: string): string {
  return `routing/a/${agentId}/${version}/${kind}`;
}

/** The store version an event of ours announces, or null for events routing did not derive from a version. */
export function versionOfEventId(eventId: string): number | null {
  if (!eventId.startsWith("routing/")) return null;
  const parts = eventId.split("/");
  const version = Number(parts[parts.length - 2]);
  return Number.isInteger(version) ? version : null;
}

/** The outbox entries of one ticket change, to be stored with it and published after it. */
export function ticketOutbox(ticketId: string, version: number, events: readonly PendingEvent[], occurredAt: Date): OutboxEntry[] {
  return events.map((e, index) => {
    const envelope = newEnvelope(e.payloadCase, ticketId, e.value as never, PRODUCER, { eventId: ticketEventId(ticketId, version, index), occurredAt });
    return { eventId: envelope.eventId, topic: Topics.routing, envelope: Buffer.from(Envelope.encode(envelope).finish()).toString("base64") };
  });
}

export function decodeOutboxEntry(entry: OutboxEntry): Envelope {
  return Envelope.decode(Buffer.from(entry.envelope, "base64"));
}

function nonZero(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

function relaxationLevel(r: { optionalSkillsDropped: boolean; overflowGroupAdded: boolean; languageDropped: boolean }): number {
  return Number(r.optionalSkillsDropped) + Number(r.overflowGroupAdded) + Number(r.languageDropped);
}

/** The stored and published form of a ticket -> agent decision, for one of its chosen agents. */
export function explainTicketDecision(e: TicketDecisionExplanation, agentId: string): { stored: Record<string, unknown>; proto: RoutingExplanation } {
  const chosen = e.chosen.find((c) => c.agentId === agentId);
  const others = e.chosen.filter((c) => c.agentId !== agentId).map((c) => c.agentId);
  const summary =
    `${agentId} chosen among ${e.eligible} eligible of ${e.candidatesConsidered} agent(s) in ${e.groups.join(" + ")}` +
    (e.tieBreaker === null ? "" : `; decided by ${e.tieBreaker}`) +
    (chosen?.previouslyOffered ? "; offered again because nobody else is eligible" : "") +
    (others.length > 0 ? `; offered in parallel to ${others.join(", ")}` : "");
  return {
    stored: { ...e, summary },
    proto: {
      candidatesConsidered: e.candidatesConsidered,
      passedOver: e.passedOver.map((p) => ({
        agentId: p.agentId,
        reason: p.missingSkill ? `${p.reason}: ${p.missingSkill.name} ${p.missingSkill.actualLevel} < ${p.missingSkill.minLevel}` : p.reason,
      })),
      tieBreaker: e.tieBreaker ?? "",
      relaxationLevel: relaxationLevel(e.relaxation),
      passedOverCounts: nonZero(e.passedOverCounts),
      summary,
    },
  };
}

/** The stored and published form of an agent -> ticket decision (the agent freed a slot and took the next ticket). */
export function explainAgentDecision(e: AgentDecisionExplanation): { stored: Record<string, unknown>; proto: RoutingExplanation } {
  const summary =
    `${e.agentId} had a free slot; this ticket came first in routing order of ${e.ticketsConsidered} ticket(s) they may take` +
    (e.tieBreaker === null ? "" : `; decided by ${e.tieBreaker}`) +
    (e.chosen?.via === "overflow-group" ? "; via the ticket's overflow group" : "");
  return {
    stored: { ...e, summary },
    proto: {
      candidatesConsidered: 1,
      passedOver: [],
      tieBreaker: e.tieBreaker ?? "",
      relaxationLevel: 0,
      passedOverCounts: nonZero(e.passedOverCounts),
      summary,
    },
  };
}

/** Human-readable reasons for "nobody eligible", per agent count. */
export function noEligibleReasons(e: TicketDecisionExplanation): string[] {
  const reasons = Object.entries(nonZero(e.passedOverCounts)).map(([reason, n]) => `${n} agent(s): ${reason}`);
  for (const [skill, n] of Object.entries(e.missingSkillCounts)) reasons.push(`${n} agent(s) lack ${skill}`);
  if (e.agentsTotal === 0) reasons.push("no agents known");
  else if (e.candidatesConsidered === 0) reasons.push(`no agent in ${e.groups.join(" + ")}`);
  return reasons;
}

export { channelToProto, priorityToProto };
