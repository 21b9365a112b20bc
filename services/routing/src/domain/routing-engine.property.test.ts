// Random event sequences against the engine, checked after every step against invariants and against a
// brute-force oracle that looks at every agent and every ticket (no indexes): the fast paths must agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEligibility, compareCandidates, decidingRankCriterion, rankCandidate, type RankedCandidate } from "./eligibility.ts";
import { AGENT_PASS_REASONS, TICKET_PASS_REASONS, agentPassReasonFor, zeroCounts, type AgentPassReason } from "./explanation.ts";
import { T0, unwrap } from "../../test-support/domain-fixtures.ts";
import {
  CHANNELS,
  PRIORITIES,
  countOn,
  freeCapacity,
  type AgentProfile,
  type AgentState,
  type AgentStatus,
  type Channel,
  type RelaxationPolicy,
  type WaitingTicket,
} from "./model.ts";
import type { TicketOwnership } from "./ownership.ts";
import { effectiveRequirements } from "./relaxation.ts";
import { compareRoutingOrder, decidingOrderCriterion, type RoutingKey } from "./routing-order.ts";
import { RoutingEngine } from "./routing-engine.ts";

const GROUPS = ["g1", "g2", "g3"] as const;
const LANGUAGES = ["en", "fr"] as const;
const SIM_CHANNELS = ["chat", "email"] as const satisfies readonly Channel[];
const SKILLS = ["a", "b"] as const;
const POLICIES: readonly RelaxationPolicy[] = [
  { dropOptionalSkillsAfterMs: null, addOverflowGroupAfterMs: null, allowLanguageRelaxation: false, dropLanguageAfterMs: null },
  { dropOptionalSkillsAfterMs: 10_000, addOverflowGroupAfterMs: 20_000, allowLanguageRelaxation: false, dropLanguageAfterMs: null },
  { dropOptionalSkillsAfterMs: 20_000, addOverflowGroupAfterMs: 5_000, allowLanguageRelaxation: true, dropLanguageAfterMs: 30_000 },
];

type AgentInput = AgentProfile & AgentStatus;

const agentArbitrary = (index: number): fc.Arbitrary<AgentInput> =>
  fc
    .record({
      groups: fc.subarray([...GROUPS], { minLength: 1 }),
      languages: fc.subarray([...LANGUAGES], { minLength: 1 }),
      skillA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 5, max: 10 })),
      skillB: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 5, max: 10 })),
      chat: fc.integer({ min: 0, max: 2 }),
      email: fc.integer({ min: 0, max: 2 }),
      presence: fc.constantFrom("available", "available", "away", "offline"),
      idle: fc.integer({ min: 0, max: 3 }),
    })
    .map((a) => ({
      id: `agent-${index}`,
      name: `Agent ${index}`,
      groups: a.groups,
      languages: a.languages,
      skills: { ...(a.skillA > 0 ? { a: a.skillA } : {}), ...(a.skillB > 0 ? { b: a.skillB } : {}) },
      capacity: { chat: a.chat, email: a.email },
      presence: a.presence,
      presenceChangedAt: T0,
      load: {},
      idleSince: T0 - a.idle * 1_000,
    }));

const ticketShape = fc.record({
  group: fc.constantFrom(...GROUPS),
  overflowGroup: fc.option(fc.constantFrom(...GROUPS), { nil: undefined }),
  channel: fc.constantFrom(...SIM_CHANNELS),
  language: fc.constantFrom(...LANGUAGES),
  priority: fc.constantFrom(...PRIORITIES),
  skills: fc.uniqueArray(fc.record({ name: fc.constantFrom(...SKILLS), minLevel: fc.integer({ min: 1, max: 7 }), optional: fc.boolean() }), {
    selector: (s) => s.name,
    maxLength: 2,
  }),
  sla: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  age: fc.integer({ min: 0, max: 40 }),
  policy: fc.nat({ max: POLICIES.length - 1 }),
});

type TicketShape = typeof ticketShape extends fc.Arbitrary<infer S> ? S : never;

type Command =
  | { readonly kind: "enqueue"; readonly shape: TicketShape }
  | { readonly kind: "presence"; readonly agent: number; readonly presence: "available" | "away" | "offline" }
  | { readonly kind: "accept" | "decline"; readonly pick: number }
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "resolve" | "withdraw" | "reopen" | "late-accept"; readonly pick: number }
  | { readonly kind: "reassign"; readonly pick: number; readonly agent: number }
  | { readonly kind: "route-ticket" | "route-agent"; readonly pick: number }
  | { readonly kind: "settle"; readonly agentsFirst: boolean };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: ticketShape.map((shape) => ({ kind: "enqueue" as const, shape })) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("presence" as const), agent: fc.nat(), presence: fc.constantFrom("available" as const, "away" as const, "offline" as const) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom("accept" as const, "decline" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 35_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("resolve" as const, "withdraw" as const, "reopen" as const, "late-accept" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reassign" as const), pick: fc.nat(), agent: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom("route-ticket" as const, "route-agent" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("settle" as const), agentsFirst: fc.boolean() }) },
);

/** Everything the oracle needs, read back from the engine through its public API only. */
class Simulation {
  readonly engine: RoutingEngine;
  readonly agentIds: string[];
  readonly tickets = new Map<string, WaitingTicket>();
  readonly resolved = new Map<string, TicketOwnership>();
  readonly acceptedCount = new Map<string, number>();
  now = T0;
  #next = 0;

  constructor(agents: AgentInput[], maxParallelOffers: number) {
    this.engine = new RoutingEngine({ maxParallelOffers, maxPassedTicketChecks: 1_000, reopenWindowMs: 20_000 });
    for (const agent of agents) unwrap(this.engine.upsertAgent(agent, T0));
    this.agentIds = agents.map((a) => a.id);
  }

  agents(): AgentState[] {
    return this.agentIds.map((id) => this.engine.getAgent(id) as AgentState);
  }

  live(): { ticket: WaitingTicket; ownership: TicketOwnership; heldForOwner: boolean }[] {
    return [...this.tickets.keys()].sort().flatMap((id) => {
      const view = this.engine.getTicket(id);
      return view === undefined ? [] : [view];
    });
  }

  waiting(): { ticket: WaitingTicket; ownership: TicketOwnership }[] {
    return this.live().filter((v) => v.ownership.status === "waiting");
  }

  owned(): { ticket: WaitingTicket; ownership: TicketOwnership; heldForOwner: boolean }[] {
    return this.live().filter((v) => v.ownership.status === "owned");
  }

  pendingOffers(): { ticketId: string; agentId: string }[] {
    return this.waiting().flatMap((v) => v.ownership.pendingOffers.map((o) => ({ ticketId: o.ticketId, agentId: o.agentId })));
  }

  apply(command: Command): void {
    const pickFrom = <T>(items: readonly T[], pick: number): T | undefined => (items.length === 0 ? undefined : items[pick % items.length]);
    switch (command.kind) {
      case "enqueue": {
        const s = command.shape;
        const id = `t${String(this.#next++).padStart(3, "0")}`;
        const enqueuedAt = this.now - s.age * 1_000;
        const ticket: WaitingTicket = {
          id,
          group: s.group,
          channel: s.channel,
          language: s.language,
          priority: s.priority,
          requiredSkills: s.skills,
          enqueuedAt,
          relaxation: POLICIES[s.policy],
          ...(s.overflowGroup === undefined ? {} : { overflowGroup: s.overflowGroup }),
          ...(s.sla === undefined ? {} : { slaDeadline: enqueuedAt + s.sla * 10_000 }),
        };
        unwrap(this.engine.enqueueTicket(ticket, this.now));
        this.tickets.set(id, ticket);
        return;
      }
      case "presence": {
        const agentId = this.agentIds[command.agent % this.agentIds.length] as string;
        unwrap(this.engine.setPresence(agentId, command.presence, this.now));
        return;
      }
      case "accept": {
        const offer = pickFrom(this.pendingOffers(), command.pick);
        if (offer === undefined) return;
        const before = this.engine.getTicket(offer.ticketId)?.ownership.pendingOffers.find((o) => o.agentId === offer.agentId);
        const result = this.engine.acceptOffer(offer.ticketId, offer.agentId, this.now);
        if (before !== undefined && this.now >= before.expiresAt) {
          expect(result.ok).toBe(false);
          return;
        }
        unwrap(result);
        this.acceptedCount.set(offer.ticketId, (this.acceptedCount.get(offer.ticketId) ?? 0) + 1);
        return;
      }
      case "decline": {
        const offer = pickFrom(this.pendingOffers(), command.pick);
        if (offer !== undefined) unwrap(this.engine.declineOffer(offer.ticketId, offer.agentId, this.now));
        return;
      }
      case "advance": {
        this.now += command.ms;
        this.engine.expireDueOffers(this.now);
        return;
      }
      case "resolve": {
        const view = pickFrom(this.owned(), command.pick);
        if (view === undefined) return;
        const { ownership } = unwrap(this.engine.resolveTicket(view.ticket.id, view.ownership.ownerId as string, this.now));
        this.resolved.set(view.ticket.id, ownership);
        return;
      }
      case "withdraw": {
        const view = pickFrom(this.waiting(), command.pick);
        if (view !== undefined) unwrap(this.engine.withdrawTicket(view.ticket.id, this.now));
        return;
      }
      case "reopen": {
        const id = pickFrom([...this.resolved.keys()].sort(), command.pick);
        if (id === undefined) return;
        const ownership = this.resolved.get(id) as TicketOwnership;
        this.resolved.delete(id);
        const ticket = { ...(this.tickets.get(id) as WaitingTicket), enqueuedAt: this.now };
        this.tickets.set(id, ticket);
        unwrap(this.engine.reopenTicket(ownership, ticket, this.now));
        this.acceptedCount.delete(id);
        return;
      }
      case "late-accept": {
        // Anyone accepting an owned ticket is refused: a ticket is never assigned twice.
        const view = pickFrom(this.owned(), command.pick);
        if (view === undefined) return;
        for (const agentId of this.agentIds) {
          const result = this.engine.acceptOffer(view.ticket.id, agentId, this.now);
          expect(result.ok).toBe(false);
        }
        return;
      }
      case "route-ticket": {
        const view = pickFrom(this.waiting(), command.pick);
        if (view !== undefined) unwrap(this.engine.routeTicket(view.ticket.id, this.now));
        return;
      }
      case "route-agent": {
        unwrap(this.engine.routeAgent(this.agentIds[command.pick % this.agentIds.length] as string, this.now));
        return;
      }
      case "settle": {
        this.settle(command.agentsFirst);
        return;
      }
      case "reassign": {
        const view = pickFrom(this.owned(), command.pick);
        const toAgentId = this.agentIds[command.agent % this.agentIds.length] as string;
        if (view === undefined || view.ownership.ownerId === toAgentId) return;
        unwrap(this.engine.reassignTicket(view.ticket.id, { actor: { id: "sup", role: "supervisor" }, toAgentId, reason: "test" }, this.now));
        return;
      }
    }
  }

  /** Routes until nothing moves: every waiting ticket asks for agents, every agent asks for work. */
  settle(agentsFirst: boolean): void {
    for (let round = 0; round < 1_000; round++) {
      let moved = false;
      const routeTickets = (): void => {
        for (const view of this.waiting()) {
          const routed = unwrap(this.engine.routeTicket(view.ticket.id, this.now));
          moved ||= routed.offers.length > 0;
        }
      };
      if (!agentsFirst) routeTickets();
      for (const agentId of this.agentIds) {
        const routed = unwrap(this.engine.routeAgent(agentId, this.now));
        moved ||= routed.offer !== null || routed.delivered !== null;
      }
      if (agentsFirst) routeTickets();
      if (!moved) return;
    }
    throw new Error("routing did not settle");
  }
}

function oracleRanking(sim: Simulation, ticket: WaitingTicket, ownership: TicketOwnership): RankedCandidate[] {
  const policy = ticket.relaxation as RelaxationPolicy;
  const requirements = effectiveRequirements(ticket, policy, sim.now);
  const passed = new Map(ownership.passedBy.map((p) => [p.agentId, p.at]));
  return sim
    .agents()
    .filter((agent) => checkEligibility(agent, requirements, ticket.channel).eligible)
    .filter((agent) => !ownership.pendingOffers.some((o) => o.agentId === agent.id))
    .map((agent) => rankCandidate(agent, requirements, ticket.channel, passed.get(agent.id) ?? null))
    .sort(compareCandidates);
}

/** Why each agent did not get the ticket, computed agent by agent. */
function oracleReasons(sim: Simulation, ticket: WaitingTicket, ownership: TicketOwnership, chosen: readonly RankedCandidate[]): Record<AgentPassReason, number> {
  const counts = zeroCounts(AGENT_PASS_REASONS);
  const requirements = effectiveRequirements(ticket, ticket.relaxation as RelaxationPolicy, sim.now);
  const passed = new Map(ownership.passedBy.map((p) => [p.agentId, p.at]));
  const lastChosen = chosen[chosen.length - 1];
  for (const agent of sim.agents()) {
    const eligibility = checkEligibility(agent, requirements, ticket.channel);
    if (!eligibility.eligible) counts[eligibility.reason]++;
    else if (ownership.pendingOffers.some((o) => o.agentId === agent.id)) counts["offer-pending"]++;
    else if (!chosen.some((c) => c.agentId === agent.id)) {
      const candidate = rankCandidate(agent, requirements, ticket.channel, passed.get(agent.id) ?? null);
      counts[agentPassReasonFor(decidingRankCriterion(lastChosen as RankedCandidate, candidate))]++;
    }
  }
  return counts;
}

/** The tickets this agent may be offered (or is owed as owner), in routing order. */
function oracleTicketsFor(sim: Simulation, agent: AgentState): RoutingKey[] {
  if (agent.presence !== "available") return [];
  const candidates: RoutingKey[] = [];
  for (const { ticket, ownership } of sim.waiting()) {
    if (ownership.pendingOffers.length >= sim.engine.config.maxParallelOffers) continue;
    if (ownership.pendingOffers.some((o) => o.agentId === agent.id)) continue;
    const requirements = effectiveRequirements(ticket, ticket.relaxation as RelaxationPolicy, sim.now);
    if (!checkEligibility(agent, requirements, ticket.channel).eligible) continue;
    if (ownership.passedBy.some((p) => p.agentId === agent.id)) {
      if (ownership.pendingOffers.length > 0) continue;
      if (oracleRanking(sim, ticket, ownership)[0]?.agentId !== agent.id) continue;
    }
    candidates.push(ticket);
  }
  for (const { ticket, ownership, heldForOwner } of sim.owned()) {
    if (heldForOwner && ownership.ownerId === agent.id && freeCapacity(agent, ticket.channel) > 0) candidates.push(ticket);
  }
  return candidates.sort(compareRoutingOrder);
}

function checkInvariants(sim: Simulation, quiescent: boolean): void {
  const agents = sim.agents();
  const live = sim.live();
  for (const agent of agents) {
    for (const channel of CHANNELS) {
      const load = countOn(agent.load, channel);
      const reserved = countOn(agent.reserved, channel);
      // Capacity is never exceeded, counting pending offers.
      expect(load + reserved).toBeLessThanOrEqual(countOn(agent.capacity, channel));
      // Load is exactly the owned, delivered work; reservations exactly the pending offers.
      const owned = live.filter((v) => v.ownership.status === "owned" && !v.heldForOwner && v.ownership.ownerId === agent.id && v.ticket.channel === channel);
      expect(load).toBe(owned.length);
      const offers = live.flatMap((v) => v.ownership.pendingOffers).filter((o) => o.agentId === agent.id && o.channel === channel);
      expect(reserved).toBe(offers.length);
    }
  }
  for (const { ownership } of live) {
    // One owner exactly while owned, none otherwise; never assigned twice between reopenings.
    expect(ownership.ownerId !== null).toBe(ownership.status === "owned");
    expect(sim.acceptedCount.get(ownership.ticketId) ?? 0).toBeLessThanOrEqual(1);
    if (ownership.status === "owned") expect(ownership.pendingOffers).toEqual([]);
    expect(ownership.pendingOffers.length).toBeLessThanOrEqual(sim.engine.config.maxParallelOffers);
    expect(new Set(ownership.pendingOffers.map((o) => o.agentId)).size).toBe(ownership.pendingOffers.length);
  }

  // Both fast decisions agree with the brute-force oracle, and their explanations account for everyone.
  for (const { ticket, ownership } of sim.waiting()) {
    const decision = unwrap(sim.engine.decideForTicket(ticket.id, sim.now));
    const slots = sim.engine.config.maxParallelOffers - ownership.pendingOffers.length;
    const ranking = oracleRanking(sim, ticket, ownership);
    const chosen = ranking.slice(0, Math.max(0, slots));
    const expected = chosen.map((c) => c.agentId);
    if (decision.kind === "offer-limit-reached") expect(slots).toBe(0);
    else {
      expect(decision.kind === "offer" ? decision.agentIds : []).toEqual(expected);
      const e = decision.explanation;
      expect(e.passedOverCounts).toEqual(oracleReasons(sim, ticket, ownership, chosen));
      const runnerUp = ranking[chosen.length];
      const lastChosen = chosen[chosen.length - 1];
      expect(e.tieBreaker).toBe(lastChosen === undefined ? null : runnerUp === undefined ? "only-candidate" : decidingRankCriterion(lastChosen, runnerUp));
      expect(AGENT_PASS_REASONS.reduce((sum, r) => sum + e.passedOverCounts[r], 0) + e.chosen.length).toBe(agents.length);
      // Liveness: once routing has settled, a ticket that can take another offer has nobody eligible left.
      if (quiescent) expect(expected).toEqual([]);
    }
  }
  for (const agent of agents) {
    const decision = unwrap(sim.engine.decideForAgent(agent.id, sim.now));
    const got = decision.kind === "offer" || decision.kind === "deliver-owned-work" ? decision.ticketId : null;
    const [first, second] = oracleTicketsFor(sim, agent);
    expect(got).toBe(first?.id ?? null);
    if ("explanation" in decision) {
      const e = decision.explanation;
      expect(e.tieBreaker).toBe(first === undefined ? null : second === undefined ? "only-candidate" : decidingOrderCriterion(first, second));
      for (const reason of TICKET_PASS_REASONS) expect(e.passedOverCounts[reason]).toBeGreaterThanOrEqual(0);
      expect(TICKET_PASS_REASONS.reduce((sum, r) => sum + e.passedOverCounts[r], 0) + (e.chosen === null ? 0 : 1)).toBe(e.ticketsConsidered);
    }
    if (quiescent) expect(got).toBeNull();
  }
}

describe("routing engine under random event sequences", () => {
  it("never exceeds capacity, never has two owners, agrees with the oracle, and leaves nobody waiting while an eligible agent is free", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => agentArbitrary(i)))),
        fc.integer({ min: 1, max: 3 }),
        fc.array(commandArbitrary, { minLength: 20, maxLength: 80, size: "max" }),
        fc.boolean(),
        (agents, maxParallelOffers, commands, agentsFirst) => {
          const sim = new Simulation(agents, maxParallelOffers);
          for (const command of commands) {
            sim.apply(command);
            checkInvariants(sim, command.kind === "settle");
          }
          sim.settle(agentsFirst);
          checkInvariants(sim, true);
        },
      ),
      { numRuns: 200 },
    );
  }, 300_000);
});
