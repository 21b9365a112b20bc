// Live work for connected agents: every routing instance hears all routing and escalation events (its
// own consumer group) and forwards each to the agent it concerns, over SSE or a gRPC stream. Owners also
// hear what matters about their tickets: SLA warnings and breaches, ladder steps, a collaborator added
// (and, as before, the customer's new messages as follow_up).
// The routing leader hands its own events here as soon as they are durable (no round trip through
// Kafka for the agents connected to it); an event heard twice is forwarded once.
// Each item sent gets an id (this instance's epoch and a per-agent sequence), and the last items per
// agent are kept, so a stream that reconnects with Last-Event-ID hears what it missed meanwhile.
import { randomBytes } from "node:crypto";
import { channelFromProto, escalationEffectOf, priorityFromProto, type EscalationEffectCase, type Envelope } from "@steward/proto";
import { RecentIds } from "./recent-ids.ts";

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

type Listener = (item: WorkItem, eventId: string) => void;

/** Items kept per agent for a reconnect to replay (a few minutes of a busy agent's stream). */
export const REPLAY_ITEMS_KEPT = 200;

export interface SentItem {
  id: string;
  item: WorkItem;
}

export class WorkHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Recent items of each agent that has listened on this instance, oldest first. */
  private readonly recent = new Map<string, { seq: number; items: SentItem[] }>();
  /** Ids from another instance or an earlier run are not ours: their reconnect gets the open work only. */
  readonly epoch = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

  private readonly keep: number;
  /** Events already forwarded: the leader hands its own here at once, and the same come back from Kafka. */
  private readonly seen = new RecentIds(20_000);

  constructor(keep = REPLAY_ITEMS_KEPT) {
    this.keep = keep;
  }

  listen(agentId: string, listener: Listener): () => void {
    if (!this.recent.has(agentId)) this.recent.set(agentId, { seq: 0, items: [] });
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
    const log = this.recent.get(agentId);
    // Agents that never listened here have nothing to replay; nobody hears their items either.
    if (log === undefined) return;
    log.seq += 1;
    const id = `${this.epoch}-${log.seq}`;
    log.items.push({ id, item });
    if (log.items.length > this.keep) log.items.splice(0, log.items.length - this.keep);
    for (const l of this.listeners.get(agentId) ?? []) l(item, id);
  }

  /**
   * What was sent to the agent after `lastEventId`: the items kept since then, or null when the id is not
   * this instance's or is older than what is kept (the caller then relies on the open work alone).
   */
  replaySince(agentId: string, lastEventId: string): SentItem[] | null {
    const dash = lastEventId.lastIndexOf("-");
    if (dash < 0 || lastEventId.slice(0, dash) !== this.epoch) return null;
    const seq = Number(lastEventId.slice(dash + 1));
    const log = this.recent.get(agentId);
    if (log === undefined || !Number.isInteger(seq) || seq > log.seq) return null;
    const first = log.items[0];
    if (first !== undefined && seq < Number(first.id.slice(dash + 1)) - 1) return null;
    return log.items.filter((s) => Number(s.id.slice(dash + 1)) > seq);
  }

  /** Maps a routing event to the agent(s) it concerns. */
  onEvent(e: Envelope): void {
    const p = e.payload;
    if (!p) return;
    if (e.eventId) {
      if (this.seen.has(e.eventId)) return;
      this.seen.add(e.eventId);
    }
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
        this.send(p.value.ownerId, {
          kind: "assignment",
          ticketId,
          detail: p.value.heldForOwner ? "reopened by the customer; waiting for a free slot" : "reopened by the customer",
        });
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
