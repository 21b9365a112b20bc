// The catalogue of state-changing transitions, their preconditions and effects, as data. The store adapter
// mirrors each as one conditional update (filter = preconditions, update = effects) so the invariants hold
// in the database too, whichever replica decided:
//   - a ticket has at most one owner and is never assigned twice;
//   - an agent never holds more than capacity on a channel (owned load + pending offers);
//   - ownerId changes only by supervisor reassignment and clears only on resolve (kept as lastOwnerId).
import type { RoutingErrorCode } from "./errors.ts";

export interface TransitionSpec {
  /** The exported pure function implementing it. */
  readonly name: string;
  readonly entity: "ticket" | "agent";
  /** Must all hold at write time; every ticket transition also requires `version = expected`. */
  readonly preconditions: readonly string[];
  readonly effects: readonly string[];
  /** Codes returned when a precondition fails. */
  readonly errors: readonly RoutingErrorCode[];
  /** Transitions that must commit with this one (same transaction, or compensated if one fails). */
  readonly together: readonly string[];
}

export const TRANSITIONS: readonly TransitionSpec[] = [
  {
    name: "makeOffer",
    entity: "ticket",
    preconditions: ["status = waiting", "no pending offer to agentId", "size(pendingOffers) < maxParallelOffers"],
    effects: ["push offer {offerId, agentId, offeredAt, expiresAt} to pendingOffers", "offersMade += 1", "version += 1"],
    errors: ["OWNERSHIP_CONFLICT", "TICKET_NOT_WAITING", "OFFER_LIMIT_REACHED"],
    together: ["reserveOfferSlot"],
  },
  {
    name: "reserveOfferSlot",
    entity: "agent",
    preconditions: ["presence = available", "load[c] + reserved[c] < capacity[c]"],
    effects: ["reserved[c] += 1"],
    errors: ["AGENT_NOT_AVAILABLE", "CAPACITY_EXCEEDED"],
    together: ["makeOffer"],
  },
  {
    name: "acceptOffer",
    entity: "ticket",
    preconditions: ["status = waiting", "ownerId = null", "pending offer to agentId exists", "now < offer.expiresAt"],
    effects: ["status = owned", "ownerId = agentId", "lastOwnerId = agentId", "pendingOffers = [] (others withdrawn)", "passedBy = []", "version += 1"],
    errors: ["OWNERSHIP_CONFLICT", "TICKET_NOT_WAITING", "OFFER_NOT_FOUND", "OFFER_EXPIRED"],
    together: ["convertOfferSlotToLoad (accepting agent)", "releaseOfferSlot (each withdrawn offer's agent)"],
  },
  {
    name: "convertOfferSlotToLoad",
    entity: "agent",
    preconditions: ["reserved[c] > 0"],
    effects: ["reserved[c] -= 1", "load[c] += 1", "idleSince = max(idleSince, now)"],
    errors: ["CAPACITY_EXCEEDED"],
    together: ["acceptOffer"],
  },
  {
    name: "declineOffer",
    entity: "ticket",
    preconditions: ["pending offer to agentId exists"],
    effects: ["remove that offer", "passedBy[agentId] = {at: now, outcome: declined}", "version += 1"],
    errors: ["OFFER_NOT_FOUND"],
    together: ["releaseOfferSlot"],
  },
  {
    name: "expireOffer",
    entity: "ticket",
    preconditions: ["pending offer to agentId exists", "offer.expiresAt <= now"],
    effects: ["remove that offer", "passedBy[agentId] = {at: now, outcome: expired}", "version += 1"],
    errors: ["OFFER_NOT_FOUND", "OFFER_NOT_EXPIRED"],
    together: ["releaseOfferSlot"],
  },
  {
    name: "withdrawOffer",
    entity: "ticket",
    preconditions: ["pending offer to agentId exists"],
    effects: ["remove that offer (not recorded as a pass)", "version += 1"],
    errors: ["OFFER_NOT_FOUND"],
    together: ["releaseOfferSlot"],
  },
  {
    name: "releaseOfferSlot",
    entity: "agent",
    preconditions: ["reserved[c] > 0"],
    effects: ["reserved[c] -= 1"],
    errors: ["CAPACITY_EXCEEDED"],
    together: ["declineOffer | expireOffer | withdrawOffer | acceptOffer (other agents)"],
  },
  {
    name: "requestTransfer",
    entity: "ticket",
    preconditions: ["never: agents cannot transfer tickets"],
    effects: [],
    errors: ["OWNERSHIP_CONFLICT"],
    together: [],
  },
  {
    name: "reassignBySupervisor",
    entity: "ticket",
    preconditions: ["actor.role = supervisor", "trim(reason) != ''", "status = owned", "toAgentId != ownerId"],
    effects: ["ownerId = lastOwnerId = toAgentId", "lastReassignment = {supervisorId, from, to, reason, at}", "toAgentId removed from collaborators", "version += 1"],
    errors: ["OWNERSHIP_CONFLICT", "REASON_REQUIRED", "TICKET_NOT_OWNED", "INVALID_INPUT"],
    together: ["releaseOwnedWork (old owner, unless the work was held)", "addOwnedWork (new owner) or hold for the new owner"],
  },
  {
    name: "resolveTicket",
    entity: "ticket",
    preconditions: ["status = owned", "ownerId = byAgentId"],
    effects: ["status = resolved", "ownerId = null", "lastOwnerId kept", "resolvedAt = now", "version += 1"],
    errors: ["TICKET_NOT_OWNED", "NOT_OWNER"],
    together: ["releaseOwnedWork (unless the work was held)"],
  },
  {
    name: "reopenTicket",
    entity: "ticket",
    preconditions: ["status = resolved"],
    effects: [
      "if lastOwnerId != null and now - resolvedAt <= reopenWindowMs: status = owned, ownerId = lastOwnerId",
      "else: status = waiting, ownerId = null (lastOwnerId kept), passedBy = []",
      "resolvedAt = null",
      "version += 1",
    ],
    errors: ["TICKET_NOT_RESOLVED"],
    together: ["addOwnedWork (owner) or hold for the owner, when returned to the owner"],
  },
  {
    name: "addCollaborator",
    entity: "ticket",
    preconditions: ["status = owned", "collaboratorId != ownerId"],
    effects: ["collaborators += collaboratorId (no-op if present)", "ownerId unchanged", "version += 1 (only when added)"],
    errors: ["TICKET_NOT_OWNED", "INVALID_INPUT"],
    together: [],
  },
  {
    name: "addOwnedWork",
    entity: "agent",
    preconditions: ["load[c] + reserved[c] < capacity[c]"],
    effects: ["load[c] += 1", "idleSince = max(idleSince, now)"],
    errors: ["CAPACITY_EXCEEDED"],
    together: ["reassignBySupervisor | reopenTicket | delivery of held work"],
  },
  {
    name: "releaseOwnedWork",
    entity: "agent",
    preconditions: ["load[c] > 0"],
    effects: ["load[c] -= 1"],
    errors: ["CAPACITY_EXCEEDED"],
    together: ["resolveTicket | reassignBySupervisor"],
  },
  {
    name: "changePresence",
    entity: "agent",
    preconditions: [],
    effects: ["presence = p", "presenceChangedAt = now", "idleSince = max(idleSince, now) when becoming available"],
    errors: [],
    together: ["withdrawOffer for each of the agent's pending offers, when leaving available"],
  },
];
