// Checks that agents, tickets and policies entering the engine are well formed, so every later decision can
// trust them (levels 1..10, ISO 639-1 languages, known channels and priorities, finite times).
import { InvalidInputError } from "./errors.ts";
import {
  CHANNELS,
  MAX_SKILL_LEVEL,
  MIN_SKILL_LEVEL,
  PRESENCES,
  PRIORITIES,
  fail,
  ok,
  type AgentProfile,
  type AgentStatus,
  type ChannelCounts,
  type RelaxationPolicy,
  type Result,
  type WaitingTicket,
} from "./model.ts";

const ISO_639_1 = /^[a-z]{2}$/;

function isNonBlank(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isSkillLevel(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= MIN_SKILL_LEVEL && value <= MAX_SKILL_LEVEL;
}

function checkChannelCounts(label: string, counts: ChannelCounts, problems: string[]): void {
  for (const [channel, value] of Object.entries(counts)) {
    if (!(CHANNELS as readonly string[]).includes(channel)) problems.push(`${label}: unknown channel "${channel}"`);
    else if (!isCount(value)) problems.push(`${label}.${channel}: expected a whole number >= 0`);
  }
}

function optionalDuration(label: string, value: number | null, problems: string[]): void {
  if (value !== null && !(Number.isFinite(value) && value >= 0)) problems.push(`${label}: expected null or a duration >= 0 ms`);
}

export function relaxationPolicyProblems(policy: RelaxationPolicy): string[] {
  const problems: string[] = [];
  optionalDuration("dropOptionalSkillsAfterMs", policy.dropOptionalSkillsAfterMs, problems);
  optionalDuration("addOverflowGroupAfterMs", policy.addOverflowGroupAfterMs, problems);
  optionalDuration("dropLanguageAfterMs", policy.dropLanguageAfterMs, problems);
  if (policy.dropLanguageAfterMs !== null && !policy.allowLanguageRelaxation) {
    problems.push("dropLanguageAfterMs is set but allowLanguageRelaxation is false");
  }
  return problems;
}

export function validateAgent(agent: AgentProfile & AgentStatus): Result<AgentProfile & AgentStatus, InvalidInputError> {
  const problems: string[] = [];
  if (!isNonBlank(agent.id)) problems.push("id: required");
  if (typeof agent.name !== "string") problems.push("name: expected a string");
  if (agent.groups.length === 0) problems.push("groups: an agent belongs to at least one group");
  for (const group of agent.groups) if (!isNonBlank(group)) problems.push("groups: blank group name");
  for (const [name, level] of Object.entries(agent.skills)) {
    if (!isNonBlank(name)) problems.push("skills: blank skill name");
    if (!isSkillLevel(level)) problems.push(`skills.${name}: level must be a whole number ${MIN_SKILL_LEVEL}..${MAX_SKILL_LEVEL}`);
  }
  for (const language of agent.languages) {
    if (!ISO_639_1.test(language)) problems.push(`languages: "${language}" is not a lower-case ISO 639-1 code`);
  }
  checkChannelCounts("capacity", agent.capacity, problems);
  checkChannelCounts("load", agent.load, problems);
  if (!(PRESENCES as readonly string[]).includes(agent.presence)) problems.push(`presence: unknown value "${agent.presence}"`);
  if (!Number.isFinite(agent.presenceChangedAt)) problems.push("presenceChangedAt: expected a ms epoch");
  if (!Number.isFinite(agent.idleSince)) problems.push("idleSince: expected a ms epoch");
  return problems.length === 0 ? ok(agent) : fail(new InvalidInputError(`agent ${agent.id}`, problems));
}

export function validateTicket(ticket: WaitingTicket): Result<WaitingTicket, InvalidInputError> {
  const problems: string[] = [];
  if (!isNonBlank(ticket.id)) problems.push("id: required");
  if (!isNonBlank(ticket.group)) problems.push("group: required");
  if (!(CHANNELS as readonly string[]).includes(ticket.channel)) problems.push(`channel: unknown value "${ticket.channel}"`);
  if (!ISO_639_1.test(ticket.language)) problems.push(`language: "${ticket.language}" is not a lower-case ISO 639-1 code`);
  if (!(PRIORITIES as readonly string[]).includes(ticket.priority)) problems.push(`priority: unknown value "${ticket.priority}"`);
  const seen = new Set<string>();
  for (const requirement of ticket.requiredSkills) {
    if (!isNonBlank(requirement.name)) problems.push("requiredSkills: blank skill name");
    if (seen.has(requirement.name)) problems.push(`requiredSkills: "${requirement.name}" listed twice`);
    seen.add(requirement.name);
    if (!isSkillLevel(requirement.minLevel)) {
      problems.push(`requiredSkills.${requirement.name}: minLevel must be a whole number ${MIN_SKILL_LEVEL}..${MAX_SKILL_LEVEL}`);
    }
  }
  if (ticket.slaDeadline !== undefined && !Number.isFinite(ticket.slaDeadline)) problems.push("slaDeadline: expected a ms epoch");
  if (!Number.isFinite(ticket.enqueuedAt)) problems.push("enqueuedAt: expected a ms epoch");
  if (ticket.overflowGroup !== undefined && !isNonBlank(ticket.overflowGroup)) problems.push("overflowGroup: blank");
  if (ticket.relaxation !== undefined) problems.push(...relaxationPolicyProblems(ticket.relaxation).map((p) => `relaxation.${p}`));
  return problems.length === 0 ? ok(ticket) : fail(new InvalidInputError(`ticket ${ticket.id}`, problems));
}
