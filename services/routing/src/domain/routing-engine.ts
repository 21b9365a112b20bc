// The routing engine: an in-memory index of agents, waiting tickets, offers and owned work that answers
// "who should get this ticket?" and "what should this agent take next?" in time independent of queue
// length, and applies each change through the pure transitions the store mirrors as guarded updates.
import { addOwnedWork, changePresence, convertOfferSlotToLoad, releaseOfferSlot, releaseOwnedWork, reserveOfferSlot } from "./agent-capacity.ts";
import { AgentPool } from "./agent-pool.ts";
import { decideAgentsForTicket, type TicketDecision } from "./agents-for-ticket.ts";
import { checkEligibility } from "./eligibility.ts";
import { AgentNotFoundError, InvalidInputError, TicketNotFoundError, TicketStateError, type RoutingDomainError } from "./errors.ts";
import { IndexedHeap, type HeapEntry } from "./indexed-heap.ts";
import {
  DEFAULT_ROUTING_CONFIG,
  fail,
  ok,
  type AgentProfile,
  type AgentState,
  type AgentStatus,
  type Channel,
  type Offer,
  type Presence,
  type Result,
  type RoutingConfig,
  type WaitingTicket,
} from "./model.ts";
import {
  acceptOffer as acceptOfferTransition,
  addCollaborator as addCollaboratorTransition,
  declineOffer as declineOfferTransition,
  expireOffer as expireOfferTransition,
  makeOffer as makeOfferTransition,
  newWaitingTicket,
  reassignBySupervisor,
  reopenTicket as reopenTransition,
  requestTransfer as requestTransferTransition,
  resolveTicket as resolveTransition,
  routeFollowUp as routeFollowUpDecision,
  withdrawOffer as withdrawOfferTransition,
  type FollowUpRoute,
  type OwnershipEvent,
  type OwnershipResult,
  type ReassignRequest,
  type TicketOwnership,
  type WithdrawReason,
} from "./ownership.ts";
import { effectiveRequirements } from "./relaxation.ts";
import { compareRoutingOrder } from "./routing-order.ts";
import { decideTicketForAgent, type AgentDecision, type QueueIndex } from "./ticket-for-agent.ts";
import { TicketQueues } from "./ticket-queues.ts";
import { passedMap, type HeldWork, type TicketRecord } from "./ticket-record.ts";
import { relaxationPolicyProblems, validateAgent, validateTicket } from "./validation.ts";

export type { AgentDecision } from "./ticket-for-agent.ts";
export type { TicketDecision } from "./agents-for-ticket.ts";

export type EngineResult<T> = Result<T, RoutingDomainError>;

export interface TicketView {
  readonly ticket: WaitingTicket;
  readonly ownership: TicketOwnership;
  /** Owned, but waiting for the owner to be available with a free slot before it counts in their load. */
  readonly heldForOwner: boolean;
}

export interface AcceptedOffer {
  readonly ownership: TicketOwnership;
  readonly agent: AgentState;
  /** Other agents' offers for the ticket, ended because this accept came first. */
  readonly withdrawnOffers: readonly Offer[];
  readonly events: readonly OwnershipEvent[];
}

export interface EndedOffer {
  readonly offer: Offer;
  readonly ownership: TicketOwnership;
}

export interface EngineStats {
  readonly agents: number;
  readonly waitingTickets: number;
  /** Waiting tickets that can still take another offer (pendingOffers < maxParallelOffers). */
  readonly queuedTickets: number;
  /** Sub-queues of alike tickets (same group, overflow, language, channel, skills, relaxation policy). */
  readonly queueBuckets: number;
  readonly pendingOffers: number;
  readonly ownedTickets: number;
  readonly heldForOwner: number;
}

function byExpiry(a: Offer, b: Offer): number {
  return a.expiresAt - b.expiresAt || (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0);
}

export class RoutingEngine {
  readonly config: RoutingConfig;
  readonly #pool = new AgentPool();
  readonly #queues = new TicketQueues();
  /** Waiting tickets and owned tickets (until resolved). */
  readonly #tickets = new Map<string, TicketRecord>();
  readonly #offersByAgent = new Map<string, Set<string>>();
  readonly #expiries = new IndexedHeap<Offer>(byExpiry);
  readonly #expiryEntries = new Map<string, HeapEntry<Offer>>();
  /** ownerId -> channel -> owned work waiting for that owner's free slot. */
  readonly #held = new Map<string, Map<Channel, IndexedHeap<HeldWork>>>();
  readonly #heldEntries = new Map<string, { readonly ownerId: string; readonly entry: HeapEntry<HeldWork> }>();

  /** The read-only view the agent -> ticket decision needs. */
  readonly #index: QueueIndex;

  constructor(config: Partial<RoutingConfig> = {}) {
    this.config = { ...DEFAULT_ROUTING_CONFIG, ...config };
    const problems = relaxationPolicyProblems(this.config.defaultRelaxation);
    if (!Number.isInteger(this.config.maxParallelOffers) || this.config.maxParallelOffers < 1) problems.push("maxParallelOffers: expected >= 1");
    if (this.config.explanationTopK < 0) problems.push("explanationTopK: expected >= 0");
    if (problems.length > 0) throw new InvalidInputError("routing config", problems);
    this.#index = {
      pool: this.#pool,
      queues: this.#queues,
      config: this.config,
      recordOf: (ticketId) => this.#tickets.get(ticketId) as TicketRecord,
      heldFor: (agentId) => this.#held.get(agentId),
    };
  }

  // ---- agents --------------------------------------------------------------------------------------------

  /**
   * Adds an agent or replaces their profile and status. The engine keeps its own offer reservations; if the
   * agent is no longer available, their pending offers are withdrawn and returned.
   */
  upsertAgent(agent: AgentProfile & AgentStatus, now: number): EngineResult<{ agent: AgentState; withdrawnOffers: readonly EndedOffer[] }> {
    const valid = validateAgent(agent);
    if (!valid.ok) return valid;
    const previous = this.#pool.get(agent.id);
    const state: AgentState = {
      id: agent.id,
      name: agent.name,
      groups: [...new Set(agent.groups)],
      skills: { ...agent.skills },
      languages: [...new Set(agent.languages)],
      capacity: { ...agent.capacity },
      presence: agent.presence,
      presenceChangedAt: agent.presenceChangedAt,
      load: { ...agent.load },
      idleSince: agent.idleSince,
      reserved: previous?.reserved ?? {},
    };
    this.#pool.put(state);
    const withdrawnOffers = state.presence === "available" ? [] : this.#withdrawOffersOf(agent.id, now, "agent-unavailable");
    return ok({ agent: this.#pool.get(agent.id) as AgentState, withdrawnOffers });
  }

  /** Presence change. Leaving "available" withdraws the agent's pending offers (returned, to re-route). */
  setPresence(agentId: string, presence: Presence, now: number): EngineResult<{ agent: AgentState; withdrawnOffers: readonly EndedOffer[] }> {
    const agent = this.#pool.get(agentId);
    if (agent === undefined) return fail(new AgentNotFoundError(agentId));
    this.#pool.put(changePresence(agent, presence, now));
    const withdrawnOffers = presence === "available" ? [] : this.#withdrawOffersOf(agentId, now, "agent-unavailable");
    return ok({ agent: this.#pool.get(agentId) as AgentState, withdrawnOffers });
  }

  /** Forgets an agent (their pending offers are withdrawn). Tickets they own stay theirs until reassigned. */
  removeAgent(agentId: string, now: number): EngineResult<{ withdrawnOffers: readonly EndedOffer[] }> {
    if (!this.#pool.has(agentId)) return fail(new AgentNotFoundError(agentId));
    const withdrawnOffers = this.#withdrawOffersOf(agentId, now, "agent-unavailable");
    this.#pool.delete(agentId);
    return ok({ withdrawnOffers });
  }

  getAgent(agentId: string): AgentState | undefined {
    return this.#pool.get(agentId);
  }

  agents(): IterableIterator<AgentState> {
    return this.#pool.all();
  }

  // ---- tickets -------------------------------------------------------------------------------------------

  /** A new ticket starts waiting in its group's queue. */
  enqueueTicket(ticket: WaitingTicket, now: number): EngineResult<TicketOwnership> {
    const valid = validateTicket(ticket);
    if (!valid.ok) return valid;
    if (this.#tickets.has(ticket.id)) return fail(new InvalidInputError(`ticket ${ticket.id}`, ["already known to the engine"]));
    const policy = ticket.relaxation ?? this.config.defaultRelaxation;
    const ownership = newWaitingTicket(ticket.id, ticket.channel);
    this.#tickets.set(ticket.id, { ticket, policy, ownership, passedAt: new Map(), heldForOwner: false });
    this.#queues.add(ticket, policy, now);
    return ok(ownership);
  }

  /**
   * Warm start: loads a ticket in whatever state the store holds. For owned tickets the owner's load is
   * expected to already count it (unless `heldForOwner`); pending offers must be re-made with makeOffer.
   */
  restoreTicket(ticket: WaitingTicket, ownership: TicketOwnership, heldForOwner: boolean, now: number): EngineResult<TicketView> {
    const valid = validateTicket(ticket);
    if (!valid.ok) return valid;
    if (ownership.ticketId !== ticket.id) return fail(new InvalidInputError(`ticket ${ticket.id}`, ["ownership belongs to another ticket"]));
    if (ownership.status === "resolved") return fail(new TicketStateError("TICKET_NOT_WAITING", `ticket ${ticket.id} is resolved`));
    this.#forget(ticket.id);
    const policy = ticket.relaxation ?? this.config.defaultRelaxation;
    const restored: TicketOwnership = { ...ownership, pendingOffers: [] };
    const record: TicketRecord = { ticket, policy, ownership: restored, passedAt: passedMap(restored), heldForOwner: false };
    this.#tickets.set(ticket.id, record);
    if (restored.status === "waiting") this.#queues.add(ticket, policy, now);
    else if (heldForOwner && restored.ownerId !== null) this.#hold(record, restored.ownerId);
    return ok(this.#view(record));
  }

  /** The ticket leaves routing without an owner (cancelled, merged). Its pending offers are withdrawn. */
  withdrawTicket(ticketId: string, now: number): EngineResult<{ withdrawnOffers: readonly EndedOffer[] }> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    if (record.ownership.status !== "waiting") {
      return fail(new TicketStateError("TICKET_NOT_WAITING", `ticket ${ticketId} is ${record.ownership.status}; only waiting tickets are withdrawn`));
    }
    const withdrawnOffers: EndedOffer[] = [];
    for (const offer of record.ownership.pendingOffers) {
      const ended = this.#endOffer(record, offer, now, (state) => withdrawOfferTransition(state, offer.agentId, now, "ticket-withdrawn"));
      if (ended.ok) withdrawnOffers.push(ended.value);
    }
    this.#forget(ticketId);
    return ok({ withdrawnOffers });
  }

  getTicket(ticketId: string): TicketView | undefined {
    const record = this.#tickets.get(ticketId);
    return record === undefined ? undefined : this.#view(record);
  }

  /** Sizes of the index, for monitoring: walks every ticket, so not for hot paths. */
  stats(): EngineStats {
    let waiting = 0;
    let owned = 0;
    let held = 0;
    for (const record of this.#tickets.values()) {
      if (record.ownership.status === "waiting") waiting++;
      else owned++;
      if (record.heldForOwner) held++;
    }
    return {
      agents: this.#pool.size,
      waitingTickets: waiting,
      queuedTickets: this.#queues.size,
      queueBuckets: this.#queues.subQueueCount,
      pendingOffers: this.#expiries.size,
      ownedTickets: owned,
      heldForOwner: held,
    };
  }

  // ---- decisions (queries: observable state never changes) ----------------------------------------------

  /**
   * Ticket -> agents: the best eligible agents for a waiting ticket, as many as it may still be offered to,
   * or "no-eligible-agent" with the reasons. Cost: the free agents of the ticket's group(s) in its language
   * and channel, never the queue.
   */
  decideForTicket(ticketId: string, now: number): EngineResult<TicketDecision> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    if (record.ownership.status !== "waiting") {
      return fail(new TicketStateError("TICKET_NOT_WAITING", `ticket ${ticketId} is ${record.ownership.status}`));
    }
    return ok(decideAgentsForTicket(this.#pool, record, this.config, now));
  }

  /**
   * Agent -> ticket: the first waiting ticket, in routing order, this agent may be offered now (or owned
   * work waiting for them). Cost: one head per queue partition of the agent's groups, languages, free
   * channels and skills, plus a bounded number of skips; never the queue's length.
   */
  decideForAgent(agentId: string, now: number): EngineResult<AgentDecision> {
    const pooled = this.#pool.pooled(agentId);
    if (pooled === undefined) return fail(new AgentNotFoundError(agentId));
    return ok(decideTicketForAgent(this.#index, pooled, now));
  }

  // ---- offers ----------------------------------------------------------------------------------------------

  /**
   * Offers a waiting ticket to one agent: the agent must be eligible now (re-checked, so a stale decision
   * cannot overfill anyone), the ticket must be below its parallel-offer limit. Reserves a slot.
   */
  makeOffer(ticketId: string, agentId: string, now: number): EngineResult<Offer> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const agent = this.#pool.get(agentId);
    if (agent === undefined) return fail(new AgentNotFoundError(agentId));
    const requirements = effectiveRequirements(record.ticket, record.policy, now);
    const eligibility = checkEligibility(agent, requirements, record.ticket.channel);
    if (!eligibility.eligible) {
      const detail =
        eligibility.reason === "missing-skill" ? ` (${eligibility.missingSkill.name} ${eligibility.missingSkill.actualLevel} < ${eligibility.missingSkill.minLevel})` : "";
      return fail(new InvalidInputError(`offer of ${ticketId} to ${agentId}`, [`agent is not eligible: ${eligibility.reason}${detail}`]));
    }
    const offered = makeOfferTransition(record.ownership, {
      agentId,
      now,
      timeoutMs: this.config.offerTimeoutMs[record.ticket.channel],
      maxParallelOffers: this.config.maxParallelOffers,
    });
    if (!offered.ok) return offered;
    const reserved = reserveOfferSlot(agent, record.ticket.channel);
    if (!reserved.ok) return reserved;
    const event = offered.value.events[0];
    const offer = (event as Extract<OwnershipEvent, { type: "offer-made" }>).offer;
    record.ownership = offered.value.state;
    this.#pool.put(reserved.value);
    let agentOffers = this.#offersByAgent.get(agentId);
    if (agentOffers === undefined) {
      agentOffers = new Set();
      this.#offersByAgent.set(agentId, agentOffers);
    }
    agentOffers.add(ticketId);
    this.#expiryEntries.set(offer.offerId, this.#expiries.push(offer));
    if (record.ownership.pendingOffers.length >= this.config.maxParallelOffers) this.#queues.remove(ticketId);
    return ok(offer);
  }

  /**
   * First accept wins: the agent becomes owner, their reserved slot becomes load, every other pending offer
   * for the ticket is withdrawn. A late accept gets OWNERSHIP_CONFLICT (owned) or OFFER_NOT_FOUND.
   */
  acceptOffer(ticketId: string, agentId: string, now: number): EngineResult<AcceptedOffer> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const agent = this.#pool.get(agentId);
    if (agent === undefined) return fail(new AgentNotFoundError(agentId));
    const accepted = acceptOfferTransition(record.ownership, agentId, now);
    if (!accepted.ok) return accepted;
    const loaded = convertOfferSlotToLoad(agent, record.ticket.channel, now);
    if (!loaded.ok) return loaded;
    const withdrawnOffers = record.ownership.pendingOffers.filter((offer) => offer.agentId !== agentId);
    for (const offer of record.ownership.pendingOffers) this.#untrackOffer(offer);
    for (const offer of withdrawnOffers) this.#releaseSlot(offer);
    this.#pool.put(loaded.value);
    record.ownership = accepted.value.state;
    record.passedAt = new Map();
    this.#queues.remove(ticketId);
    return ok({ ownership: record.ownership, agent: loaded.value, withdrawnOffers, events: accepted.value.events });
  }

  /** The agent says no: the slot is released and the agent goes to the back of this ticket's rotation. */
  declineOffer(ticketId: string, agentId: string, now: number): EngineResult<EndedOffer> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const transition = declineOfferTransition(record.ownership, agentId, now);
    if (!transition.ok) return transition;
    const offer = record.ownership.pendingOffers.find((o) => o.agentId === agentId) as Offer;
    return this.#endOffer(record, offer, now, () => transition);
  }

  /** Ends every offer whose time is up (as if declined) and returns them, so their tickets can be re-routed. */
  expireDueOffers(now: number): readonly EndedOffer[] {
    const expired: EndedOffer[] = [];
    for (let offer = this.#expiries.peek(); offer !== undefined && offer.expiresAt <= now; offer = this.#expiries.peek()) {
      const record = this.#tickets.get(offer.ticketId);
      const due = offer;
      const ended = record === undefined ? null : this.#endOffer(record, due, now, (state) => expireOfferTransition(state, due.agentId, now));
      if (ended?.ok === true) expired.push(ended.value);
      else this.#untrackOffer(due);
    }
    return expired;
  }

  /** When the earliest pending offer times out, for the adapter's timer; null when none is pending. */
  nextOfferExpiry(): number | null {
    return this.#expiries.peek()?.expiresAt ?? null;
  }

  /** Decide for a ticket and make the offers: what an adapter does when a ticket arrives or an offer ends. */
  routeTicket(ticketId: string, now: number): EngineResult<{ decision: TicketDecision; offers: readonly Offer[] }> {
    const decided = this.decideForTicket(ticketId, now);
    if (!decided.ok) return decided;
    const decision = decided.value;
    const offers: Offer[] = [];
    if (decision.kind === "offer") {
      for (const agentId of decision.agentIds) {
        const made = this.makeOffer(ticketId, agentId, now);
        if (!made.ok) return made;
        offers.push(made.value);
      }
    }
    return ok({ decision, offers });
  }

  /** Decide for an agent and act on it: what an adapter does when an agent frees capacity or comes back. */
  routeAgent(agentId: string, now: number): EngineResult<{ decision: AgentDecision; offer: Offer | null; delivered: TicketView | null }> {
    const decided = this.decideForAgent(agentId, now);
    if (!decided.ok) return decided;
    const decision = decided.value;
    if (decision.kind === "offer") {
      const made = this.makeOffer(decision.ticketId, agentId, now);
      if (!made.ok) return made;
      return ok({ decision, offer: made.value, delivered: null });
    }
    if (decision.kind === "deliver-owned-work") {
      const delivered = this.deliverHeldWork(decision.ticketId, now);
      if (!delivered.ok) return delivered;
      return ok({ decision, offer: null, delivered: delivered.value });
    }
    return ok({ decision, offer: null, delivered: null });
  }

  // ---- ownership -------------------------------------------------------------------------------------------

  /** Only the owner resolves (NOT_OWNER otherwise); their slot frees and the engine forgets the ticket. */
  resolveTicket(ticketId: string, byAgentId: string, now: number): EngineResult<{ ownership: TicketOwnership; agent: AgentState | null }> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const resolved = resolveTransition(record.ownership, byAgentId, now);
    if (!resolved.ok) return resolved;
    let agent: AgentState | null = this.#pool.get(byAgentId) ?? null;
    if (!record.heldForOwner && agent !== null) {
      const released = releaseOwnedWork(agent, record.ticket.channel);
      if (!released.ok) return released;
      agent = released.value;
      this.#pool.put(agent);
    }
    this.#forget(ticketId);
    return ok({ ownership: resolved.value.state, agent });
  }

  /** Agents cannot hand tickets over: always OWNERSHIP_CONFLICT. */
  requestTransfer(ticketId: string, fromAgentId: string, toAgentId: string): EngineResult<never> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    return requestTransferTransition(record.ownership, fromAgentId, toAgentId);
  }

  /**
   * Supervisor reassignment (reason required). The work moves from the old owner's load to the new owner's;
   * if the new owner has no free slot or is not available, it waits for them as held work.
   */
  reassignTicket(ticketId: string, request: ReassignRequest, now: number): EngineResult<{ ownership: TicketOwnership; events: readonly OwnershipEvent[] }> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const target = this.#pool.get(request.toAgentId);
    if (target === undefined && request.actor.role === "supervisor") return fail(new AgentNotFoundError(request.toAgentId));
    const reassigned = reassignBySupervisor(record.ownership, request, now);
    if (!reassigned.ok) return reassigned;
    const previousOwner = record.ownership.ownerId as string;
    const channel = record.ticket.channel;
    if (record.heldForOwner) this.#unhold(record);
    else {
      const from = this.#pool.get(previousOwner);
      if (from !== undefined) {
        const released = releaseOwnedWork(from, channel);
        if (released.ok) this.#pool.put(released.value);
      }
    }
    record.ownership = reassigned.value.state;
    this.#placeOwnedWork(record, request.toAgentId, now);
    return ok({ ownership: record.ownership, events: reassigned.value.events });
  }

  /** Escalation adds a helper; ownership never changes this way. */
  addCollaborator(ticketId: string, collaboratorId: string, now: number): EngineResult<TicketOwnership> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const added = addCollaboratorTransition(record.ownership, collaboratorId, now);
    if (!added.ok) return added;
    record.ownership = added.value.state;
    return ok(record.ownership);
  }

  /** Where a customer's follow-up goes: straight to the owner, held for them, or back into its waiting place. */
  routeFollowUp(ticketId: string): EngineResult<FollowUpRoute> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    const ownerId = record.ownership.ownerId;
    const presence = ownerId === null ? null : (this.#pool.get(ownerId)?.presence ?? null);
    return ok(routeFollowUpDecision(record.ownership, presence));
  }

  /**
   * A resolved ticket comes back (the engine forgot it at resolution, so the store's state is passed in).
   * Within the reopen window it returns to its last owner, taking a slot if one is free or waiting for
   * them otherwise; after the window it queues like a new ticket with `ticket.enqueuedAt`.
   */
  reopenTicket(ownership: TicketOwnership, ticket: WaitingTicket, now: number): EngineResult<TicketView> {
    const valid = validateTicket(ticket);
    if (!valid.ok) return valid;
    if (ownership.ticketId !== ticket.id) return fail(new InvalidInputError(`ticket ${ticket.id}`, ["ownership belongs to another ticket"]));
    const reopened = reopenTransition(ownership, now, this.config.reopenWindowMs);
    if (!reopened.ok) return reopened;
    this.#forget(ticket.id);
    const policy = ticket.relaxation ?? this.config.defaultRelaxation;
    const state = reopened.value.state;
    const record: TicketRecord = { ticket, policy, ownership: state, passedAt: new Map(), heldForOwner: false };
    this.#tickets.set(ticket.id, record);
    if (state.status === "waiting") this.#queues.add(ticket, policy, now);
    else this.#placeOwnedWork(record, state.ownerId as string, now);
    return ok(this.#view(record));
  }

  /** Held owned work enters its owner's load (guard: owner available with a free slot). */
  deliverHeldWork(ticketId: string, now: number): EngineResult<TicketView> {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return fail(new TicketNotFoundError(ticketId));
    if (!record.heldForOwner || record.ownership.ownerId === null) {
      return fail(new TicketStateError("TICKET_NOT_OWNED", `ticket ${ticketId} is not waiting for its owner`));
    }
    const owner = this.#pool.get(record.ownership.ownerId);
    if (owner === undefined) return fail(new AgentNotFoundError(record.ownership.ownerId));
    if (owner.presence !== "available") return fail(new TicketStateError("TICKET_NOT_OWNED", `owner ${owner.id} is ${owner.presence}`));
    const added = addOwnedWork(owner, record.ticket.channel, now);
    if (!added.ok) return added;
    this.#pool.put(added.value);
    this.#unhold(record);
    return ok(this.#view(record));
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #view(record: TicketRecord): TicketView {
    return { ticket: record.ticket, ownership: record.ownership, heldForOwner: record.heldForOwner };
  }

  #withdrawOffersOf(agentId: string, now: number, reason: WithdrawReason): EndedOffer[] {
    const ticketIds = [...(this.#offersByAgent.get(agentId) ?? [])];
    const withdrawn: EndedOffer[] = [];
    for (const ticketId of ticketIds) {
      const record = this.#tickets.get(ticketId);
      const offer = record?.ownership.pendingOffers.find((o) => o.agentId === agentId);
      if (record === undefined || offer === undefined) continue;
      const ended = this.#endOffer(record, offer, now, (state) => withdrawOfferTransition(state, agentId, now, reason));
      if (ended.ok) withdrawn.push(ended.value);
    }
    return withdrawn;
  }

  /** Applies an offer-ending transition, frees the slot and puts the ticket back in its queue. */
  #endOffer(record: TicketRecord, offer: Offer, now: number, transition: (state: TicketOwnership) => OwnershipResult): EngineResult<EndedOffer> {
    const ended = transition(record.ownership);
    if (!ended.ok) return ended;
    record.ownership = ended.value.state;
    record.passedAt = passedMap(record.ownership);
    this.#untrackOffer(offer);
    this.#releaseSlot(offer);
    if (record.ownership.status === "waiting" && !this.#queues.has(record.ticket.id)) this.#queues.add(record.ticket, record.policy, now);
    return ok({ offer, ownership: record.ownership });
  }

  #untrackOffer(offer: Offer): void {
    const entry = this.#expiryEntries.get(offer.offerId);
    if (entry !== undefined) this.#expiries.remove(entry);
    this.#expiryEntries.delete(offer.offerId);
    const agentOffers = this.#offersByAgent.get(offer.agentId);
    agentOffers?.delete(offer.ticketId);
    if (agentOffers?.size === 0) this.#offersByAgent.delete(offer.agentId);
  }

  #releaseSlot(offer: Offer): void {
    const agent = this.#pool.get(offer.agentId);
    if (agent === undefined) return;
    const released = releaseOfferSlot(agent, offer.channel);
    if (released.ok) this.#pool.put(released.value);
  }

  /** Owned work goes into the owner's load if they can take it now, else it waits for them. */
  #placeOwnedWork(record: TicketRecord, ownerId: string, now: number): void {
    const owner = this.#pool.get(ownerId);
    if (owner !== undefined && owner.presence === "available") {
      const added = addOwnedWork(owner, record.ticket.channel, now);
      if (added.ok) {
        this.#pool.put(added.value);
        return;
      }
    }
    this.#hold(record, ownerId);
  }

  #hold(record: TicketRecord, ownerId: string): void {
    const { ticket } = record;
    let byChannel = this.#held.get(ownerId);
    if (byChannel === undefined) {
      byChannel = new Map();
      this.#held.set(ownerId, byChannel);
    }
    let heap = byChannel.get(ticket.channel);
    if (heap === undefined) {
      heap = new IndexedHeap<HeldWork>(compareRoutingOrder);
      byChannel.set(ticket.channel, heap);
    }
    const work: HeldWork = {
      id: ticket.id,
      priority: ticket.priority,
      enqueuedAt: ticket.enqueuedAt,
      channel: ticket.channel,
      ...(ticket.slaDeadline === undefined ? {} : { slaDeadline: ticket.slaDeadline }),
    };
    this.#heldEntries.set(ticket.id, { ownerId, entry: heap.push(work) });
    record.heldForOwner = true;
  }

  #unhold(record: TicketRecord): void {
    const held = this.#heldEntries.get(record.ticket.id);
    record.heldForOwner = false;
    if (held === undefined) return;
    this.#heldEntries.delete(record.ticket.id);
    const byChannel = this.#held.get(held.ownerId);
    const heap = byChannel?.get(record.ticket.channel);
    if (byChannel === undefined || heap === undefined) return;
    heap.remove(held.entry);
    if (heap.size === 0) byChannel.delete(record.ticket.channel);
    if (byChannel.size === 0) this.#held.delete(held.ownerId);
  }

  #forget(ticketId: string): void {
    const record = this.#tickets.get(ticketId);
    if (record === undefined) return;
    if (record.heldForOwner) this.#unhold(record);
    for (const offer of record.ownership.pendingOffers) {
      this.#untrackOffer(offer);
      this.#releaseSlot(offer);
    }
    this.#queues.remove(ticketId);
    this.#tickets.delete(ticketId);
  }
}
