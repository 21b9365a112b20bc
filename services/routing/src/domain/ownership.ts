// A ticket's ownership lifecycle as pure transitions: waiting (with offers) -> owned -> resolved -> reopened.
// The first agent to accept owns the ticket until it is resolved; only a supervisor moves it, with a reason.
import { InvalidInputError, NotOwnerError, OfferError, OwnershipConflictError, ReasonRequiredError, TicketStateError, type RoutingDomainError } from "./errors.ts";
import { fail, ok, type Channel, type Offer, type Presence, type Result } from "./model.ts";

export type TicketStatus = "waiting" | "owned" | "resolved";

export interface PassedOffer {
  readonly agentId: string;
  readonly at: number;
  readonly outcome: "declined" | "expired";
}

export interface Reassignment {
  readonly supervisorId: string;
  readonly fromAgentId: string;
  readonly toAgentId: string;
  readonly reason: string;
  readonly at: number;
}

export interface TicketOwnership {
  readonly ticketId: string;
  readonly channel: Channel;
  readonly status: TicketStatus;
  /** Set exactly while status = "owned". */
  readonly ownerId: string | null;
  /** The most recent owner; survives resolution so a reopened ticket finds its way back. */
  readonly lastOwnerId: string | null;
  /** Helpers added by escalation. They never become owner through this list. */
  readonly collaborators: readonly string[];
  readonly pendingOffers: readonly Offer[];
  /** The latest decline or expiry per agent while waiting; drives "no re-offer while someone else is eligible". */
  readonly passedBy: readonly PassedOffer[];
  /** Offers ever made for this ticket; numbers offer ids. */
  readonly offersMade: number;
  readonly resolvedAt: number | null;
  readonly lastReassignment: Reassignment | null;
  /** +1 on every change: the store's optimistic-concurrency token. */
  readonly version: number;
}

export type OwnershipEvent =
  | { readonly type: "offer-made"; readonly offer: Offer }
  | { readonly type: "offer-accepted"; readonly offer: Offer; readonly at: number }
  | { readonly type: "offer-withdrawn"; readonly offer: Offer; readonly reason: WithdrawReason; readonly at: number }
  | { readonly type: "offer-declined"; readonly offer: Offer; readonly at: number }
  | { readonly type: "offer-expired"; readonly offer: Offer; readonly at: number }
  | { readonly type: "owner-reassigned"; readonly reassignment: Reassignment }
  | { readonly type: "ticket-resolved"; readonly ownerId: string; readonly at: number }
  | { readonly type: "ticket-reopened"; readonly returnedTo: "owner" | "queue"; readonly ownerId: string | null; readonly at: number }
  | { readonly type: "collaborator-added"; readonly collaboratorId: string; readonly at: number };

/** Why a pending offer ended without a decline: another agent accepted first, or the agent left. */
export type WithdrawReason = "accepted-by-another-agent" | "agent-unavailable" | "ticket-withdrawn";

export interface OwnershipTransition {
  readonly state: TicketOwnership;
  readonly events: readonly OwnershipEvent[];
}

export type OwnershipResult = Result<OwnershipTransition, RoutingDomainError>;

export function newWaitingTicket(ticketId: string, channel: Channel): TicketOwnership {
  return {
    ticketId,
    channel,
    status: "waiting",
    ownerId: null,
    lastOwnerId: null,
    collaborators: [],
    pendingOffers: [],
    passedBy: [],
    offersMade: 0,
    resolvedAt: null,
    lastReassignment: null,
    version: 0,
  };
}

function changed(state: TicketOwnership, patch: Partial<TicketOwnership>, events: readonly OwnershipEvent[]): OwnershipResult {
  return ok({ state: { ...state, ...patch, version: state.version + 1 }, events });
}

function notWaiting(state: TicketOwnership, action: string): RoutingDomainError {
  if (state.status === "owned") return new OwnershipConflictError(`ticket ${state.ticketId} is already owned by ${state.ownerId}; cannot ${action}`);
  return new TicketStateError("TICKET_NOT_WAITING", `ticket ${state.ticketId} is ${state.status}; cannot ${action}`);
}

function pendingOfferOf(state: TicketOwnership, agentId: string): Offer | undefined {
  return state.pendingOffers.find((offer) => offer.agentId === agentId);
}

function withoutOffer(state: TicketOwnership, agentId: string): readonly Offer[] {
  return state.pendingOffers.filter((offer) => offer.agentId !== agentId);
}

function withPass(state: TicketOwnership, pass: PassedOffer): readonly PassedOffer[] {
  return [...state.passedBy.filter((p) => p.agentId !== pass.agentId), pass];
}

export interface OfferRequest {
  readonly agentId: string;
  readonly now: number;
  readonly timeoutMs: number;
  readonly maxParallelOffers: number;
}

/** Guard: status = waiting AND no pending offer to agentId AND pendingOffers < maxParallelOffers. */
export function makeOffer(state: TicketOwnership, request: OfferRequest): OwnershipResult {
  if (state.status !== "waiting") return fail(notWaiting(state, "offer it"));
  if (pendingOfferOf(state, request.agentId) !== undefined) {
    return fail(new OfferError("OFFER_LIMIT_REACHED", `agent ${request.agentId} already holds an offer for ticket ${state.ticketId}`));
  }
  if (state.pendingOffers.length >= request.maxParallelOffers) {
    return fail(new OfferError("OFFER_LIMIT_REACHED", `ticket ${state.ticketId} already has ${state.pendingOffers.length} pending offer(s)`));
  }
  const offer: Offer = {
    offerId: `${state.ticketId}:${state.offersMade + 1}`,
    ticketId: state.ticketId,
    agentId: request.agentId,
    channel: state.channel,
    offeredAt: request.now,
    expiresAt: request.now + request.timeoutMs,
  };
  return changed(state, { pendingOffers: [...state.pendingOffers, offer], offersMade: state.offersMade + 1 }, [{ type: "offer-made", offer }]);
}

/**
 * Guard: status = waiting AND ownerId = null AND a pending offer to agentId with now < expiresAt.
 * Effect: status = owned, ownerId = lastOwnerId = agentId; every other pending offer is withdrawn.
 * The first accept wins: any later accept finds status = owned and gets OWNERSHIP_CONFLICT.
 */
export function acceptOffer(state: TicketOwnership, agentId: string, now: number): OwnershipResult {
  if (state.status !== "waiting") return fail(notWaiting(state, `accept it for ${agentId}`));
  const offer = pendingOfferOf(state, agentId);
  if (offer === undefined) return fail(new OfferError("OFFER_NOT_FOUND", `agent ${agentId} holds no pending offer for ticket ${state.ticketId}`));
  if (now >= offer.expiresAt) return fail(new OfferError("OFFER_EXPIRED", `the offer of ticket ${state.ticketId} to ${agentId} expired`));
  const withdrawn: OwnershipEvent[] = withoutOffer(state, agentId).map((other) => ({
    type: "offer-withdrawn",
    offer: other,
    reason: "accepted-by-another-agent",
    at: now,
  }));
  return changed(state, { status: "owned", ownerId: agentId, lastOwnerId: agentId, pendingOffers: [], passedBy: [] }, [{ type: "offer-accepted", offer, at: now }, ...withdrawn]);
}

/** Guard: a pending offer to agentId. Effect: offer removed, agent recorded as having passed. */
export function declineOffer(state: TicketOwnership, agentId: string, now: number): OwnershipResult {
  const offer = pendingOfferOf(state, agentId);
  if (offer === undefined) return fail(new OfferError("OFFER_NOT_FOUND", `agent ${agentId} holds no pending offer for ticket ${state.ticketId}`));
  return changed(state, { pendingOffers: withoutOffer(state, agentId), passedBy: withPass(state, { agentId, at: now, outcome: "declined" }) }, [
    { type: "offer-declined", offer, at: now },
  ]);
}

/** Guard: a pending offer to agentId with expiresAt <= now. Effect: as a decline, recorded as "expired". */
export function expireOffer(state: TicketOwnership, agentId: string, now: number): OwnershipResult {
  const offer = pendingOfferOf(state, agentId);
  if (offer === undefined) return fail(new OfferError("OFFER_NOT_FOUND", `agent ${agentId} holds no pending offer for ticket ${state.ticketId}`));
  if (now < offer.expiresAt) return fail(new OfferError("OFFER_NOT_EXPIRED", `the offer of ticket ${state.ticketId} to ${agentId} runs until ${offer.expiresAt}`));
  return changed(state, { pendingOffers: withoutOffer(state, agentId), passedBy: withPass(state, { agentId, at: now, outcome: "expired" }) }, [
    { type: "offer-expired", offer, at: now },
  ]);
}

/**
 * Guard: a pending offer to agentId. Effect: offer removed without counting as a pass (the agent went
 * away or the ticket left the queue), so the agent may be offered the ticket again on return.
 */
export function withdrawOffer(state: TicketOwnership, agentId: string, now: number, reason: WithdrawReason): OwnershipResult {
  const offer = pendingOfferOf(state, agentId);
  if (offer === undefined) return fail(new OfferError("OFFER_NOT_FOUND", `agent ${agentId} holds no pending offer for ticket ${state.ticketId}`));
  return changed(state, { pendingOffers: withoutOffer(state, agentId) }, [{ type: "offer-withdrawn", offer, reason, at: now }]);
}

/** Agents may not hand tickets over, to anyone, ever: always OWNERSHIP_CONFLICT. A supervisor reassigns. */
export function requestTransfer(state: TicketOwnership, fromAgentId: string, toAgentId: string): Result<never, OwnershipConflictError> {
  const owner = state.ownerId === null ? "nobody" : state.ownerId;
  return fail(
    new OwnershipConflictError(`agent ${fromAgentId} cannot transfer ticket ${state.ticketId} (owned by ${owner}) to ${toAgentId}: only a supervisor can reassign a ticket`),
  );
}

export interface ReassignRequest {
  readonly actor: { readonly id: string; readonly role: "agent" | "supervisor" };
  readonly toAgentId: string;
  readonly reason: string;
}

/**
 * Guard: actor is a supervisor AND reason is not blank AND status = owned AND toAgentId != ownerId.
 * Effect: ownerId = lastOwnerId = toAgentId, the reassignment (who, from, to, why, when) recorded.
 * An agent calling this is attempting a transfer: OWNERSHIP_CONFLICT.
 */
export function reassignBySupervisor(state: TicketOwnership, request: ReassignRequest, now: number): OwnershipResult {
  if (request.actor.role !== "supervisor") return requestTransfer(state, request.actor.id, request.toAgentId);
  if (request.reason.trim().length === 0) {
    return fail(new ReasonRequiredError(`reassigning ticket ${state.ticketId} needs a reason, which is recorded`));
  }
  if (state.status !== "owned" || state.ownerId === null) {
    return fail(new TicketStateError("TICKET_NOT_OWNED", `ticket ${state.ticketId} is ${state.status}; only owned tickets are reassigned`));
  }
  if (request.toAgentId === state.ownerId) {
    return fail(new InvalidInputError("reassignment", [`${request.toAgentId} already owns ticket ${state.ticketId}`]));
  }
  const reassignment: Reassignment = {
    supervisorId: request.actor.id,
    fromAgentId: state.ownerId,
    toAgentId: request.toAgentId,
    reason: request.reason.trim(),
    at: now,
  };
  return changed(
    state,
    {
      ownerId: request.toAgentId,
      lastOwnerId: request.toAgentId,
      collaborators: state.collaborators.filter((id) => id !== request.toAgentId),
      lastReassignment: reassignment,
    },
    [{ type: "owner-reassigned", reassignment }],
  );
}

/** Guard: status = owned AND byAgentId = ownerId. Effect: status = resolved, ownerId = null, lastOwnerId kept. */
export function resolveTicket(state: TicketOwnership, byAgentId: string, now: number): OwnershipResult {
  if (state.status !== "owned" || state.ownerId === null) {
    return fail(new TicketStateError("TICKET_NOT_OWNED", `ticket ${state.ticketId} is ${state.status}; only an owned ticket is resolved`));
  }
  if (byAgentId !== state.ownerId) {
    return fail(new NotOwnerError(`only the owner (${state.ownerId}) can resolve ticket ${state.ticketId}, not ${byAgentId}`));
  }
  return changed(state, { status: "resolved", ownerId: null, resolvedAt: now }, [{ type: "ticket-resolved", ownerId: byAgentId, at: now }]);
}

/**
 * Guard: status = resolved. Within the reopen window (inclusive) the ticket is owned again by lastOwnerId;
 * later it waits in the queue like a new ticket (lastOwnerId kept for the record).
 */
export function reopenTicket(state: TicketOwnership, now: number, reopenWindowMs: number): OwnershipResult {
  if (state.status !== "resolved" || state.resolvedAt === null) {
    return fail(new TicketStateError("TICKET_NOT_RESOLVED", `ticket ${state.ticketId} is ${state.status}; only a resolved ticket is reopened`));
  }
  if (state.lastOwnerId !== null && now - state.resolvedAt <= reopenWindowMs) {
    return changed(state, { status: "owned", ownerId: state.lastOwnerId, resolvedAt: null }, [
      { type: "ticket-reopened", returnedTo: "owner", ownerId: state.lastOwnerId, at: now },
    ]);
  }
  return changed(state, { status: "waiting", ownerId: null, resolvedAt: null, pendingOffers: [], passedBy: [] }, [
    { type: "ticket-reopened", returnedTo: "queue", ownerId: null, at: now },
  ]);
}

/**
 * Guard: status = owned AND collaboratorId != ownerId. Effect: collaborator appended; ownerId untouched.
 * Adding someone already collaborating changes nothing (no version bump, no event).
 */
export function addCollaborator(state: TicketOwnership, collaboratorId: string, now: number): OwnershipResult {
  if (state.status !== "owned") {
    return fail(new TicketStateError("TICKET_NOT_OWNED", `ticket ${state.ticketId} is ${state.status}; collaborators join owned tickets`));
  }
  if (collaboratorId === state.ownerId) {
    return fail(new InvalidInputError("collaborator", [`${collaboratorId} owns ticket ${state.ticketId} already`]));
  }
  if (state.collaborators.includes(collaboratorId)) return ok({ state, events: [] });
  return changed(state, { collaborators: [...state.collaborators, collaboratorId] }, [{ type: "collaborator-added", collaboratorId, at: now }]);
}

export type FollowUpRoute =
  | { readonly kind: "deliver-to-owner"; readonly ownerId: string }
  /** The owner is away or offline: the follow-up waits for them; it is never sent back to a queue. */
  | { readonly kind: "hold-for-owner"; readonly ownerId: string; readonly ownerPresence: Exclude<Presence, "available"> }
  /** Not yet owned: the follow-up joins the ticket already waiting in its queue, keeping its place. */
  | { readonly kind: "attach-to-waiting-ticket" }
  /** Resolved: the caller reopens it (reopenTicket), which decides between owner and queue. */
  | { readonly kind: "reopen" };

export function routeFollowUp(state: TicketOwnership, ownerPresence: Presence | null): FollowUpRoute {
  if (state.status === "waiting") return { kind: "attach-to-waiting-ticket" };
  if (state.status === "resolved" || state.ownerId === null) return { kind: "reopen" };
  if (ownerPresence === "available") return { kind: "deliver-to-owner", ownerId: state.ownerId };
  return { kind: "hold-for-owner", ownerId: state.ownerId, ownerPresence: ownerPresence ?? "offline" };
}
