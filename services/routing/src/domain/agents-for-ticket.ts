// Ticket -> agents: for a waiting ticket, the best eligible agents and why every other agent was passed
// over. Scans only the free agents of the ticket's group(s) in its language and channel, never the queue.
import type { AgentPool, FunnelCounts } from "./agent-pool.ts";
import { compareCandidates, decidingRankCriterion, firstMissingSkill, rankCandidate, type MissingSkill, type RankedCandidate } from "./eligibility.ts";
import { AGENT_PASS_REASONS, TopK, agentPassReasonFor, zeroCounts, type PassedOverAgent, type TicketDecisionExplanation } from "./explanation.ts";
import { freeCapacity, type AgentState, type Channel, type RoutingConfig } from "./model.ts";
import { effectiveRequirements, nextRelaxationAt, type EffectiveRequirements } from "./relaxation.ts";
import type { TicketRecord } from "./ticket-record.ts";

export type TicketDecision =
  | { readonly kind: "offer"; readonly ticketId: string; readonly agentIds: readonly string[]; readonly explanation: TicketDecisionExplanation }
  | {
      readonly kind: "no-eligible-agent";
      readonly ticketId: string;
      /** When requirements next loosen (schedule a new decision then), or null if they never will. */
      readonly nextRelaxationAt: number | null;
      readonly explanation: TicketDecisionExplanation;
    }
  | { readonly kind: "offer-limit-reached"; readonly ticketId: string; readonly pendingOffers: number };

interface NearMiss {
  readonly agentId: string;
  readonly missingSkill: MissingSkill;
}

function byNearness(a: NearMiss, b: NearMiss): number {
  const gapA = a.missingSkill.minLevel - a.missingSkill.actualLevel;
  const gapB = b.missingSkill.minLevel - b.missingSkill.actualLevel;
  return gapA - gapB || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);
}

/** The best agents for a waiting ticket (as many as it may still be offered to), with the explanation. */
export function decideAgentsForTicket(pool: AgentPool, record: TicketRecord, config: RoutingConfig, now: number): TicketDecision {
  const ticketId = record.ticket.id;
  const pending = record.ownership.pendingOffers;
  const slots = config.maxParallelOffers - pending.length;
  if (slots <= 0) return { kind: "offer-limit-reached", ticketId, pendingOffers: pending.length };

  const { ticket } = record;
  const requirements = effectiveRequirements(ticket, record.policy, now);
  const channel = ticket.channel;
  const counts = zeroCounts(AGENT_PASS_REASONS);
  const missingSkillCounts: Record<string, number> = {};
  const k = config.explanationTopK;
  const ranked = new TopK<RankedCandidate>(slots + k, compareCandidates);
  const nearMisses = new TopK<NearMiss>(k, byNearness);
  const eligible: RankedCandidate[] = [];
  const funnel = funnelOf(pool, requirements, channel);

  const [primary] = requirements.groups;
  for (const group of requirements.groups) {
    for (const pooled of pool.free(group, requirements.language, channel)) {
      if (group !== primary && pooled.groups.has(primary as string)) continue;
      const agent = pooled.state;
      const agentId = agent.id;
      const missingSkill = firstMissingSkill(pooled.skills, requirements);
      if (missingSkill !== null) {
        counts["missing-skill"]++;
        missingSkillCounts[missingSkill.name] = (missingSkillCounts[missingSkill.name] ?? 0) + 1;
        nearMisses.offer({ agentId, missingSkill });
        continue;
      }
      if (pending.length > 0 && pending.some((offer) => offer.agentId === agentId)) {
        counts["offer-pending"]++;
        continue;
      }
      const candidate = rankCandidate(agent, requirements, channel, record.passedAt.get(agentId) ?? null, pooled.skills);
      eligible.push(candidate);
      ranked.offer(candidate);
    }
  }

  const chosen = ranked.items.slice(0, slots);
  const runnersUp = ranked.items.slice(slots);
  const lastChosen = chosen[chosen.length - 1];
  if (lastChosen !== undefined) {
    const chosenIds = new Set(chosen.map((c) => c.agentId));
    for (const candidate of eligible) {
      if (!chosenIds.has(candidate.agentId)) counts[agentPassReasonFor(decidingRankCriterion(lastChosen, candidate))]++;
    }
  }
  counts["not-in-group"] = pool.size - funnel.members;
  counts["not-available"] = funnel.members - funnel.available;
  counts.language = funnel.available - funnel.speaking;
  counts["no-capacity"] = funnel.speaking - funnel.free;

  const passedOver: PassedOverAgent[] = [];
  for (const candidate of runnersUp) {
    passedOver.push({ agentId: candidate.agentId, reason: agentPassReasonFor(decidingRankCriterion(lastChosen as RankedCandidate, candidate)) });
  }
  for (const miss of nearMisses.items) {
    if (passedOver.length >= k) break;
    passedOver.push({ agentId: miss.agentId, reason: "missing-skill", missingSkill: miss.missingSkill });
  }
  const runnerUp = runnersUp[0];
  const explanation: TicketDecisionExplanation = {
    direction: "ticket-to-agent",
    ticketId,
    decidedAt: now,
    relaxation: requirements.relaxation,
    groups: requirements.groups,
    language: requirements.language,
    agentsTotal: pool.size,
    candidatesConsidered: funnel.members,
    eligible: eligible.length,
    chosen: chosen.map((c) => ({
      agentId: c.agentId,
      fit: c.fit,
      loadRatio: c.loadRatio,
      idleSince: c.idleSince,
      previouslyOffered: c.lastPassedAt !== null,
    })),
    tieBreaker: lastChosen === undefined ? null : runnerUp === undefined ? "only-candidate" : decidingRankCriterion(lastChosen, runnerUp),
    passedOverCounts: counts,
    missingSkillCounts,
    passedOver,
  };
  if (chosen.length === 0) {
    return { kind: "no-eligible-agent", ticketId, nextRelaxationAt: nextRelaxationAt(ticket, record.policy, now), explanation };
  }
  return { kind: "offer", ticketId, agentIds: chosen.map((c) => c.agentId), explanation };
}

/** Counts at each step of the eligibility funnel over the union of the ticket's groups, each agent once. */
export function funnelOf(pool: AgentPool, requirements: EffectiveRequirements, channel: Channel): FunnelCounts {
  const [primary, overflow] = requirements.groups as [string, string | undefined];
  const first = pool.funnel(primary, requirements.language, channel);
  if (overflow === undefined) return first;
  const second = pool.funnel(overflow, requirements.language, channel);
  // Agents in both groups would be counted twice: subtract them once.
  let members = 0;
  let available = 0;
  let speaking = 0;
  let free = 0;
  for (const { state: agent } of pool.inBoth(primary, overflow)) {
    members++;
    if (agent.presence !== "available") continue;
    available++;
    if (requirements.language !== null && !agent.languages.includes(requirements.language)) continue;
    speaking++;
    if (freeCapacity(agent, channel) > 0) free++;
  }
  return {
    members: first.members + second.members - members,
    available: first.available + second.available - available,
    speaking: first.speaking + second.speaking - speaking,
    free: first.free + second.free - free,
  };
}

/**
 * True when another eligible agent with a free slot ranks ahead of `agent` for this ticket on rotation:
 * one who never had it, or who passed on it before `agent` did. Only then may `agent` not get it again.
 */
export function someoneAheadInRotation(pool: AgentPool, record: TicketRecord, agent: AgentState, now: number): boolean {
  if (record.ownership.pendingOffers.some((offer) => offer.agentId !== agent.id)) return true;
  const requirements = effectiveRequirements(record.ticket, record.policy, now);
  const channel = record.ticket.channel;
  const mine = record.passedAt.get(agent.id) ?? null;
  const [primary] = requirements.groups;
  for (const group of requirements.groups) {
    for (const pooled of pool.free(group, requirements.language, channel)) {
      const other = pooled.state;
      const otherId = other.id;
      if (otherId === agent.id || (group !== primary && pooled.groups.has(primary as string))) continue;
      if (firstMissingSkill(pooled.skills, requirements) !== null) continue;
      const theirs = record.passedAt.get(otherId) ?? null;
      if (theirs === null || mine === null || theirs < mine) return true;
      if (theirs === mine && compareCandidates(rankCandidate(other, requirements, channel, theirs), rankCandidate(agent, requirements, channel, mine)) < 0) {
        return true;
      }
    }
  }
  return false;
}
