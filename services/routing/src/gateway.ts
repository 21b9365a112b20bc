// The agent gateway's use cases, shared by the HTTP routes and the gRPC AgentDesk. Any instance serves them:
// agent commands run on the routing leader (leader-commands.ts: here when this instance leads, forwarded
// otherwise); reads come from the leader's memory here, or from the store's snapshot elsewhere (ADR 0014).
// Every read here is by _id.
import { createHash, randomUUID } from "node:crypto";
import { Topics, channelToProto } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import type { Presence, ReplyVisibility } from "./domain/index.ts";
import { AgentNotFoundError, TicketNotFoundError, checkReply } from "./domain/index.ts";
import { PRODUCER } from "./routing-events.ts";
import type { AgentDirectory, AgentProfileInput } from "./agents.ts";
import type { MatcherLease } from "./matcher-lease.ts";
import type { Matcher, MatcherStatus } from "./matcher.ts";
import { skillsOf, type AgentDoc, type RoutingStore, type TicketDoc } from "./routing-store.ts";
import type { TicketLedger } from "./ticket-ledger.ts";
import type { RoutingCommands } from "./leader-commands.ts";
import type { RoutingState } from "./routing-state.ts";
import type { WorkHub, WorkItem } from "./work-hub.ts";
import type { StreamPresence } from "./stream-presence.ts";

export interface GatewayDeps {
  /** The lease and older offers. */
  store: RoutingStore;
  /** Tickets and agents as this instance knows them best. */
  state: RoutingState;
  ledger: TicketLedger;
  commands: RoutingCommands;
  agents: AgentDirectory;
  hub: WorkHub;
  presence: StreamPresence;
  matcher: Matcher;
  lease: MatcherLease;
  instanceId: string;
  /** Replies are published straight to the routing topic: they change no routing state to store. */
  bus: EventBus;
}

export interface ReplyInput {
  body: string;
  visibility: ReplyVisibility;
  inReplyToMessageId?: string;
  /**
   * The client's own id for this reply: sending the same one again (a retry after a lost answer) gives the
   * same message id, which intake stores and sends once.
   */
  clientMessageId?: string;
}

/** A reply's message id: derived from the client's id when it gave one, so a retried POST is the same reply. */
export function replyMessageId(ticketId: string, agentId: string, clientMessageId: string | undefined): string {
  if (clientMessageId === undefined) return `reply-${randomUUID()}`;
  return `reply-${createHash("sha256").update(`${ticketId}\u0000${agentId}\u0000${clientMessageId}`).digest("hex").slice(0, 32)}`;
}

/** A reply as stored on the ticket's conversation, answered to its writer so the client sees its own write. */
export interface StoredReply {
  ticketId: string;
  messageId: string;
  from: "agent";
  agentId: string;
  visibility: ReplyVisibility;
  body: string;
  inReplyToMessageId: string | null;
  at: string;
}

const OFFER_OUTCOMES: Record<string, string> = {
  "offer.accepted": "accepted",
  "offer.declined": "declined",
  "offer.expired": "expired",
  "offer.withdrawn": "withdrawn",
};

/** How many of a ticket's most recent offers the routing view explains. */
const OFFERS_IN_VIEW = 20;

export class RoutingGateway {
  readonly #d: GatewayDeps;

  constructor(deps: GatewayDeps) {
    this.#d = deps;
  }

  upsertAgent(agentId: string, profile: AgentProfileInput): Promise<AgentDoc> {
    return this.#d.agents.upsert(agentId, profile);
  }

  async agent(agentId: string): Promise<AgentDoc> {
    const doc = await this.#d.state.getAgent(agentId);
    if (doc === null) throw new AgentNotFoundError(agentId);
    return doc;
  }

  /**
   * An agent as the API shows it. Which held tickets are offers and which owned work is read from the
   * tickets: an accept does not rewrite the agent's hold (the ticket says who owns it).
   */
  async agentView(a: AgentDoc): Promise<Record<string, unknown>> {
    const holds = Object.values(a.holds ?? {});
    const owned = await Promise.all(
      holds.map(async (h) => {
        if (h.kind === "owned") return true;
        const t = await this.#d.state.getTicket(h.ticketId);
        return t !== null && t.status === "owned" && t.ownerId === a._id && !t.heldForOwner;
      }),
    );
    return {
      id: a._id,
      name: a.name,
      groups: a.groups,
      skills: skillsOf(a),
      languages: a.languages,
      capacity: a.capacity,
      free: a.free,
      offered: holds.filter((_, i) => !owned[i]).map((h) => h.ticketId),
      owned: holds.filter((_, i) => owned[i]).map((h) => h.ticketId),
      presence: a.presence,
      presenceChangedAt: new Date(a.presenceChangedAt).toISOString(),
      presenceChangedBy: a.presenceChangedBy ?? null,
    };
  }

  /** `actor`: who asked (the token's subject: the agent or a supervisor), stored and published with the change. */
  async setPresence(agentId: string, presence: Presence, actor: string): Promise<AgentDoc> {
    const doc = await this.#d.agents.setPresence(agentId, presence, { actor });
    if (doc === null) throw new AgentNotFoundError(agentId);
    return doc;
  }

  accept(offerId: string, agentId: string): Promise<{ ticketId: string }> {
    return this.#d.commands.accept(offerId, agentId);
  }

  decline(offerId: string, agentId: string, reason: string): Promise<void> {
    return this.#d.commands.decline(offerId, agentId, reason);
  }

  resolve(ticketId: string, agentId: string): Promise<void> {
    return this.#d.commands.resolve(ticketId, agentId);
  }

  /**
   * An agent's reply or internal note: checked against the ticket's owner and collaborators and published
   * as agent.replied (intake adds it to the conversation and sends public replies to the customer;
   * escalation counts a public one as the agent's response). Answered once Kafka has it.
   */
  async reply(ticketId: string, agentId: string, input: ReplyInput): Promise<StoredReply> {
    const doc = await this.#d.commands.ticket(ticketId);
    if (doc === null) throw new TicketNotFoundError(ticketId);
    checkReply(doc, agentId, input.visibility, input.body);
    const messageId = replyMessageId(ticketId, agentId, input.clientMessageId);
    const at = new Date();
    const inReplyTo = input.inReplyToMessageId ?? "";
    await this.#d.bus.publish({
      topic: Topics.routing,
      envelope: newEnvelope(
        "agentReplied",
        ticketId,
        { messageId, agentId, body: input.body, visibility: input.visibility, channel: channelToProto(doc.channel), inReplyToMessageId: inReplyTo },
        PRODUCER,
        // Not "routing/...": those ids carry a store version the matcher compares (versionOfEventId).
        { eventId: `reply/${messageId}`, occurredAt: at },
      ),
    });
    return { ticketId, messageId, from: "agent", agentId, visibility: input.visibility, body: input.body, inReplyToMessageId: inReplyTo || null, at: at.toISOString() };
  }

  transfer(ticketId: string, agentId: string, toAgentId: string): Promise<never> {
    return this.#d.ledger.transfer(ticketId, agentId, toAgentId);
  }

  reassign(ticketId: string, supervisorId: string, toAgentId: string, reason: string): Promise<{ ownerId: string; heldForOwner: boolean }> {
    return this.#d.commands.reassign(ticketId, supervisorId, toAgentId, reason);
  }

  /** A ticket's routing document, for the access rules (owner, group, collaborators). */
  ticketDoc(ticketId: string): Promise<TicketDoc | null> {
    return this.#d.commands.ticket(ticketId);
  }

  /** An agent's document, for the access rules (its groups). */
  agentDoc(agentId: string): Promise<AgentDoc | null> {
    return this.#d.agents.get(agentId);
  }

  /** The agent an offer went to (null when unknown), for the access rules. */
  offerAgent(offerId: string): Promise<string | null> {
    return this.#d.commands.offerAgent(offerId);
  }

  /** A live work stream (SSE or gRPC): presence follows whether the agent has one open (StreamPresence). */
  listen(agentId: string, onItem: (item: WorkItem, eventId: string) => void): () => void {
    const unlisten = this.#d.hub.listen(agentId, onItem);
    const closed = this.#d.presence.opened(agentId);
    return () => {
      unlisten();
      closed();
    };
  }

  /** Items sent to the agent after a stream's Last-Event-ID (null: not replayable here). */
  replaySince(agentId: string, lastEventId: string): Array<{ id: string; item: WorkItem }> | null {
    return this.#d.hub.replaySince(agentId, lastEventId);
  }

  /** Open offers and owned tickets, sent first to a (re)connecting agent: read from the agent's holds, by _id. */
  async openWork(agentId: string): Promise<WorkItem[]> {
    const agent = await this.agent(agentId);
    const now = Date.now();
    const items: WorkItem[] = [];
    const tickets = await Promise.all(Object.values(agent.holds ?? {}).map((h) => this.#d.state.getTicket(h.ticketId)));
    for (const t of tickets) {
      if (t === null) continue;
      const offer = t.pendingOffers.find((o) => o.agentId === agentId && o.expiresAt > now);
      if (offer !== undefined) {
        items.push({
          kind: "offer",
          ticketId: t._id,
          offerId: offer.offerId,
          expiresAt: new Date(offer.expiresAt).toISOString(),
          channel: t.channel,
          priority: t.priority,
          subject: t.subject,
        });
      } else if (t.status === "owned" && t.ownerId === agentId) {
        items.push({ kind: "assignment", ticketId: t._id, channel: t.channel, priority: t.priority, subject: t.subject });
      }
    }
    return items;
  }

  /** The ticket's routing state and why each of its offers went to its agent. */
  async routingView(ticketId: string): Promise<Record<string, unknown>> {
    const doc = await this.#d.state.getTicket(ticketId);
    if (doc === null) throw new TicketNotFoundError(ticketId);
    const outcomes = new Map<string, { outcome: string; at: number }>();
    for (const h of doc.history) {
      const offerId = h.detail?.["offerId"];
      const outcome = OFFER_OUTCOMES[h.type];
      if (typeof offerId === "string" && outcome !== undefined) outcomes.set(offerId, { outcome, at: h.at });
    }
    const recent = doc.offerIds.slice(-OFFERS_IN_VIEW);
    // Kept on the ticket; offers made before that have documents of their own.
    const kept = new Map((doc.offers ?? []).map((o) => [o.offerId, { _id: o.offerId, ticketId: doc._id, ...o }]));
    const offers = await Promise.all(recent.map(async (id) => kept.get(id) ?? this.#d.state.getOffer(id)));
    const pendingIds = new Set(doc.pendingOffers.map((o) => o.offerId));
    return {
      ticketId: doc._id,
      status: doc.status,
      ownerId: doc.ownerId,
      lastOwnerId: doc.lastOwnerId,
      heldForOwner: doc.heldForOwner,
      collaborators: doc.collaborators,
      group: doc.group,
      overflowGroup: doc.overflowGroup,
      channel: doc.channel,
      language: doc.language,
      priority: doc.priority,
      slaDeadline: doc.slaDeadline === null ? null : new Date(doc.slaDeadline).toISOString(),
      waitingSince: new Date(doc.enqueuedAt).toISOString(),
      relaxation: doc.relaxation,
      noEligibleAgent:
        doc.noEligible && doc.status === "waiting" && doc.pendingOffers.length === 0
          ? {
              at: new Date(doc.noEligible.at).toISOString(),
              reasons: doc.noEligible.reasons,
              nextRelaxationAt: doc.noEligible.nextRelaxationAt === null ? null : new Date(doc.noEligible.nextRelaxationAt).toISOString(),
            }
          : null,
      pendingOffers: doc.pendingOffers.map((o) => ({ offerId: o.offerId, agentId: o.agentId, expiresAt: new Date(o.expiresAt).toISOString() })),
      passedBy: doc.passedBy.map((p) => ({ agentId: p.agentId, outcome: p.outcome, at: new Date(p.at).toISOString() })),
      offersMade: doc.offersMade,
      offers: offers.flatMap((o, i) => {
        if (o === null || o.ticketId !== doc._id) return [];
        const ended = outcomes.get(recent[i] as string);
        return [
          {
            offerId: o._id,
            agentId: o.agentId,
            offeredAt: new Date(o.offeredAt).toISOString(),
            expiresAt: new Date(o.expiresAt).toISOString(),
            outcome: pendingIds.has(o._id) ? "pending" : (ended?.outcome ?? "unknown"),
            explanation: o.explanation,
          },
        ];
      }),
      lastReassignment: doc.lastReassignment,
      history: doc.history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
      version: doc.version,
    };
  }

  async status(): Promise<{ instanceId: string; matcher: MatcherStatus & { leader: boolean }; lease: { owner: string; leaseUntil: string; term: number } | null }> {
    const lease = await this.#d.store.getLease();
    return {
      instanceId: this.#d.instanceId,
      matcher: { ...this.#d.matcher.status(), leader: this.#d.lease.isHeld() },
      lease: lease === null ? null : { owner: lease.owner, leaseUntil: new Date(lease.leaseUntil).toISOString(), term: lease.term },
    };
  }
}
