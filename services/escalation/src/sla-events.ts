// Escalation's published contract: the ticket's SLA view (sla.updated) and each ladder action
// (escalation.action) on steward.escalation.events, and notices to owners and supervisors on
// steward.outbound.notifications. Event ids derive from the action key or the view's revision, so a
// re-published event carries the id of the first attempt and readers can drop the copy.
import { newEnvelope, type OutgoingEvent } from "@steward/messaging";
import { Channel, Topics, escalationActionName, priorityToProto, type EscalationAction, type EscalationEffect, type Notification, type SlaUpdated } from "@steward/proto";
import { CUSTOMER_SIGNALS, type ClockName, type DueAction, type SlaEffect, type SlaRecord, type SlaState, type SlaView } from "./domain/index.ts";

export const PRODUCER = "escalation";

/** The domain effect as EscalationAction's typed `effect` oneof: what routing and the ticket view act on. */
export function effectToProto(effect: SlaEffect, group: string | null): EscalationEffect {
  switch (effect.type) {
    case "slaWarning":
      return { $case: "slaWarning", value: {} };
    case "slaBreach":
      return { $case: "slaBreach", value: {} };
    case "notifyOwner":
      return { $case: "notifyOwner", value: { ownerId: effect.ownerId } };
    case "raisePriority":
      return { $case: "raisePriority", value: { from: priorityToProto(effect.from), to: priorityToProto(effect.to) } };
    case "notifySupervisor":
      return { $case: "notifySupervisor", value: { recipient: supervisorOf(group) } };
    case "addCollaborator":
      return { $case: "addCollaborator", value: { role: effect.role } };
    case "widenRouting":
      return { $case: "widenRouting", value: { relaxSkills: effect.relaxSkills, addGroups: [...effect.addGroups] } };
  }
}

/** The policy name shown with the view when triage named none. */
export const DEFAULT_POLICY_NAME = "default";

/** Notifications for a group's supervisors go to this recipient. */
export const supervisorOf = (group: string | null): string => `supervisor:${group !== null && group !== "" ? group : "default"}`;

const CLOCK_LABELS: Record<ClockName, string> = { firstResponse: "first response", nextResponse: "next response", resolution: "resolution" };

export function slaUpdatedEvent(record: SlaRecord, view: SlaView, revision: number, now: Date): OutgoingEvent {
  const value: SlaUpdated = {
    policy: record.policyName !== "" ? record.policyName : DEFAULT_POLICY_NAME,
    policyVersion: view.policy,
    firstResponseDue: toDate(view.firstResponseDue),
    nextResponseDue: toDate(view.nextResponseDue),
    resolutionDue: toDate(view.resolutionDue),
    paused: view.paused,
    warnings: view.warnings.map((w) => w.clockId),
    breaches: view.breaches.map((b) => b.clockId),
    level: view.level,
    revision,
    priority: priorityToProto(view.priority),
  };
  return {
    topic: Topics.escalation,
    envelope: newEnvelope("slaUpdated", record.ticketId, value, PRODUCER, { eventId: `${record.ticketId}/sla/${revision}`, occurredAt: now }),
  };
}

/** "firstResponse" for a clock source ("firstResponse.1"), the signal name for a signal source. */
function sourceName(action: DueAction): string {
  return action.source.slice(0, action.source.lastIndexOf("."));
}

const isSignal = (action: DueAction): boolean => (CUSTOMER_SIGNALS as readonly string[]).includes(sourceName(action));

/** What set the action off, in words without personal data. */
function cause(state: SlaState, action: DueAction): string {
  const name = sourceName(action);
  if (name === "answerDidNotHelp") return "the customer said the answer did not help";
  if (name === "repeatContact") return "the customer contacted us again about the same problem";
  const label = CLOCK_LABELS[name as ClockName] ?? name;
  const clock = state.clocks.find((c) => `${c.name}.${c.cycle}` === action.source);
  const trigger = ladderTrigger(state, action);
  if (action.effect.type === "slaWarning" || trigger === "warning") return `the ${label} is at risk (due ${clock?.deadline ?? action.dueAt})`;
  return `the ${label} target was missed (due ${clock?.overdueSince ?? clock?.deadline ?? action.dueAt})`;
}

/** "warning" or "breach" for a ladder step on a clock; undefined for signals and plain warnings/breaches. */
function ladderTrigger(state: SlaState, action: DueAction): "warning" | "breach" | undefined {
  if (action.level === 0 || isSignal(action)) return undefined;
  const ladder = action.kind.startsWith("owned.") ? "owned" : "waiting";
  return state.rules.ladders[ladder][action.level - 1]?.trigger.on;
}

/** The events that carry out one due action: the EscalationAction and, for notices, a Notification. */
export function actionEvents(record: SlaRecord, state: SlaState, action: DueAction, now: Date): OutgoingEvent[] {
  const effect = action.effect;
  const why = cause(state, action);
  const typed = effectToProto(effect, record.group);
  const value: EscalationAction = {
    // The legacy flat fields stay filled for readers built before the oneof (ADR 0013).
    action: escalationActionName(typed),
    level: action.level,
    key: action.key,
    priority: priorityToProto(effect.type === "raisePriority" ? effect.to : state.priority),
    reason: action.level > 0 ? `${why}; escalation level ${action.level}` : why,
    clock: sourceName(action),
    role: effect.type === "addCollaborator" ? effect.role : "",
    relaxSkills: effect.type === "widenRouting" ? effect.relaxSkills : false,
    addGroups: effect.type === "widenRouting" ? [...effect.addGroups] : [],
    source: action.source,
    ownerId: state.ownerId ?? "",
    group: record.group ?? "",
    policyVersion: action.policyVersion,
    dueAt: new Date(action.dueAt),
    previousPriority: effect.type === "raisePriority" ? priorityToProto(effect.from) : 0,
    effect: typed,
  };
  const events: OutgoingEvent[] = [
    {
      topic: Topics.escalation,
      envelope: newEnvelope("escalationAction", record.ticketId, value, PRODUCER, { eventId: `${action.key}/action`, occurredAt: now }),
    },
  ];
  const recipient = effect.type === "notifyOwner" ? effect.ownerId : effect.type === "notifySupervisor" ? supervisorOf(record.group) : undefined;
  if (recipient !== undefined) {
    const notification: Notification = {
      channel: Channel.UNSPECIFIED,
      kind: ladderTrigger(state, action) === "warning" ? "sla_warning" : "escalation",
      recipient,
      language: "en",
      text: `Ticket ${record.ticketId}: ${why}.`,
      reference: action.key,
      messageId: "",
      inReplyTo: "",
    };
    events.push({
      topic: Topics.outbound,
      envelope: newEnvelope("notification", record.ticketId, notification, PRODUCER, { eventId: `${action.key}/notification`, occurredAt: now }),
    });
  }
  return events;
}

function toDate(iso: string | null): Date | undefined {
  return iso === null ? undefined : new Date(iso);
}
