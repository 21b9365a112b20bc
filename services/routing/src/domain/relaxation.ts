// Relaxation over time: the longer a ticket waits, the fewer requirements it keeps. Optional skills are
// dropped, the overflow group is added, and (only when the policy allows it) the language is dropped.
import type { RelaxationPolicy, SkillRequirement, WaitingTicket } from "./model.ts";

export type RelaxationStep = "drop-optional-skills" | "add-overflow-group" | "drop-language";

export interface ScheduledStep {
  readonly step: RelaxationStep;
  /** Waiting time (since enqueuedAt) from which the step applies, inclusive. */
  readonly afterMs: number;
}

export interface RelaxationState {
  readonly optionalSkillsDropped: boolean;
  readonly overflowGroupAdded: boolean;
  readonly languageDropped: boolean;
}

export const STRICT: RelaxationState = { optionalSkillsDropped: false, overflowGroupAdded: false, languageDropped: false };

const STEP_ORDER: readonly RelaxationStep[] = ["drop-optional-skills", "add-overflow-group", "drop-language"];

/**
 * The policy's steps in the order they take effect. Each step is cumulative: once applied it stays applied,
 * so a ticket's relaxation is fully described by how many steps of its schedule it has reached ("stage").
 */
export function relaxationSchedule(policy: RelaxationPolicy): readonly ScheduledStep[] {
  const steps: ScheduledStep[] = [];
  if (policy.dropOptionalSkillsAfterMs !== null) steps.push({ step: "drop-optional-skills", afterMs: policy.dropOptionalSkillsAfterMs });
  if (policy.addOverflowGroupAfterMs !== null) steps.push({ step: "add-overflow-group", afterMs: policy.addOverflowGroupAfterMs });
  if (policy.allowLanguageRelaxation && policy.dropLanguageAfterMs !== null) {
    steps.push({ step: "drop-language", afterMs: policy.dropLanguageAfterMs });
  }
  return steps.sort((a, b) => a.afterMs - b.afterMs || STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step));
}

/** How many steps of the schedule apply after waiting `waitedMs`. */
export function stageAfter(schedule: readonly ScheduledStep[], waitedMs: number): number {
  let stage = 0;
  while (stage < schedule.length && waitedMs >= (schedule[stage] as ScheduledStep).afterMs) stage++;
  return stage;
}

/** The relaxation in force at a given stage of a schedule. */
export function stateAtStage(schedule: readonly ScheduledStep[], stage: number): RelaxationState {
  let optionalSkillsDropped = false;
  let overflowGroupAdded = false;
  let languageDropped = false;
  for (let i = 0; i < stage && i < schedule.length; i++) {
    const step = (schedule[i] as ScheduledStep).step;
    if (step === "drop-optional-skills") optionalSkillsDropped = true;
    else if (step === "add-overflow-group") overflowGroupAdded = true;
    else languageDropped = true;
  }
  return { optionalSkillsDropped, overflowGroupAdded, languageDropped };
}

export function relaxationAt(ticket: WaitingTicket, policy: RelaxationPolicy, now: number): RelaxationState {
  const schedule = relaxationSchedule(policy);
  return stateAtStage(schedule, stageAfter(schedule, now - ticket.enqueuedAt));
}

/**
 * When the ticket's requirements next loosen, or null if they never will again. An adapter that got
 * "no eligible agent" schedules a new decision for this moment.
 */
export function nextRelaxationAt(ticket: WaitingTicket, policy: RelaxationPolicy, now: number): number | null {
  const schedule = relaxationSchedule(policy);
  const next = schedule[stageAfter(schedule, now - ticket.enqueuedAt)];
  return next === undefined ? null : ticket.enqueuedAt + next.afterMs;
}

export interface EffectiveRequirements {
  /** Groups whose members may take the ticket: its own group, plus the overflow group once added. */
  readonly groups: readonly string[];
  /** null once the language has been dropped. */
  readonly language: string | null;
  /** Skills an agent must have at or above minLevel. */
  readonly skills: readonly SkillRequirement[];
  /** Optional skills no longer required; still used to rank agents (see skill fit). */
  readonly droppedSkills: readonly SkillRequirement[];
  readonly relaxation: RelaxationState;
}

export function requirementsUnder(ticket: WaitingTicket, relaxation: RelaxationState): EffectiveRequirements {
  const groups =
    relaxation.overflowGroupAdded && ticket.overflowGroup !== undefined && ticket.overflowGroup !== ticket.group ? [ticket.group, ticket.overflowGroup] : [ticket.group];
  const skills = relaxation.optionalSkillsDropped ? ticket.requiredSkills.filter((s) => s.optional !== true) : ticket.requiredSkills;
  const droppedSkills = relaxation.optionalSkillsDropped ? ticket.requiredSkills.filter((s) => s.optional === true) : [];
  return { groups, language: relaxation.languageDropped ? null : ticket.language, skills, droppedSkills, relaxation };
}

export function effectiveRequirements(ticket: WaitingTicket, policy: RelaxationPolicy, now: number): EffectiveRequirements {
  return requirementsUnder(ticket, relaxationAt(ticket, policy, now));
}
