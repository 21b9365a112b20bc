// Keeps the matcher's RoutingEngine (the fast in-memory index) in line with the store (the truth). After
// every write, and for every change another instance announces, the engine's entry for that ticket or
// agent is replaced by what the store holds; nothing the engine decides counts until the store accepts it.
import {
  newWaitingTicket,
  type AgentState,
  type Channel,
  type ChannelCounts,
  type EndedOffer,
  type Offer,
  type RelaxationPolicy,
  type RoutingEngine,
  type TicketView,
} from "./domain/index.ts";
import { agentInputOf, ownershipOf, waitingTicketOf } from "./domain-mapping.ts";
import type { AgentDoc, TicketDoc } from "./routing-store.ts";

export interface TicketMirrorResult {
  /** Offers the store holds that the engine could not take back (the agent left or no longer qualifies). */
  readonly orphanOffers: readonly Offer[];
  /** Agents the ticket no longer holds a slot of: they may take other work now. */
  readonly freedAgents: readonly string[];
}

/** Agents holding a slot for the ticket, as the engine or the store sees it. */
function slotHolders(view: { ownerId: string | null; status: string; heldForOwner: boolean; pendingAgentIds: readonly string[] }): Set<string> {
  const ids = new Set(view.pendingAgentIds);
  if (view.status === "owned" && view.ownerId !== null && !view.heldForOwner) ids.add(view.ownerId);
  return ids;
}

export class EngineMirror {
  readonly engine: RoutingEngine;
  readonly #defaultRelaxation: RelaxationPolicy;
  /** The stored state the engine reflects, per ticket it knows (waiting or owned). */
  readonly #tickets = new Map<string, TicketDoc>();
  readonly #agentVersions = new Map<string, number>();

  constructor(engine: RoutingEngine, defaultRelaxation: RelaxationPolicy) {
    this.engine = engine;
    this.#defaultRelaxation = defaultRelaxation;
  }

  ticketDoc(ticketId: string): TicketDoc | undefined {
    return this.#tickets.get(ticketId);
  }

  ticketDocs(): IterableIterator<TicketDoc> {
    return this.#tickets.values();
  }

  agentVersion(agentId: string): number | undefined {
    return this.#agentVersions.get(agentId);
  }

  /**
   * The agent's profile and presence as stored; their load stays the engine's own count of the tickets it
   * knows they own. Returns the offers the engine withdrew because the agent is no longer available.
   */
  putAgent(doc: AgentDoc, now: number): readonly EndedOffer[] {
    const current = this.engine.getAgent(doc._id);
    const input = agentInputOf(doc, current?.load ?? {}, current?.idleSince ?? doc.idleSince);
    const result = this.engine.upsertAgent(input, now);
    this.#agentVersions.set(doc._id, doc.version);
    if (!result.ok) {
      // A profile the engine cannot route to (e.g. no group): it takes no new work.
      const removed = this.engine.removeAgent(doc._id, now);
      return removed.ok ? removed.value.withdrawnOffers : [];
    }
    return result.value.withdrawnOffers;
  }

  /** Replaces the engine's view of one ticket with the stored one (null or resolved: the engine forgets it). */
  putTicket(ticketId: string, doc: TicketDoc | null, now: number): TicketMirrorResult {
    const before = this.engine.getTicket(ticketId);
    const previousHolders = before === undefined ? new Set<string>() : slotHolders(viewOf(before));
    if (before !== undefined) this.#forget(before, now);
    this.#tickets.delete(ticketId);
    const orphanOffers: Offer[] = [];
    if (doc !== null && doc.status !== "resolved") {
      this.#tickets.set(ticketId, doc);
      const ticket = waitingTicketOf(doc, this.#defaultRelaxation);
      if (doc.status === "owned") {
        if (!doc.heldForOwner && doc.ownerId !== null) this.#addLoad(doc.ownerId, doc.channel, 1, doc.updatedAt);
        this.engine.restoreTicket(ticket, ownershipOf(doc), doc.heldForOwner, now);
      } else {
        const restored = this.engine.restoreTicket(ticket, { ...ownershipOf(doc), pendingOffers: [] }, false, now);
        if (restored.ok) {
          const timeout = this.engine.config.offerTimeoutMs[doc.channel];
          for (const offer of doc.pendingOffers) {
            // Made again "when it was made", so it expires when the stored one does.
            const made = this.engine.makeOffer(ticketId, offer.agentId, offer.expiresAt - timeout);
            if (!made.ok) orphanOffers.push(offer);
          }
        } else {
          orphanOffers.push(...doc.pendingOffers);
        }
      }
    }
    const after = this.engine.getTicket(ticketId);
    const currentHolders = after === undefined ? new Set<string>() : slotHolders(viewOf(after));
    return { orphanOffers, freedAgents: [...previousHolders].filter((id) => !currentHolders.has(id)) };
  }

  /** Drops everything the engine holds for a ticket, returning the slots it took. */
  #forget(view: TicketView, now: number): void {
    const { ownership } = view;
    if (ownership.status === "owned" && !view.heldForOwner && ownership.ownerId !== null) this.#addLoad(ownership.ownerId, ownership.channel, -1, null);
    // restoreTicket first forgets the ticket's offers, held work and queue place; withdrawTicket then removes it.
    this.engine.restoreTicket(view.ticket, newWaitingTicket(view.ticket.id, view.ticket.channel), false, now);
    this.engine.withdrawTicket(view.ticket.id, now);
  }

  #addLoad(agentId: string, channel: Channel, delta: number, assignedAt: number | null): void {
    const agent: AgentState | undefined = this.engine.getAgent(agentId);
    if (agent === undefined) return;
    const load: ChannelCounts = { ...agent.load, [channel]: Math.max(0, (agent.load[channel] ?? 0) + delta) };
    const idleSince = assignedAt === null ? agent.idleSince : Math.max(agent.idleSince, assignedAt);
    this.engine.upsertAgent({ ...agent, load, idleSince }, agent.presenceChangedAt);
  }
}

function viewOf(view: TicketView): { ownerId: string | null; status: string; heldForOwner: boolean; pendingAgentIds: readonly string[] } {
  return { ownerId: view.ownership.ownerId, status: view.ownership.status, heldForOwner: view.heldForOwner, pendingAgentIds: view.ownership.pendingOffers.map((o) => o.agentId) };
}
