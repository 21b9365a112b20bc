// Live work for connected agents: every routing instance hears all routing and escalation events (its
// own consumer group) and forwards each to the agent it concerns, over SSE or a gRPC stream. Owners also
// hear what matters about their tickets: SLA warnings and breaches, ladder steps, a collaborator added
// (and, as before, the customer's new messages as follow_up).
import { channelFromProto, escalationEffectOf, priorityFromProto, type EscalationEffectCase, type Envelope } from "@steward/proto";

export interface WorkItem {
  kind: "offer" | "assignment" | "follow_up" | "offer_closed" | "collaboration" | "reassigned_away" | OwnerNoticeKind;
  ticketId: string;
  offerId?: string;
  expiresAt?: string;
  channel?: string;
  priority?: string;
  subject?: string;
  messageId?: string;
  detail?: string;
  /** collaborator_added: who came to help. */
  agentId?: string;
}

export type OwnerNoticeKind = "sla_warning" | "sla_breach" | "escalation" | "collaborator_added";

/**
 * Escalation's effects the owner is told about. Taken from EscalationAction (once per warning or
 * breach, with the owner named) rather than SlaUpdated, which repeats its warnings on every revision of
 * the clocks. Every effect is listed, so a new one in proto fails the typecheck until it is decided here.
 */
const OWNER_NOTICES: Readonly<Record<EscalationEffectCase, OwnerNoticeKind | undefined>> = {
  slaWarning: "sla_warning",
  slaBreach: "sla_breach",
  notifyOwner: "escalation",
  raisePriority: undefined,
  notifySupervisor: undefined,
  addCollaborator: undefined,
  widenRouting: undefined,
};

type Listener = (item: WorkItem) => void;

export class WorkHub {
  private readonly listeners = new Map<string, Set<Listener>>();

  listen(agentId: string, listener: Listener): () => void {
    const set = this.listeners.get(agentId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(agentId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(agentId);
    };
  }

  connected(agentId: string): boolean {
    return this.listeners.has(agentId);
  }

  send(agentId: string, item: WorkItem): void {
    for (const l of this.listeners.get(agentId) ?? []) l(item);
  }

  /** Maps a routing event to the agent(s) it concerns. */
  onEvent(e: Envelope): void {
    const p = e.payload;
    if (!p) return;
    const ticketId = e.ticketId;
    switch (p.$case) {
      case "offerMade":
        this.send(p.value.agentId, {
          kind: "offer",
          ticketId,
          offerId: p.value.offerId,
          ...(p.value.expiresAt ? { expiresAt: p.value.expiresAt.toISOString() } : {}),
          channel: channelFromProto(p.value.channel) ?? "api",
          priority: priorityFromProto(p.value.priority) ?? "P3",
          subject: p.value.subject,
          detail: p.value.explanation?.summary ?? "",
        });
        return;
      case "ticketAssigned":
        this.send(p.value.agentId, { kind: "assignment", ticketId, offerId: p.value.offerId });
        return;
      case "offerClosed":
        this.send(p.value.agentId, { kind: "offer_closed", ticketId, offerId: p.value.offerId, detail: p.value.outcome });
        return;
      case "followUpRouted":
        this.send(p.value.agentId, { kind: "follow_up", ticketId, messageId: p.value.messageId });
        return;
      case "ticketReopened":
        this.send(p.value.ownerId, { kind: "assignment", ticketId, detail: p.value.heldForOwner ? "reopened by the customer; waiting for a free slot" : "reopened by the customer" });
        return;
      case "ownedWorkDelivered":
        this.send(p.value.agentId, { kind: "assignment", ticketId, detail: "owned work that waited for you" });
        return;
      case "collaboratorAdded":
        this.send(p.value.agentId, { kind: "collaboration", ticketId, detail: p.value.reason });
        if (p.value.ownerId) this.send(p.value.ownerId, { kind: "collaborator_added", ticketId, agentId: p.value.agentId, detail: p.value.reason });
        return;
      case "escalationAction": {
        const effect = escalationEffectOf(p.value);
        const kind = effect === undefined ? undefined : OWNER_NOTICES[effect.$case];
        if (kind !== undefined && p.value.ownerId) {
          this.send(p.value.ownerId, { kind, ticketId, detail: p.value.reason, ...(p.value.priority ? { priority: priorityFromProto(p.value.priority) ?? "P3" } : {}) });
        }
        return;
      }
      case "ownerReassigned":
        this.send(p.value.toAgentId, { kind: "assignment", ticketId, detail: `reassigned by ${p.value.supervisorId}: ${p.value.reason}` });
        this.send(p.value.fromAgentId, { kind: "reassigned_away", ticketId, detail: p.value.reason });
        return;
      default:
        return;
    }
  }
}
