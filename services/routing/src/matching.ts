// Which agents may take a ticket, best first, and why the others were passed over.
import type { AgentDoc, RoutingTicketDoc } from "./routing-store.ts";

export interface MatchExplanation {
  candidatesConsidered: number;
  passedOver: Array<{ agentId: string; reason: string }>;
  passedOverCounts: Record<string, number>;
  tieBreaker: string;
  summary: string;
}

export function pickAgent(ticket: RoutingTicketDoc, agents: AgentDoc[]): { ranked: AgentDoc[]; explanation: MatchExplanation } {
  const passedOver: Array<{ agentId: string; reason: string }> = [];
  const eligible: Array<{ agent: AgentDoc; fit: number; load: number }> = [];
  for (const a of agents) {
    const reason = ineligibility(ticket, a);
    if (reason) {
      passedOver.push({ agentId: a._id, reason });
      continue;
    }
    const fit = ticket.requiredSkills.reduce((sum, s) => sum + (a.skills[s.name] ?? 0), 0);
    const cap = a.capacity[ticket.channel] ?? 0;
    const load = cap === 0 ? 1 : 1 - (a.free[ticket.channel] ?? 0) / cap;
    eligible.push({ agent: a, fit, load });
  }
  // Someone who passed this ticket by is tried last, not never: if nobody else can take it, they can.
  eligible.sort(
    (x, y) =>
      Number(ticket.passedBy.includes(x.agent._id)) - Number(ticket.passedBy.includes(y.agent._id)) ||
      y.fit - x.fit ||
      x.load - y.load ||
      x.agent.idleSince.getTime() - y.agent.idleSince.getTime() ||
      x.agent._id.localeCompare(y.agent._id),
  );
  const counts: Record<string, number> = {};
  for (const p of passedOver) {
    const key = p.reason.split(":")[0] ?? p.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const best = eligible[0];
  return {
    ranked: eligible.map((e) => e.agent),
    explanation: {
      candidatesConsidered: agents.length,
      passedOver: passedOver.slice(0, 20),
      passedOverCounts: counts,
      tieBreaker: eligible.length > 1 ? "skill fit, then load, then longest idle" : "only eligible agent",
      summary: best ? `${best.agent._id}: best skill fit ${best.fit} among ${eligible.length} eligible` : "no eligible agent",
    },
  };
}

function ineligibility(t: RoutingTicketDoc, a: AgentDoc): string | undefined {
  if (a.presence !== "available") return `not available: ${a.presence}`;
  if (!a.languages.includes(t.language)) return `language: does not speak ${t.language}`;
  if ((a.free[t.channel] ?? 0) <= 0) return `no capacity: ${t.channel}`;
  for (const s of t.requiredSkills) {
    if (s.optional && t.relaxationLevel >= 1) continue;
    if ((a.skills[s.name] ?? 0) < s.minLevel) return `missing skill: ${s.name} >= ${s.minLevel}`;
  }
  return undefined;
}
