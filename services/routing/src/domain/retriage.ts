// What a follow-up's new triage changes on a ticket still waiting, and when a ticket nobody can take is
// worth recording again: pure rules the matcher applies to the stored ticket.
import { moreUrgent } from "./escalation-effects.ts";
import type { Priority, RelaxationPolicy, SkillRequirement } from "./model.ts";

/** Triage's new view of a waiting ticket. */
export interface Retriage {
  readonly priority: Priority;
  readonly requiredSkills: readonly SkillRequirement[];
  readonly language: string;
  readonly group: string;
  readonly overflowGroup: string | null;
}

/**
 * A waiting ticket takes triage's new requirements and keeps its place in the queue (enqueuedAt is not
 * touched). A priority escalation raised stays if it is more urgent; an overflow group escalation added at
 * once (widened routing) stays too.
 */
export function retriagedWaitingTicket(
  ticket: { readonly escalatedPriority: Priority | null; readonly overflowGroup: string | null; readonly relaxation?: RelaxationPolicy | null | undefined },
  input: Retriage,
): { triagePriority: Priority; priority: Priority; requiredSkills: SkillRequirement[]; language: string; group: string; overflowGroup: string | null } {
  return {
    triagePriority: input.priority,
    priority: moreUrgent(input.priority, ticket.escalatedPriority),
    requiredSkills: [...input.requiredSkills],
    language: input.language,
    group: input.group,
    overflowGroup: ticket.relaxation?.addOverflowGroupAfterMs === 0 ? ticket.overflowGroup : input.overflowGroup,
  };
}

/**
 * Whether "no eligible agent" is news: the first time, or when the kinds of reason changed. Counts ("3
 * agents are away") change all the time and are not news.
 */
export function noEligibleIsNews(previous: readonly string[] | null, reasons: readonly string[]): boolean {
  if (previous === null) return true;
  const kinds = (list: readonly string[]) =>
    list
      .map((r) => r.replace(/^\d+ /, ""))
      .sort()
      .join("|");
  return kinds(previous) !== kinds(reasons);
}
