// Reads the events escalation follows (triage, routing, intake) as SLA inputs; everything else,
// including routing's queue moves (an ownerless ticket is on the waiting ladder anyway), is ignored.
import { channelFromProto, priorityFromProto, type Envelope } from "@steward/proto";
import type { Priority, TimedInput } from "./domain/index.ts";

/** Priority assumed when triage sent none (the middle of the scale, as routing does). */
export const FALLBACK_PRIORITY: Priority = "P3";

/**
 * The SLA input an event carries, at the time it happened (never later than `now`: a producer's
 * clock ahead of ours must not push deadlines into the future). Null when escalation ignores it.
 */
export function slaInputOf(envelope: Envelope, now: Date): TimedInput | null {
  const p = envelope.payload;
  if (!p || envelope.ticketId === "") return null;
  const occurred = envelope.occurredAt ?? now;
  const at = (occurred.getTime() > now.getTime() ? now : occurred).toISOString();
  switch (p.$case) {
    case "ticketReceived":
      return { at, input: { type: "received", channel: channelFromProto(p.value.channel) ?? null } };
    case "messageReceived":
      // Intake writes "customer" for follow-ups; an integration that relays agent replies writes "agent".
      return { at, input: p.value.from === "agent" ? { type: "agentReplied" } : { type: "customerMessage" } };
    case "agentReplied":
      // An internal note is not an answer to the customer: only a public reply stops the response clocks.
      return p.value.visibility === "public" ? { at, input: { type: "agentReplied" } } : null;
    case "ticketTriaged": {
      const t = p.value;
      return {
        at,
        input: {
          type: "triaged",
          priority: priorityFromProto(t.priority) ?? FALLBACK_PRIORITY,
          channel: channelFromProto(t.channel) ?? null,
          group: t.group !== "" ? t.group : null,
          policyName: t.slaPolicy,
          answerDidNotHelp: t.answerDidNotHelp,
          repeatContactCount: t.repeatContactCount,
        },
      };
    }
    case "ticketAssigned":
      return p.value.agentId === "" ? null : { at, input: { type: "assigned", ownerId: p.value.agentId } };
    case "ownerReassigned":
      return p.value.toAgentId === "" ? null : { at, input: { type: "ownerChanged", ownerId: p.value.toAgentId } };
    case "ticketResolved":
      return { at, input: { type: "resolved" } };
    case "ticketReopened":
      return { at, input: { type: "reopened", ownerId: p.value.ownerId !== "" ? p.value.ownerId : null } };
    default:
      return null;
  }
}
