// Who may take a ticket, and who among those should: eligibility checks, the skill-fit measure and the
// total ranking of eligible agents. Shared by the fast index and by the tests' brute-force oracle.
import { countOn, freeCapacity, type AgentState, type Channel } from "./model.ts";
import type { EffectiveRequirements } from "./relaxation.ts";

/** Checked in this order; an agent is reported under the first reason that applies. */
export const INELIGIBILITY_REASONS = ["not-in-group", "not-available", "language", "no-capacity", "missing-skill"] as const;
export type IneligibilityReason = (typeof INELIGIBILITY_REASONS)[number];

export interface MissingSkill {
  readonly name: string;
  readonly minLevel: number;
  /** 0 when the agent does not have the skill at all. */
  readonly actualLevel: number;
}

export type Eligibility =
  | { readonly eligible: true }
  | { readonly eligible: false; readonly reason: Exclude<IneligibilityReason, "missing-skill"> }
  | { readonly eligible: false; readonly reason: "missing-skill"; readonly missingSkill: MissingSkill };

const ELIGIBLE: Eligibility = { eligible: true };

/** An agent's skill levels: the plain record of AgentState, or the Map the engine's index keeps for speed. */
export type SkillLevels = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

export function levelOf(skills: SkillLevels, name: string): number {
  return (skills instanceof Map ? skills.get(name) : (skills as Readonly<Record<string, number>>)[name]) ?? 0;
}

export function firstMissingSkill(skills: SkillLevels, requirements: EffectiveRequirements): MissingSkill | null {
  for (const required of requirements.skills) {
    const actualLevel = levelOf(skills, required.name);
    if (actualLevel < required.minLevel) return { name: required.name, minLevel: required.minLevel, actualLevel };
  }
  return null;
}

export function checkEligibility(agent: AgentState, requirements: EffectiveRequirements, channel: Channel): Eligibility {
  if (!requirements.groups.some((group) => agent.groups.includes(group))) return { eligible: false, reason: "not-in-group" };
  if (agent.presence !== "available") return { eligible: false, reason: "not-available" };
  if (requirements.language !== null && !agent.languages.includes(requirements.language)) return { eligible: false, reason: "language" };
  if (freeCapacity(agent, channel) === 0) return { eligible: false, reason: "no-capacity" };
  const missingSkill = firstMissingSkill(agent.skills, requirements);
  if (missingSkill !== null) return { eligible: false, reason: "missing-skill", missingSkill };
  return ELIGIBLE;
}

/**
 * Skill fit, best first:
 * 1. `droppedSkillsMet`: how many of the relaxed-away optional skills the agent still meets (more is better),
 *    so relaxing a requirement widens the pool without ignoring who matches best;
 * 2. `surplus`: the sum of (agent level - required level) over required skills (less is better). This is
 *    "closeness" rather than "most expert": sending a level-9 specialist a level-3 question spends scarce
 *    expertise the next hard ticket needs, so the closest sufficient agent is the best fit.
 */
export interface SkillFit {
  readonly droppedSkillsMet: number;
  readonly surplus: number;
}

export function skillFit(skills: SkillLevels, requirements: EffectiveRequirements): SkillFit {
  let surplus = 0;
  for (const required of requirements.skills) surplus += Math.max(0, levelOf(skills, required.name) - required.minLevel);
  let droppedSkillsMet = 0;
  for (const dropped of requirements.droppedSkills) if (levelOf(skills, dropped.name) >= dropped.minLevel) droppedSkillsMet++;
  return { droppedSkillsMet, surplus };
}

/** Share of the ticket's channel already taken (owned work plus pending offers), 0..1. */
export function loadRatio(agent: AgentState, channel: Channel): number {
  const capacity = countOn(agent.capacity, channel);
  if (capacity === 0) return 1;
  return (countOn(agent.load, channel) + countOn(agent.reserved, channel)) / capacity;
}

export interface RankedCandidate {
  readonly agentId: string;
  /** When this agent last declined or let an offer of this ticket expire; null if never offered it. */
  readonly lastPassedAt: number | null;
  readonly fit: SkillFit;
  readonly loadRatio: number;
  readonly idleSince: number;
}

/**
 * Criteria in the order they rank eligible agents. Agents never offered this ticket come first, so nobody
 * is offered the same ticket twice while someone else is eligible; among those who already passed, the one
 * who passed longest ago goes first.
 */
export const RANK_CRITERIA = ["not-previously-offered", "least-recently-offered", "skill-fit", "load-ratio", "idle-time", "agent-id"] as const;
export type RankCriterion = (typeof RANK_CRITERIA)[number];

export function rankCandidate(
  agent: AgentState,
  requirements: EffectiveRequirements,
  channel: Channel,
  lastPassedAt: number | null,
  skills: SkillLevels = agent.skills,
): RankedCandidate {
  return {
    agentId: agent.id,
    lastPassedAt,
    fit: skillFit(skills, requirements),
    loadRatio: loadRatio(agent, channel),
    idleSince: agent.idleSince,
  };
}

/** The first criterion on which `a` and `b` differ, or "agent-id" when only the id separates them. */
export function decidingRankCriterion(a: RankedCandidate, b: RankedCandidate): RankCriterion {
  if ((a.lastPassedAt === null) !== (b.lastPassedAt === null)) return "not-previously-offered";
  if (a.lastPassedAt !== b.lastPassedAt) return "least-recently-offered";
  if (a.fit.droppedSkillsMet !== b.fit.droppedSkillsMet || a.fit.surplus !== b.fit.surplus) return "skill-fit";
  if (a.loadRatio !== b.loadRatio) return "load-ratio";
  if (a.idleSince !== b.idleSince) return "idle-time";
  return "agent-id";
}

/** Negative when `a` should be offered the ticket before `b`. Total: only equal ids compare equal. */
export function compareCandidates(a: RankedCandidate, b: RankedCandidate): number {
  if ((a.lastPassedAt === null) !== (b.lastPassedAt === null)) return a.lastPassedAt === null ? -1 : 1;
  if (a.lastPassedAt !== null && b.lastPassedAt !== null && a.lastPassedAt !== b.lastPassedAt) return a.lastPassedAt - b.lastPassedAt;
  if (a.fit.droppedSkillsMet !== b.fit.droppedSkillsMet) return b.fit.droppedSkillsMet - a.fit.droppedSkillsMet;
  if (a.fit.surplus !== b.fit.surplus) return a.fit.surplus - b.fit.surplus;
  if (a.loadRatio !== b.loadRatio) return a.loadRatio - b.loadRatio;
  if (a.idleSince !== b.idleSince) return a.idleSince - b.idleSince;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
