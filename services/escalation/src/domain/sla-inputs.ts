// What other services report about a ticket, as SLA inputs, and the record that turns them into
// transitions: inputs that arrive before triage (Kafka topics are not ordered against each other)
// wait in the record and are replayed once the SLA starts, in time order, never going back in time.

import { calendarForGroup, type Channel, type Priority, type SlaPolicy } from "./sla-policy.ts";
import {
  applyPolicyChange,
  onAgentResponse,
  onCustomerMessage,
  onCustomerSignal,
  onOwnerAssigned,
  onPriorityChanged,
  onReopened,
  onResolved,
  pause,
  resume,
  SlaOwnershipConflictError,
  startSla,
  type SlaState,
} from "./sla-state.ts";

export type SlaInput =
  /** Intake accepted the ticket: its clocks count from here once triage names the priority. */
  | { readonly type: "received"; readonly channel: Channel | null }
  | {
      readonly type: "triaged";
      readonly priority: Priority;
      readonly channel: Channel | null;
      readonly group: string | null;
      /** The name triage gave the SLA policy row (shown in the view); "" when it gave none. */
      readonly policyName: string;
      readonly answerDidNotHelp: boolean;
      readonly repeatContactCount: number;
    }
  /** An agent accepted the offer and owns the ticket. */
  | { readonly type: "assigned"; readonly ownerId: string }
  /** A supervisor moved the ticket to another owner (the only way an owner changes). */
  | { readonly type: "ownerChanged"; readonly ownerId: string }
  /** A public reply from an agent to the customer. */
  | { readonly type: "agentReplied" }
  | { readonly type: "customerMessage" }
  | { readonly type: "resolved" }
  | { readonly type: "reopened"; readonly ownerId: string | null }
  /** The agent says the ticket waits on the customer: clocks pause. */
  | { readonly type: "waitingOnCustomer" }
  /** The agent ends the wait without a customer message: clocks run again. */
  | { readonly type: "customerWaitOver" };

export type TimedInput = { readonly at: string; readonly input: SlaInput };

export type SlaRecord = {
  readonly ticketId: string;
  /** Null until triage names the priority. */
  readonly state: SlaState | null;
  readonly channel: Channel | null;
  readonly group: string | null;
  readonly policyName: string;
  readonly receivedAt: string | null;
  /** The priority triage last gave: a retriage that repeats it must not undo a ladder raise. */
  readonly triagedPriority: Priority | null;
  /** Repeat contacts already turned into signals. */
  readonly repeatContactsSeen: number;
  /** Inputs that arrived before the SLA started, oldest first. */
  readonly pending: readonly TimedInput[];
  /** The latest instant applied: a late input is applied at this instant, not before it. */
  readonly lastAt: string | null;
};

/**
 * Live channels: the customer is connected and waiting, so the agent accepting the offer is the
 * first response. On written channels the first response is the agent's first public reply.
 */
export const LIVE_CHANNELS: readonly Channel[] = ["chat", "phone"];

/** Channel assumed when neither intake nor triage said (it only picks the targets). */
export const FALLBACK_CHANNEL: Channel = "web";

/** Inputs kept before the SLA starts; beyond this the oldest are dropped (a ticket never triaged). */
export const MAX_PENDING_INPUTS = 50;

export function emptySlaRecord(ticketId: string): SlaRecord {
  return {
    ticketId,
    state: null,
    channel: null,
    group: null,
    policyName: "",
    receivedAt: null,
    triagedPriority: null,
    repeatContactsSeen: 0,
    pending: [],
    lastAt: null,
  };
}

const later = (a: string | null, b: string): string => (a !== null && Date.parse(a) > Date.parse(b) ? a : b);

/** Applies one input; `policy` is the active policy, used when the SLA starts or the group changes. */
export function applySlaInput(record: SlaRecord, timed: TimedInput, policy: SlaPolicy): SlaRecord {
  const { input } = timed;
  if (input.type === "received") {
    if (record.state !== null) return record;
    const receivedAt = record.receivedAt !== null && Date.parse(record.receivedAt) <= Date.parse(timed.at) ? record.receivedAt : timed.at;
    return { ...record, receivedAt, channel: input.channel ?? record.channel };
  }
  if (input.type === "triaged") return record.state === null ? start(record, timed.at, input, policy) : retriage(record, timed.at, input, policy);
  if (record.state === null) {
    const pending = [...record.pending, timed].slice(-MAX_PENDING_INPUTS);
    return { ...record, pending };
  }
  const at = later(record.lastAt, timed.at);
  return { ...record, state: applyToState(record.state, input, new Date(at)), lastAt: at };
}

function start(record: SlaRecord, at: string, input: Extract<SlaInput, { type: "triaged" }>, policy: SlaPolicy): SlaRecord {
  const startAt = record.receivedAt !== null && Date.parse(record.receivedAt) < Date.parse(at) ? record.receivedAt : at;
  const channel = input.channel ?? record.channel ?? FALLBACK_CHANNEL;
  const group = input.group ?? record.group;
  let state = startSla(
    { id: record.ticketId, priority: input.priority, channel, repeatContact: input.repeatContactCount > 0 },
    policy,
    calendarForGroup(policy, group),
    new Date(startAt),
  );
  if (input.answerDidNotHelp) state = onCustomerSignal(state, "answerDidNotHelp", new Date(at));
  let lastAt = at;
  const replay = [...record.pending].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const early of replay) {
    lastAt = later(lastAt, early.at);
    state = applyToState(state, early.input, new Date(lastAt));
  }
  return {
    ...record,
    state,
    channel,
    group,
    policyName: input.policyName,
    triagedPriority: input.priority,
    repeatContactsSeen: input.repeatContactCount,
    pending: [],
    lastAt,
  };
}

function retriage(record: SlaRecord, rawAt: string, input: Extract<SlaInput, { type: "triaged" }>, policy: SlaPolicy): SlaRecord {
  const at = later(record.lastAt, rawAt);
  const now = new Date(at);
  let state = record.state!;
  if (input.priority !== record.triagedPriority) state = onPriorityChanged(state, input.priority, now, "reassessment");
  const group = input.group ?? record.group;
  if (group !== record.group) {
    // A new group may work on another calendar; the deadlines move to it (and to the active policy).
    state = applyPolicyChange(state, policy, calendarForGroup(policy, group), now);
  }
  if (input.answerDidNotHelp) state = onCustomerSignal(state, "answerDidNotHelp", now);
  if (input.repeatContactCount > record.repeatContactsSeen) state = onCustomerSignal(state, "repeatContact", now);
  return {
    ...record,
    state,
    group,
    policyName: input.policyName !== "" ? input.policyName : record.policyName,
    triagedPriority: input.priority,
    repeatContactsSeen: Math.max(record.repeatContactsSeen, input.repeatContactCount),
    lastAt: at,
  };
}

/** Routing decides ownership; the SLA follows it (and never changes it itself). */
function withOwner(state: SlaState, ownerId: string): SlaState {
  try {
    return onOwnerAssigned(state, ownerId);
  } catch (err) {
    if (err instanceof SlaOwnershipConflictError) return { ...state, ownerId };
    throw err;
  }
}

function applyToState(state: SlaState, input: SlaInput, now: Date): SlaState {
  switch (input.type) {
    case "received":
    case "triaged":
      // Handled by the record (start, retriage); never kept as pending.
      return state;
    case "assigned": {
      const firstAssignment = state.ownerId === null;
      const owned = withOwner(state, input.ownerId);
      return firstAssignment && LIVE_CHANNELS.includes(state.channel) ? onAgentResponse(owned, now) : owned;
    }
    case "ownerChanged":
      return withOwner(state, input.ownerId);
    case "agentReplied":
      return onAgentResponse(state, now);
    case "customerMessage":
      return onCustomerMessage(state, now);
    case "resolved":
      return onResolved(state, now);
    case "reopened": {
      const reopened = onReopened(state, now);
      return input.ownerId === null || input.ownerId === "" ? reopened : withOwner(reopened, input.ownerId);
    }
    case "waitingOnCustomer":
      return pause(state, now);
    case "customerWaitOver":
      return resume(state, now);
  }
}
