// Who comes to help on an owned ticket when escalation asks for a role: a pure choice over the agents.
import { freeCapacity, type AgentState, type Channel, type SkillRequirement } from "./model.ts";

/** The parts of an owned ticket the choice reads. */
export interface TicketNeedingHelp {
  readonly ownerId: string | null;
  readonly collaborators: readonly string[];
  readonly group: string;
  readonly overflowGroup: string | null;
  readonly channel: Channel;
  readonly requiredSkills: readonly SkillRequirement[];
}

/**
 * The best helper: available, in the ticket's group or overflow group, with the role as a skill (any agent
 * when no role is named), never the owner or a collaborator already. Ranked by how many of the ticket's
 * skills they meet, then the role's level, then the least loaded on the ticket's channel, then id.
 * Null when nobody qualifies.
 */
export function pickCollaborator(ticket: TicketNeedingHelp, role: string, agents: Iterable<AgentState>): string | null {
  const groups = new Set([ticket.group, ...(ticket.overflowGroup ? [ticket.overflowGroup] : [])]);
  let best: { id: string; level: number; meets: number; load: number } | null = null;
  for (const agent of agents) {
    if (agent.id === ticket.ownerId || ticket.collaborators.includes(agent.id) || agent.presence !== "available") continue;
    if (!agent.groups.some((g) => groups.has(g))) continue;
    const level = role ? (agent.skills[role] ?? 0) : 1;
    if (level === 0) continue;
    const meets = ticket.requiredSkills.filter((s) => (agent.skills[s.name] ?? 0) >= s.minLevel).length;
    const capacity = agent.capacity[ticket.channel] ?? 0;
    const load = capacity === 0 ? 1 : 1 - freeCapacity(agent, ticket.channel) / capacity;
    const candidate = { id: agent.id, level, meets, load };
    if (best === null || ranksAbove(candidate, best)) best = candidate;
  }
  return best?.id ?? null;
}

function ranksAbove(a: { id: string; level: number; meets: number; load: number }, b: { id: string; level: number; meets: number; load: number }): boolean {
  if (a.meets !== b.meets) return a.meets > b.meets;
  if (a.level !== b.level) return a.level > b.level;
  if (a.load !== b.load) return a.load < b.load;
  return a.id < b.id;
}
