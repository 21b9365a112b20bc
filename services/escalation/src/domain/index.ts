// Escalation's pure SLA domain: clocks on business calendars, escalation ladders and timers, as plain
// data in and out. Adapters (Kafka consumers, Mongo-backed durable timers, HTTP) call only this API.
//
// Policy
//   parseSlaPolicy(json): SlaPolicy              validate a policy document (throws InvalidSlaPolicyError)
//   safeParseSlaPolicy(json)                     same, as { ok, policy } | { ok: false, issues }
//   calendarForGroup(policy, groupId): BusinessCalendar   the group's calendar, else "default"
//   services/escalation/policy/sla-policy.json   the default policy (versioned by its `version` field)
//
// State transitions (all pure; `now` is the event's time; each returns the same object when nothing changes)
//   startSla(ticket, policy, calendar, now)      first-response and resolution clocks start
//   onOwnerAssigned(state, ownerId)              record the owner; a different second owner throws OWNERSHIP_CONFLICT
//   onAgentResponse(state, now)                  public reply: stops first-response / current next-response clock
//   onCustomerMessage(state, now, flags?)        ends a wait, starts a next-response clock; flags carry signals
//   onCustomerSignal(state, signal, now)         "answerDidNotHelp" | "repeatContact" escalates a ladder level
//   pause(state, now) / resume(state, now)       waiting on the customer: clocks keep their counted time
//   onResolved(state, now) / onReopened(state, now)
//   onPriorityChanged(state, priority, now, cause?)   "reassessment" (default) retargets open clocks;
//                                                "slaEscalation" (the ladder's own raise) only records it
//   applyPolicyChange(state, policy, calendar, now)   recompute open deadlines once; same version is a no-op
//
// Inputs (what other services report, before and after the SLA starts)
//   applySlaInput(record, {at, input}, policy)   received / triaged / assigned / ownerChanged / agentReplied /
//                                                customerMessage / resolved / reopened / waitingOnCustomer /
//                                                customerWaitOver; inputs before triage wait in the record
//   emptySlaRecord(ticketId), LIVE_CHANNELS      on chat and phone, accepting the offer is the first response
//
// Timers
//   dueActions(state, now): DueAction[]          actions due now, ordered, each with a stable `key`
//   nextWakeAt(state): string | null             when to call dueActions next (may be past if overdue)
//   markActionDone(state, key)                   record an action once done; repeating is a no-op
//   pendingActions(state)                        all not-done actions with their due times
//
// Keys are `${ticketId}:${source}:${kind}:${level}:${policyVersion}`, e.g.
// "T-42:resolution.1:owned.addCollaborator:3:2026-11-22.1". Record the key in the store before acting
// (unique index), so two escalation instances perform each action once. No effect changes the owner.
//
// View
//   slaView(state, now): SlaView                 { policy, firstResponseDue, nextResponseDue, resolutionDue,
//                                                  paused, warnings, breaches, level } with ISO instants
//
// Calendars
//   addBusinessTime(calendar, startMs, ms) / businessTimeBetween(calendar, fromMs, toMs) / isBusinessTime

export {
  addBusinessTime,
  businessCalendarSchema,
  businessTime,
  businessTimeBetween,
  CalendarNeverOpensError,
  continuousTime,
  isBusinessTime,
  WEEKDAYS,
  type BusinessCalendar,
  type TimeMeasure,
  type Weekday,
} from "./business-calendar.ts";
export {
  calendarForGroup,
  CHANNELS,
  CLOCK_NAMES,
  CUSTOMER_SIGNALS,
  InvalidSlaPolicyError,
  LADDER_EFFECT_TYPES,
  LADDER_KINDS,
  parseSlaPolicy,
  PRIORITIES,
  safeParseSlaPolicy,
  slaPolicySchema,
  type Channel,
  type ChannelTargets,
  type ClockName,
  type CustomerSignal,
  type LadderEffect,
  type LadderKind,
  type LadderTrigger,
  type OwnedLadderEffect,
  type OwnedLadderStep,
  type Priority,
  type SlaLadders,
  type SlaPolicy,
  type SlaPolicyParseResult,
  type SlaTarget,
  type WaitingLadderEffect,
  type WaitingLadderStep,
} from "./sla-policy.ts";
export { breachedAt, clockId, clockStatus, elapsedAt, type ClockStatus, type ClockTarget, type SlaClock } from "./sla-clock.ts";
export {
  applyPolicyChange,
  escalationLevel,
  ladderKindOf,
  onAgentResponse,
  onCustomerMessage,
  onCustomerSignal,
  onOwnerAssigned,
  onPriorityChanged,
  onReopened,
  onResolved,
  pause,
  resume,
  rulesFor,
  SlaOwnershipConflictError,
  startSla,
  type CustomerMessageFlags,
  type PriorityChangeCause,
  type SignalEscalation,
  type SlaRules,
  type SlaState,
  type SlaTicket,
} from "./sla-state.ts";
export {
  ACTION_KINDS,
  actionKey,
  dueActions,
  InvalidActionKeyError,
  markActionDone,
  nextWakeAt,
  parseActionKey,
  pendingActions,
  type ActionKind,
  type DueAction,
  type ParsedActionKey,
  type SlaEffect,
} from "./sla-actions.ts";
export { slaView, type SlaClockEvent, type SlaView } from "./sla-view.ts";
export { applySlaInput, emptySlaRecord, FALLBACK_CHANNEL, LIVE_CHANNELS, MAX_PENDING_INPUTS, type SlaInput, type SlaRecord, type TimedInput } from "./sla-inputs.ts";
