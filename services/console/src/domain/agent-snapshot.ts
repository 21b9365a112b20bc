// Agents as the supervisor sees them: profile and presence folded from steward.agents.events, and the
// load, current tickets and declines that the ticket summaries tell (computed when asked, never stored twice).
import type { AgentEvent } from "./console-events.ts";
import type { TicketSummary } from "./ticket-summary.ts";

export interface AgentRecord {
  id: string;
  name: string;
  groups: string[];
  languages: string[];
  capacity: Record<string, number>;
  presence: string;
  presenceAt: string;
  profileAt: string;
}

export interface AgentSnapshot extends AgentRecord {
  /** Owned open tickets per channel, next to the capacity for that channel. */
  load: Record<string, { owned: number; capacity: number }>;
  currentTickets: string[];
  /** Offers this agent declined in the window. */
  declines: number;
}

export function foldAgent(current: AgentRecord | undefined, e: AgentEvent): AgentRecord {
  const at = e.at.toISOString();
  const a: AgentRecord = current ?? {
    id: e.agentId,
    name: e.agentId,
    groups: [],
    languages: [],
    capacity: {},
    presence: "offline",
    presenceAt: new Date(0).toISOString(),
    profileAt: new Date(0).toISOString(),
  };
  switch (e.kind) {
    case "profile":
      if (at < a.profileAt) return a;
      return { ...a, name: e.name || a.name, groups: e.groups, languages: e.languages, capacity: e.capacity, profileAt: at };
    case "presence":
      if (at < a.presenceAt) return a;
      return { ...a, presence: e.status, presenceAt: at };
  }
}

/** An agent's snapshot from its record and the tickets it owns or was offered (declines since `since`). */
export function agentSnapshot(agent: AgentRecord, tickets: readonly TicketSummary[], since: Date): AgentSnapshot {
  const owned = tickets.filter((t) => t.ownerId === agent.id && t.status !== "resolved");
  const load: AgentSnapshot["load"] = {};
  for (const [channel, capacity] of Object.entries(agent.capacity)) load[channel] = { owned: 0, capacity };
  for (const t of owned) {
    const entry = (load[t.channel || "api"] ??= { owned: 0, capacity: 0 });
    entry.owned += 1;
  }
  const sinceIso = since.toISOString();
  const declines = tickets.reduce((n, t) => n + t.offers.filter((o) => o.agentId === agent.id && o.outcome === "declined" && o.madeAt >= sinceIso).length, 0);
  return { ...agent, load, currentTickets: owned.map((t) => t.id), declines };
}
