// The pure routing domain of Steward: who gets which ticket, when, and who owns it afterwards.
// No I/O and no clock: every function takes `now` (ms epoch) and plain data. Adapters call only this file.
//
// ENGINE (routing-engine.ts): an in-memory index for fast decisions. Queries never change observable state;
// commands return Result<T, RoutingDomainError> (domain outcomes are values, never throws) and apply the
// same pure transitions the store mirrors as conditional updates (TRANSITIONS lists their preconditions).
//   new RoutingEngine(config?: Partial<RoutingConfig>)                          throws InvalidInputError on bad config
//   agents
//     upsertAgent(agent: AgentProfile & AgentStatus, now) -> {agent, withdrawnOffers}   add/replace; leaving "available" withdraws offers
//     setPresence(agentId, presence, now)                  -> {agent, withdrawnOffers}   back to available restarts the idle clock
//     removeAgent(agentId, now)                            -> {withdrawnOffers}          owned tickets stay theirs
//     getAgent(agentId): AgentState | undefined;  agents(): Iterable<AgentState>
//   tickets
//     enqueueTicket(ticket: WaitingTicket, now)            -> TicketOwnership (waiting)
//     restoreTicket(ticket, ownership, heldForOwner, now)  -> TicketView                 warm start from the store
//     withdrawTicket(ticketId, now)                        -> {withdrawnOffers}          cancelled before anyone owned it
//     getTicket(ticketId): TicketView | undefined;  stats(): EngineStats
//   decisions (queries; cost independent of queue length)
//     decideForTicket(ticketId, now) -> TicketDecision     "offer" (agentIds, best first) | "no-eligible-agent" (reasons,
//                                                          nextRelaxationAt: schedule a retry) | "offer-limit-reached"
//     decideForAgent(agentId, now)   -> AgentDecision      "offer" (ticketId) | "deliver-owned-work" | "no-eligible-ticket"
//                                                          | "agent-not-available" | "no-free-capacity"
//     every "offer"/"no-eligible-*" carries a bounded, storable explanation (explanation.ts)
//   offers (commands)
//     makeOffer(ticketId, agentId, now) -> Offer           re-checks eligibility; reserves a slot; times out per channel
//     acceptOffer(ticketId, agentId, now) -> AcceptedOffer first accept wins: owner set, other offers withdrawn;
//                                                          later accepts get OWNERSHIP_CONFLICT
//     declineOffer(ticketId, agentId, now) -> EndedOffer   slot freed; agent goes to the back of this ticket's rotation
//     expireDueOffers(now) -> EndedOffer[];  nextOfferExpiry(): number | null   for the adapter's timer
//     routeTicket(ticketId, now) / routeAgent(agentId, now)  decide + make the offers (or deliver held work)
//     After any EndedOffer or withdrawn offer, call routeTicket(offer.ticketId) to move on to the next agent.
//   ownership (commands)
//     resolveTicket(ticketId, byAgentId, now) -> {ownership, agent}    NOT_OWNER unless the owner; frees the slot
//     requestTransfer(ticketId, from, to) -> never                      always OWNERSHIP_CONFLICT
//     reassignTicket(ticketId, {actor, toAgentId, reason}, now)         supervisors only, reason recorded; moves load
//                                                                       (held for the new owner if they are full)
//     addCollaborator(ticketId, collaboratorId, now) -> TicketOwnership ownerId never changes
//     routeFollowUp(ticketId) -> FollowUpRoute                          to the owner, or held while they are away
//     reopenTicket(ownership, ticket, now) -> TicketView                within reopenWindowMs back to lastOwnerId, else queued
//     deliverHeldWork(ticketId, now) -> TicketView                      held owned work enters the owner's load
//
// PURE TRANSITIONS (ownership.ts, agent-capacity.ts), one per guarded store update:
//   makeOffer, acceptOffer, declineOffer, expireOffer, withdrawOffer, requestTransfer, reassignBySupervisor,
//   resolveTicket, reopenTicket, addCollaborator, routeFollowUp (a decision), newWaitingTicket;
//   reserveOfferSlot, releaseOfferSlot, convertOfferSlotToLoad, addOwnedWork, releaseOwnedWork, changePresence.
//   Each: (state, input, now) -> Result<{state, events}> | Result<AgentState>. TicketOwnership.version +1 per change.
//
// RULES (pure helpers: eligibility.ts, relaxation.ts, routing-order.ts)
//   Queue order: priority (P1 first), then earliest SLA deadline (none = last), then oldest, then ticket id.
//   Eligible: in the ticket's group (or overflow group once relaxed), available, speaks the language (unless
//     relaxed and allowed), free slot on the channel (owned load + pending offers < capacity), every still
//     required skill at >= minLevel.
//   Ranking: agents never offered this ticket first (then those who passed longest ago); skill fit (relaxed
//     optional skills still met, then least surplus over required levels: the closest sufficient agent keeps
//     experts free for hard tickets); lowest load ratio on the channel; longest idle; agent id.
//   Relaxation: after configured waits optional skills drop, the overflow group is added, and only with
//     allowLanguageRelaxation the language drops. Nobody eligible: the ticket keeps waiting, never dropped.
//   Offers: up to maxParallelOffers at once; timeouts chat/phone 30 s, social 60 s, email/web/api 120 s.
//   Ownership: first accept owns until resolved; only the owner resolves; supervisors reassign with a
//     reason; a ticket reopened within 7 days (reopenWindowMs) returns to lastOwnerId.

export {
  CHANNELS,
  DEFAULT_OFFER_TIMEOUT_MS,
  DEFAULT_RELAXATION,
  DEFAULT_ROUTING_CONFIG,
  MAX_SKILL_LEVEL,
  MIN_SKILL_LEVEL,
  PRESENCES,
  PRIORITIES,
  countOn,
  fail,
  freeCapacity,
  ok,
} from "./model.ts";
export type {
  AgentProfile,
  AgentState,
  AgentStatus,
  Channel,
  ChannelCounts,
  Offer,
  Presence,
  Priority,
  RelaxationPolicy,
  Result,
  RoutingConfig,
  SkillRequirement,
  WaitingTicket,
} from "./model.ts";

export {
  AgentNotAvailableError,
  AgentNotFoundError,
  CapacityExceededError,
  InvalidInputError,
  NotOwnerError,
  OfferError,
  OwnershipConflictError,
  ROUTING_ERROR_CODES,
  ReasonRequiredError,
  RoutingDomainError,
  TicketNotFoundError,
  TicketStateError,
} from "./errors.ts";
export type { RoutingErrorCode } from "./errors.ts";

export { relaxationPolicyProblems, validateAgent, validateTicket } from "./validation.ts";

export { STRICT, effectiveRequirements, nextRelaxationAt, relaxationAt, relaxationSchedule, requirementsUnder, stageAfter, stateAtStage } from "./relaxation.ts";
export type { EffectiveRequirements, RelaxationState, RelaxationStep, ScheduledStep } from "./relaxation.ts";

export { compareRoutingOrder, decidingOrderCriterion, priorityRank } from "./routing-order.ts";
export type { OrderCriterion, RoutingKey } from "./routing-order.ts";

export {
  INELIGIBILITY_REASONS,
  RANK_CRITERIA,
  checkEligibility,
  compareCandidates,
  decidingRankCriterion,
  firstMissingSkill,
  loadRatio,
  rankCandidate,
  skillFit,
} from "./eligibility.ts";
export type { Eligibility, IneligibilityReason, MissingSkill, RankCriterion, RankedCandidate, SkillFit } from "./eligibility.ts";

export { addOwnedWork, changePresence, convertOfferSlotToLoad, releaseOfferSlot, releaseOwnedWork, reserveOfferSlot } from "./agent-capacity.ts";
export type { AgentTransitionResult } from "./agent-capacity.ts";

export {
  acceptOffer,
  addCollaborator,
  declineOffer,
  expireOffer,
  makeOffer,
  newWaitingTicket,
  reassignBySupervisor,
  reopenTicket,
  requestTransfer,
  resolveTicket,
  routeFollowUp,
  withdrawOffer,
} from "./ownership.ts";
export type {
  FollowUpRoute,
  OfferRequest,
  OwnershipEvent,
  OwnershipResult,
  OwnershipTransition,
  PassedOffer,
  Reassignment,
  ReassignRequest,
  TicketOwnership,
  TicketStatus,
  WithdrawReason,
} from "./ownership.ts";

export { AGENT_PASS_REASONS, TICKET_PASS_REASONS } from "./explanation.ts";
export type {
  AgentDecisionExplanation,
  AgentPassReason,
  ChosenAgent,
  ChosenTicket,
  PassedOverAgent,
  PassedOverTicket,
  TicketDecisionExplanation,
  TicketPassReason,
} from "./explanation.ts";

export { TRANSITIONS } from "./transitions.ts";
export type { TransitionSpec } from "./transitions.ts";

export { RoutingEngine } from "./routing-engine.ts";
export type { AcceptedOffer, AgentDecision, EndedOffer, EngineResult, EngineStats, TicketDecision, TicketView } from "./routing-engine.ts";

export { MAX_REPLY_LENGTH, REPLY_VISIBILITIES, checkReply, mayWrite } from "./replies.ts";
export type { ReplyParties, ReplyVisibility } from "./replies.ts";

export { DISCONNECTED_REASON, SYSTEM_ACTOR, presenceAfterDisconnect, presenceOnReconnect } from "./connection-presence.ts";
export type { PresenceChange, PresenceFacts } from "./connection-presence.ts";

export { APPLIED_KEYS_KEPT, hintWith, keepKeys, moreUrgent, raisePriority, ticketWithHint, widenRouting, widenedRelaxation } from "./escalation-effects.ts";
export type { EscalatedTicket, EscalationHint, RoutingEscalation } from "./escalation-effects.ts";
export { pickCollaborator } from "./collaborator-choice.ts";
export type { TicketNeedingHelp } from "./collaborator-choice.ts";
export { noEligibleIsNews, retriagedWaitingTicket } from "./retriage.ts";
export type { Retriage } from "./retriage.ts";
