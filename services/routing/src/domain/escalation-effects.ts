// What escalation's ladder does to a routing ticket, as pure rules: a raised priority reorders a waiting
// ticket, widened routing relaxes skills and adds an overflow group at once, and input that arrives before
// the ticket exists is remembered and folded in when it does. The matcher only reads, calls and writes.
import { PRIORITIES, type Priority, type RelaxationPolicy } from "./model.ts";

/** The escalation effects routing acts on, mapped from the proto `effect` oneof at the adapter. */
export type RoutingEscalation =
  | { readonly kind: "raisePriority"; readonly to: Priority }
  | { readonly kind: "widenRouting"; readonly relaxSkills: boolean; readonly addGroups: readonly string[] }
  | { readonly kind: "addCollaborator"; readonly role: string };

/** How many applied action keys a ticket remembers (a redelivered action older than that is rare). */
export const APPLIED_KEYS_KEPT = 50;

/** The keys of applied inputs with `key` added last, the oldest dropped past APPLIED_KEYS_KEPT. */
export function keepKeys(keys: readonly string[], key: string): string[] {
  return [...keys.filter((k) => k !== key), key].slice(-APPLIED_KEYS_KEPT);
}

/** The more urgent of two priorities (P1 beats P2). */
export function moreUrgent(a: Priority, b: Priority | null): Priority {
  if (b === null) return a;
  return PRIORITIES.indexOf(a) <= PRIORITIES.indexOf(b) ? a : b;
}

/**
 * The relaxation widen_routing asks for, on top of the ticket's current policy: the named steps apply at
 * once (relaxation is measured from enqueuedAt, so "after 0 ms" is now); the others keep their schedule.
 */
export function widenedRelaxation(current: RelaxationPolicy, relaxSkills: boolean, addGroup: boolean): RelaxationPolicy {
  return {
    ...current,
    dropOptionalSkillsAfterMs: relaxSkills ? 0 : current.dropOptionalSkillsAfterMs,
    addOverflowGroupAfterMs: addGroup ? 0 : current.addOverflowGroupAfterMs,
  };
}

/** The parts of a routing ticket the escalation rules read. */
export interface EscalatedTicket {
  readonly status: "waiting" | "owned" | "resolved";
  readonly group: string;
  readonly overflowGroup: string | null;
  readonly triagePriority: Priority;
  readonly escalatedPriority: Priority | null;
  readonly priority: Priority;
  readonly pendingOffers: readonly unknown[];
  readonly relaxation?: RelaxationPolicy | null | undefined;
}

/**
 * A raised priority: the ticket keeps the most urgent of triage's and escalation's. `requeue` when a waiting
 * ticket with no offer out changes priority (the queue reorders and says so); an owned ticket only records it.
 */
export function raisePriority(ticket: EscalatedTicket, raised: Priority): { escalatedPriority: Priority; priority: Priority; requeue: boolean } {
  const escalatedPriority = moreUrgent(raised, ticket.escalatedPriority);
  const priority = moreUrgent(ticket.triagePriority, escalatedPriority);
  return { escalatedPriority, priority, requeue: ticket.status === "waiting" && ticket.pendingOffers.length === 0 && priority !== ticket.priority };
}

/** Widened routing for a waiting ticket: the first added group that is not its own becomes its overflow group. */
export function widenRouting(
  ticket: EscalatedTicket,
  widen: { readonly relaxSkills: boolean; readonly addGroups: readonly string[] },
  defaultRelaxation: RelaxationPolicy,
): { overflowGroup: string | null; relaxation: RelaxationPolicy } {
  const overflowGroup = widen.addGroups.find((g) => g !== ticket.group) ?? ticket.overflowGroup;
  return { overflowGroup, relaxation: widenedRelaxation(ticket.relaxation ?? defaultRelaxation, widen.relaxSkills, overflowGroup !== null) };
}

/** Escalation input kept for a ticket routing has not seen yet (its triage is still on the way). */
export interface EscalationHint {
  readonly slaDeadline: number | null;
  readonly slaRevision: number;
  readonly escalatedPriority: Priority | null;
  readonly widen: { readonly relaxSkills: boolean; readonly addGroups: readonly string[] } | null;
  readonly appliedActionKeys: readonly string[];
}

/** The hint with one more escalation folded in; the same hint when the action was applied already or needs a ticket. */
export function hintWith<H extends EscalationHint>(hint: H, key: string, effect: RoutingEscalation): H {
  if (hint.appliedActionKeys.includes(key)) return hint;
  const appliedActionKeys = keepKeys(hint.appliedActionKeys, key);
  switch (effect.kind) {
    case "raisePriority":
      return { ...hint, escalatedPriority: moreUrgent(effect.to, hint.escalatedPriority), appliedActionKeys };
    case "widenRouting": {
      const addGroups = [...new Set([...(hint.widen?.addGroups ?? []), ...effect.addGroups])];
      return { ...hint, widen: { relaxSkills: effect.relaxSkills || (hint.widen?.relaxSkills ?? false), addGroups }, appliedActionKeys };
    }
    case "addCollaborator":
      // A collaborator needs an owner: nothing to remember before the ticket exists.
      return hint;
  }
}

/** What a new ticket takes from the hint: its SLA deadline, the raised priority, the widened routing, the applied keys. */
export function ticketWithHint(
  ticket: {
    readonly group: string;
    readonly overflowGroup: string | null;
    readonly triagePriority: Priority;
    readonly priority: Priority;
    readonly relaxation?: RelaxationPolicy | null | undefined;
  },
  hint: EscalationHint,
  defaultRelaxation: RelaxationPolicy,
): {
  slaDeadline: number | null;
  slaRevision: number;
  escalatedPriority: Priority | null;
  priority: Priority;
  overflowGroup: string | null;
  relaxation: RelaxationPolicy | null;
  appliedActionKeys: string[];
} {
  const overflowGroup = hint.widen === null ? ticket.overflowGroup : (hint.widen.addGroups.find((g) => g !== ticket.group) ?? ticket.overflowGroup);
  return {
    slaDeadline: hint.slaDeadline,
    slaRevision: hint.slaRevision,
    escalatedPriority: hint.escalatedPriority,
    priority: hint.escalatedPriority === null ? ticket.priority : moreUrgent(ticket.triagePriority, hint.escalatedPriority),
    overflowGroup,
    relaxation: hint.widen === null ? (ticket.relaxation ?? null) : widenedRelaxation(defaultRelaxation, hint.widen.relaxSkills, overflowGroup !== null),
    appliedActionKeys: [...hint.appliedActionKeys],
  };
}
