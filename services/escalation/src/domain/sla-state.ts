// A ticket's SLA state and the pure transitions that move it: start, agent responses, customer
// messages and signals, waiting on the customer, resolution, priority and policy changes. The state
// is plain JSON (instants as ISO strings) carrying a snapshot of the policy rules and calendar it was
// measured with, so timers and views need nothing else.

import type { BusinessCalendar } from "./business-calendar.ts";
import { clockStatus, restartClock, pauseClock, resumeClock, retargetClock, startClock, stopClock, type ClockTarget, type SlaClock } from "./sla-clock.ts";
import { PRIORITIES, type Channel, type ClockName, type CustomerSignal, type LadderKind, type Priority, type SlaLadders, type SlaPolicy } from "./sla-policy.ts";

/** The parts of a ticket the SLA needs when it starts. */
export type SlaTicket = {
  readonly id: string;
  readonly priority: Priority;
  readonly channel: Channel;
  /** The agent who accepted the ticket, if any yet. */
  readonly ownerId?: string | null;
  /** Triage saw this as the customer contacting us again about the same problem. */
  readonly repeatContact?: boolean;
};

/** The policy rules one ticket needs, with defaults filled in and only its channel's targets. */
export type SlaRules = {
  readonly version: string;
  readonly targets: Readonly<Record<Priority, Readonly<Record<ClockName, ClockTarget>>>>;
  readonly ladders: SlaLadders;
  readonly signals: SlaPolicy["signals"];
};

/** A customer signal turned into an escalation to one ladder level. */
export type SignalEscalation = {
  /** "answerDidNotHelp.2": the signal and its occurrence on this ticket; names it in action keys. */
  readonly id: string;
  readonly signal: CustomerSignal;
  readonly at: string;
  readonly ladder: LadderKind;
  readonly level: number;
  /** Actions recorded as done, as "kind:level". */
  readonly done: readonly string[];
};

export type SlaState = {
  readonly ticketId: string;
  readonly channel: Channel;
  /** The ticket's current priority, raised by the ladder or reassessed. */
  readonly priority: Priority;
  /** The priority whose targets the clocks follow: the last reassessed one, not a ladder raise. */
  readonly targetsPriority: Priority;
  readonly ownerId: string | null;
  readonly rules: SlaRules;
  readonly calendar: BusinessCalendar;
  readonly status: "open" | "resolved";
  /** The ticket waits on the customer: open clocks are paused. */
  readonly waitingOnCustomer: boolean;
  /** Every clock the ticket has had, oldest first; at most one of each name is not stopped. */
  readonly clocks: readonly SlaClock[];
  readonly signals: readonly SignalEscalation[];
};

export class SlaOwnershipConflictError extends Error {
  readonly code = "OWNERSHIP_CONFLICT";
  constructor(ticketId: string, ownerId: string, otherAgentId: string) {
    super(`Ticket ${ticketId} is owned by ${ownerId}; ${otherAgentId} cannot become its owner`);
    this.name = "SlaOwnershipConflictError";
  }
}

/** Extracts the rules a ticket on `channel` needs from a policy. */
export function rulesFor(policy: SlaPolicy, channel: Channel): SlaRules {
  const resolve = (priority: Priority, name: ClockName): ClockTarget => {
    const target = policy.targets[priority][channel][name];
    return {
      minutes: target.minutes,
      businessHours: target.businessHours ?? policy.businessHours,
      warningShare: target.warningShare ?? policy.warningShare,
    };
  };
  const targets = Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      { firstResponse: resolve(priority, "firstResponse"), nextResponse: resolve(priority, "nextResponse"), resolution: resolve(priority, "resolution") },
    ]),
  ) as Record<Priority, Record<ClockName, ClockTarget>>;
  return { version: policy.version, targets, ladders: policy.ladders, signals: policy.signals };
}

const toMs = (now: Date): number => now.getTime();

function withClocks(state: SlaState, change: (clock: SlaClock) => SlaClock): SlaState {
  let changed = false;
  const clocks = state.clocks.map((clock) => {
    const next = change(clock);
    if (next !== clock) changed = true;
    return next;
  });
  return changed ? { ...state, clocks } : state;
}

/** Starts first-response and resolution clocks for a new ticket. */
export function startSla(ticket: SlaTicket, policy: SlaPolicy, calendar: BusinessCalendar, now: Date): SlaState {
  const rules = rulesFor(policy, ticket.channel);
  const targets = rules.targets[ticket.priority];
  const state: SlaState = {
    ticketId: ticket.id,
    channel: ticket.channel,
    priority: ticket.priority,
    targetsPriority: ticket.priority,
    ownerId: ticket.ownerId ?? null,
    rules,
    calendar,
    status: "open",
    waitingOnCustomer: false,
    clocks: [startClock("firstResponse", 1, targets.firstResponse, calendar, toMs(now)), startClock("resolution", 1, targets.resolution, calendar, toMs(now))],
    signals: [],
  };
  return ticket.repeatContact === true ? onCustomerSignal(state, "repeatContact", now) : state;
}

/** Records the owner. The first owner keeps the ticket: naming a different one is a conflict. */
export function onOwnerAssigned(state: SlaState, ownerId: string): SlaState {
  if (state.ownerId === ownerId) return state;
  if (state.ownerId !== null) throw new SlaOwnershipConflictError(state.ticketId, state.ownerId, ownerId);
  return { ...state, ownerId };
}

const isResponseClock = (clock: SlaClock): boolean => clock.name === "firstResponse" || clock.name === "nextResponse";

/** A public reply to the customer: stops the first-response or current next-response clock. */
export function onAgentResponse(state: SlaState, now: Date): SlaState {
  if (state.status === "resolved") return state;
  return withClocks(state, (clock) => (isResponseClock(clock) ? stopClock(clock, state.calendar, toMs(now)) : clock));
}

export type CustomerMessageFlags = {
  /** Triage read the message as "your answer did not help". */
  readonly answerDidNotHelp?: boolean;
  /** Triage saw the customer contacting us again about the same problem. */
  readonly repeatContact?: boolean;
};

/**
 * A customer message on an open ticket: ends any wait on the customer and, unless a response clock is
 * already running, starts the next-response clock. A resolved ticket is left alone: reopen it first.
 */
export function onCustomerMessage(state: SlaState, now: Date, flags: CustomerMessageFlags = {}): SlaState {
  if (state.status === "resolved") return state;
  let next = resume(state, now);
  const awaitingResponse = next.clocks.some((clock) => isResponseClock(clock) && clockStatus(clock) !== "stopped");
  if (!awaitingResponse) {
    const cycle = next.clocks.filter((clock) => clock.name === "nextResponse").length + 1;
    const target = next.rules.targets[next.targetsPriority].nextResponse;
    next = { ...next, clocks: [...next.clocks, startClock("nextResponse", cycle, target, next.calendar, toMs(now))] };
  }
  if (flags.answerDidNotHelp === true) next = onCustomerSignal(next, "answerDidNotHelp", now);
  if (flags.repeatContact === true) next = onCustomerSignal(next, "repeatContact", now);
  return next;
}

/** The highest ladder level recorded as done on the ticket, 0 if none. */
export function escalationLevel(state: SlaState): number {
  const doneLevels = [...state.clocks.flatMap((clock) => clock.done), ...state.signals.flatMap((signal) => signal.done)].map((marker) =>
    Number(marker.slice(marker.lastIndexOf(":") + 1)),
  );
  return Math.max(0, ...doneLevels);
}

/** The ladder that applies now: owned tickets get help around their owner, waiting ones get wider routing. */
export function ladderKindOf(state: SlaState): LadderKind {
  return state.ownerId === null ? "waiting" : "owned";
}

/**
 * A customer signal escalates to the policy's level for it, or one level above what the ticket has
 * already reached (a second "did not help" must not land where the first did), capped at the top.
 */
export function onCustomerSignal(state: SlaState, signal: CustomerSignal, now: Date): SlaState {
  if (state.status === "resolved") return state;
  const ladder = ladderKindOf(state);
  const reached = Math.max(escalationLevel(state), ...state.signals.map((escalation) => escalation.level));
  const level = Math.min(state.rules.ladders[ladder].length, Math.max(state.rules.signals[signal].level, reached + 1));
  const occurrence = state.signals.filter((escalation) => escalation.signal === signal).length + 1;
  const escalation: SignalEscalation = { id: `${signal}.${occurrence}`, signal, at: now.toISOString(), ladder, level, done: [] };
  return { ...state, signals: [...state.signals, escalation] };
}

/** The ticket now waits on the customer: open clocks pause, keeping the time they have counted. */
export function pause(state: SlaState, now: Date): SlaState {
  if (state.status === "resolved" || state.waitingOnCustomer) return state;
  return { ...withClocks(state, (clock) => pauseClock(clock, state.calendar, toMs(now))), waitingOnCustomer: true };
}

/** The wait on the customer ends: paused clocks run again with their remaining time. */
export function resume(state: SlaState, now: Date): SlaState {
  if (state.status === "resolved" || !state.waitingOnCustomer) return state;
  return { ...withClocks(state, (clock) => resumeClock(clock, state.calendar, toMs(now))), waitingOnCustomer: false };
}

/** Resolution stops every clock. */
export function onResolved(state: SlaState, now: Date): SlaState {
  if (state.status === "resolved") return state;
  const stopped = withClocks(state, (clock) => stopClock(clock, state.calendar, toMs(now)));
  return { ...stopped, status: "resolved", waitingOnCustomer: false };
}

/** A reopened ticket: the resolution clock runs again from the time it had already counted. */
export function onReopened(state: SlaState, now: Date): SlaState {
  if (state.status === "open") return state;
  const lastResolution = state.clocks.findLastIndex((clock) => clock.name === "resolution");
  const clocks = state.clocks.map((clock, i) => (i === lastResolution ? restartClock(clock, state.calendar, toMs(now)) : clock));
  return { ...state, clocks, status: "open", waitingOnCustomer: false };
}

/** Why a priority changed: a reassessment retargets the clocks; the SLA ladder's own raise does not. */
export type PriorityChangeCause = "reassessment" | "slaEscalation";

/**
 * Records a new priority. A reassessment (triage, an agent) moves open clocks to the new priority's
 * targets from the time they have counted. A raise made by the escalation ladder only reorders queues:
 * retargeting there would tighten the bar on a ticket that just breached and cascade into more breaches
 * that measure nothing new.
 */
export function onPriorityChanged(state: SlaState, priority: Priority, now: Date, cause: PriorityChangeCause = "reassessment"): SlaState {
  if (cause === "slaEscalation") return priority === state.priority ? state : { ...state, priority };
  if (priority === state.priority && priority === state.targetsPriority) return state;
  const targets = state.rules.targets[priority];
  const retargeted = withClocks(state, (clock) => retargetClock(clock, targets[clock.name], state.calendar, state.calendar, toMs(now)));
  return { ...retargeted, priority, targetsPriority: priority };
}

function sameCalendar(a: BusinessCalendar, b: BusinessCalendar): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Moves an open ticket to a new policy version (and calendar): each open clock keeps the time it has
 * counted and gets the new target, so its deadline is recomputed once. Already-overdue clocks keep
 * their deadline. Applying the same version and calendar again returns the state unchanged.
 */
export function applyPolicyChange(state: SlaState, policy: SlaPolicy, calendar: BusinessCalendar, now: Date): SlaState {
  if (state.rules.version === policy.version && sameCalendar(state.calendar, calendar)) return state;
  const rules = rulesFor(policy, state.channel);
  const targets = rules.targets[state.targetsPriority];
  const clocks = state.clocks.map((clock) => retargetClock(clock, targets[clock.name], state.calendar, calendar, toMs(now)));
  return { ...state, rules, calendar, clocks };
}
