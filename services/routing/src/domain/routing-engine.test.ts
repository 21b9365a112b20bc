import { describe, expect, it } from "vitest";
import { AGENT_PASS_REASONS, TICKET_PASS_REASONS, type AgentDecisionExplanation, type TicketDecisionExplanation } from "./explanation.ts";
import { NO_RELAXATION, T0, aTicket, anAgent, errorOf, unwrap } from "../../test-support/domain-fixtures.ts";
import type { AgentProfile, AgentStatus, RelaxationPolicy, RoutingConfig, WaitingTicket } from "./model.ts";
import { newWaitingTicket } from "./ownership.ts";
import { RoutingEngine, type AgentDecision, type TicketDecision } from "./routing-engine.ts";

type AgentInput = AgentProfile & AgentStatus;

function engineWith(agents: AgentInput[], tickets: WaitingTicket[] = [], config: Partial<RoutingConfig> = {}): RoutingEngine {
  const engine = new RoutingEngine(config);
  for (const agent of agents) unwrap(engine.upsertAgent(agent, T0));
  for (const ticket of tickets) unwrap(engine.enqueueTicket(ticket, T0));
  return engine;
}

function ticketDecision(engine: RoutingEngine, ticketId: string, now = T0): TicketDecision {
  return unwrap(engine.decideForTicket(ticketId, now));
}

function agentDecision(engine: RoutingEngine, agentId: string, now = T0): AgentDecision {
  return unwrap(engine.decideForAgent(agentId, now));
}

function explanationOf(decision: TicketDecision): TicketDecisionExplanation {
  if (decision.kind === "offer-limit-reached") throw new Error("no explanation on offer-limit-reached");
  return decision.explanation;
}

function agentExplanationOf(decision: AgentDecision): AgentDecisionExplanation {
  if (!("explanation" in decision)) throw new Error(`no explanation on ${decision.kind}`);
  return decision.explanation;
}

function expectCountsAddUp(explanation: TicketDecisionExplanation): void {
  const passed = AGENT_PASS_REASONS.reduce((sum, reason) => sum + explanation.passedOverCounts[reason], 0);
  expect(passed + explanation.chosen.length).toBe(explanation.agentsTotal);
}

function expectTicketCountsAddUp(explanation: AgentDecisionExplanation): void {
  const passed = TICKET_PASS_REASONS.reduce((sum, reason) => sum + explanation.passedOverCounts[reason], 0);
  expect(passed + (explanation.chosen === null ? 0 : 1)).toBe(explanation.ticketsConsidered);
}

const invoices5 = aTicket({ id: "t1", group: "billing", channel: "chat", requiredSkills: [{ name: "invoices", minLevel: 5 }] });

describe("ticket arrives: picking the agent", () => {
  const agents = [
    anAgent({ id: "expert", groups: ["billing"], skills: { invoices: 9 } }),
    anAgent({ id: "close-fit", groups: ["billing"], skills: { invoices: 5 } }),
    anAgent({ id: "junior", groups: ["billing"], skills: { invoices: 4 } }),
    anAgent({ id: "on-break", groups: ["billing"], skills: { invoices: 5 }, presence: "away" }),
    anAgent({ id: "sales-rep", groups: ["sales"], skills: { invoices: 9 } }),
    anAgent({ id: "german-only", groups: ["billing"], skills: { invoices: 5 }, languages: ["de"] }),
    anAgent({ id: "chat-full", groups: ["billing"], skills: { invoices: 5 }, load: { chat: 3 } }),
  ];

  it("offers the eligible agent with the closest skill fit and explains every other agent", () => {
    const engine = engineWith(agents, [invoices5]);
    const decision = ticketDecision(engine, "t1");
    expect(decision).toMatchObject({ kind: "offer", agentIds: ["close-fit"] });
    const explanation = explanationOf(decision);
    expect(explanation.passedOverCounts).toMatchObject({
      "not-in-group": 1,
      "not-available": 1,
      language: 1,
      "no-capacity": 1,
      "missing-skill": 1,
      "lower-fit": 1,
    });
    expect(explanation.candidatesConsidered).toBe(6);
    expect(explanation.eligible).toBe(2);
    expect(explanation.tieBreaker).toBe("skill-fit");
    expect(explanation.missingSkillCounts).toEqual({ invoices: 1 });
    expect(explanation.passedOver).toEqual([
      { agentId: "expert", reason: "lower-fit" },
      { agentId: "junior", reason: "missing-skill", missingSkill: { name: "invoices", minLevel: 5, actualLevel: 4 } },
    ]);
    expectCountsAddUp(explanation);
  });

  it("breaks equal fit by load ratio, then longest idle, then agent id", () => {
    const same = { groups: ["billing"], skills: { invoices: 5 } };
    const byLoad = engineWith([anAgent({ id: "busy", ...same, load: { chat: 2 } }), anAgent({ id: "light", ...same, load: { chat: 1 } })], [invoices5]);
    expect(ticketDecision(byLoad, "t1")).toMatchObject({ agentIds: ["light"], explanation: { tieBreaker: "load-ratio" } });
    const byIdle = engineWith([anAgent({ id: "fresh", ...same, idleSince: T0 - 10 }), anAgent({ id: "bored", ...same, idleSince: T0 - 9_000 })], [invoices5]);
    expect(ticketDecision(byIdle, "t1")).toMatchObject({ agentIds: ["bored"], explanation: { tieBreaker: "idle-time" } });
    const byId = engineWith([anAgent({ id: "b", ...same }), anAgent({ id: "a", ...same })], [invoices5]);
    expect(ticketDecision(byId, "t1")).toMatchObject({ agentIds: ["a"], explanation: { tieBreaker: "agent-id", passedOver: [{ agentId: "b", reason: "tie-breaker" }] } });
    const alone = engineWith([anAgent({ id: "solo", ...same })], [invoices5]);
    expect(ticketDecision(alone, "t1")).toMatchObject({ agentIds: ["solo"], explanation: { tieBreaker: "only-candidate" } });
  });

  it("keeps the ticket waiting when nobody is eligible and says why, for escalation", () => {
    const engine = engineWith(
      [anAgent({ id: "junior", groups: ["billing"], skills: { invoices: 2 } }), anAgent({ id: "away", groups: ["billing"], presence: "away" })],
      [{ ...invoices5, relaxation: { ...NO_RELAXATION, addOverflowGroupAfterMs: 60_000 }, overflowGroup: "general" }],
    );
    const decision = ticketDecision(engine, "t1");
    expect(decision).toMatchObject({ kind: "no-eligible-agent", nextRelaxationAt: T0 + 60_000 });
    const explanation = explanationOf(decision);
    expect(explanation.chosen).toEqual([]);
    expect(explanation.tieBreaker).toBeNull();
    expect(explanation.passedOverCounts).toMatchObject({ "missing-skill": 1, "not-available": 1 });
    expect(explanation.missingSkillCounts).toEqual({ invoices: 1 });
    expect(unwrap(engine.routeTicket("t1", T0)).offers).toEqual([]);
    expect(engine.getTicket("t1")?.ownership.status).toBe("waiting");
    expect(engine.stats()).toMatchObject({ waitingTickets: 1, queuedTickets: 1 });
  });

  it("keeps explanations bounded: top-k names, every agent counted", () => {
    const many = Array.from({ length: 40 }, (_, i) => anAgent({ id: `a${String(i).padStart(2, "0")}`, groups: ["billing"], skills: { invoices: 5 + (i % 5) } }));
    const engine = engineWith(many, [invoices5], { explanationTopK: 3 });
    const explanation = explanationOf(ticketDecision(engine, "t1"));
    expect(explanation.passedOver).toHaveLength(3);
    expect(explanation.passedOver[0]).toEqual({ agentId: "a05", reason: "tie-breaker" });
    expect(explanation.passedOverCounts["lower-fit"]).toBe(32);
    expectCountsAddUp(explanation);
  });
});

describe("capacity frees up: picking the ticket", () => {
  const agent = anAgent({ id: "ann", groups: ["support"], skills: { refunds: 6 }, load: { chat: 3 } });

  function freeOneChatSlot(engine: RoutingEngine): void {
    unwrap(engine.upsertAgent({ ...agent, load: { chat: 2 } }, T0));
  }

  it("serves the oldest eligible work first, not the newest arrival", () => {
    const engine = engineWith([agent]);
    for (let i = 0; i < 5; i++) unwrap(engine.enqueueTicket(aTicket({ id: `t${i}`, enqueuedAt: T0 - 1_000 * (5 - i) }), T0));
    freeOneChatSlot(engine);
    expect(agentDecision(engine, "ann")).toMatchObject({ kind: "offer", ticketId: "t0", explanation: { tieBreaker: "enqueued-at" } });
  });

  it("serves priority first, then the SLA closest to breaking, then age", () => {
    const engine = engineWith(
      [agent],
      [
        aTicket({ id: "old-p3", priority: "P3", enqueuedAt: T0 - 60_000 }),
        aTicket({ id: "p2-late-sla", priority: "P2", slaDeadline: T0 + 90_000, enqueuedAt: T0 - 50_000 }),
        aTicket({ id: "p2-early-sla", priority: "P2", slaDeadline: T0 + 30_000, enqueuedAt: T0 - 1_000 }),
        aTicket({ id: "p2-no-sla", priority: "P2", enqueuedAt: T0 - 90_000 }),
      ],
    );
    freeOneChatSlot(engine);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const routed = unwrap(engine.routeAgent("ann", T0));
      const ticketId = (routed.offer as { ticketId: string }).ticketId;
      order.push(ticketId);
      unwrap(engine.acceptOffer(ticketId, "ann", T0));
      unwrap(engine.resolveTicket(ticketId, "ann", T0));
    }
    expect(order).toEqual(["p2-early-sla", "p2-late-sla", "p2-no-sla", "old-p3"]);
  });

  it("goes past any number of ineligible head tickets to the first one the agent can take", () => {
    const engine = engineWith([agent]);
    for (let i = 0; i < 500; i++) {
      unwrap(engine.enqueueTicket(aTicket({ id: `hard-${i}`, priority: "P1", requiredSkills: [{ name: "legal", minLevel: 1 + (i % 10) }] }), T0));
    }
    unwrap(engine.enqueueTicket(aTicket({ id: "german", priority: "P1", language: "de" }), T0));
    unwrap(engine.enqueueTicket(aTicket({ id: "by-email", priority: "P1", channel: "phone" }), T0));
    unwrap(engine.enqueueTicket(aTicket({ id: "easy", priority: "P4", enqueuedAt: T0 + 1, requiredSkills: [{ name: "refunds", minLevel: 6 }] }), T0));
    unwrap(engine.upsertAgent({ ...agent, load: { chat: 2, phone: 1 } }, T0));
    const decision = agentDecision(engine, "ann");
    expect(decision).toMatchObject({ kind: "offer", ticketId: "easy" });
    const explanation = agentExplanationOf(decision);
    expect(explanation.passedOverCounts).toMatchObject({ "missing-skill": 500, language: 1, "no-capacity": 1 });
    // The 500 share one key skill the agent lacks: counted one by one, named by the head of their partition.
    expect(explanation.passedOver).toEqual([{ ticketId: "hard-0", reason: "missing-skill" }]);
    expectTicketCountsAddUp(explanation);
  });

  it("counts tickets in languages the agent does not speak apart from those that may still relax", () => {
    const droppable: RelaxationPolicy = { ...NO_RELAXATION, allowLanguageRelaxation: true, dropLanguageAfterMs: 60_000 };
    const engine = engineWith(
      [agent],
      [
        aTicket({ id: "french-strict", language: "fr", priority: "P1" }),
        aTicket({ id: "french-later", language: "fr", priority: "P1", relaxation: droppable }),
        aTicket({ id: "english", priority: "P4" }),
      ],
    );
    freeOneChatSlot(engine);
    const explanation = agentExplanationOf(agentDecision(engine, "ann"));
    expect(explanation.chosen?.ticketId).toBe("english");
    expect(explanation.passedOverCounts).toMatchObject({ language: 1, "relaxation-pending": 1, "later-in-order": 0 });
    expect(explanation.passedOver).toEqual([{ ticketId: "french-later", reason: "relaxation-pending" }]);
    expectTicketCountsAddUp(explanation);
    expect(agentDecision(engine, "ann", T0 + 60_000)).toMatchObject({ ticketId: "french-later", explanation: { passedOverCounts: { language: 1, "later-in-order": 1 } } });
  });

  it("says why when there is nothing the agent may take", () => {
    const engine = engineWith([agent], [aTicket({ id: "legal", requiredSkills: [{ name: "legal", minLevel: 3 }] })]);
    freeOneChatSlot(engine);
    const decision = agentDecision(engine, "ann");
    expect(decision.kind).toBe("no-eligible-ticket");
    expect(agentExplanationOf(decision)).toMatchObject({ chosen: null, tieBreaker: null, ticketsConsidered: 1, passedOverCounts: { "missing-skill": 1 } });
  });

  it("does not look for work for an agent who is away or full", () => {
    const engine = engineWith([{ ...agent, capacity: { chat: 3 } }, anAgent({ id: "bob", presence: "away" })], [aTicket({ id: "t" })]);
    expect(agentDecision(engine, "ann")).toEqual({ kind: "no-free-capacity", agentId: "ann" });
    expect(agentDecision(engine, "bob")).toEqual({ kind: "agent-not-available", agentId: "bob", presence: "away" });
    expect(errorOf(engine.decideForAgent("nobody", T0)).code).toBe("AGENT_NOT_FOUND");
  });
});

describe("relaxation over time", () => {
  const policy: RelaxationPolicy = { dropOptionalSkillsAfterMs: 60_000, addOverflowGroupAfterMs: 120_000, allowLanguageRelaxation: false, dropLanguageAfterMs: null };
  const ticket = aTicket({
    id: "t",
    group: "billing",
    overflowGroup: "general",
    requiredSkills: [
      { name: "invoices", minLevel: 3 },
      { name: "sepa", minLevel: 5, optional: true },
    ],
    relaxation: policy,
  });

  it("drops optional skills after the configured wait, in both directions", () => {
    const engine = engineWith([anAgent({ id: "no-sepa", groups: ["billing"], skills: { invoices: 3 } })], [ticket]);
    expect(ticketDecision(engine, "t", T0 + 59_999).kind).toBe("no-eligible-agent");
    expect(agentDecision(engine, "no-sepa", T0 + 59_999)).toMatchObject({ kind: "no-eligible-ticket", explanation: { passedOverCounts: { "relaxation-pending": 1 } } });
    expect(ticketDecision(engine, "t", T0 + 60_000)).toMatchObject({ kind: "offer", agentIds: ["no-sepa"] });
    expect(agentDecision(engine, "no-sepa", T0 + 60_000)).toMatchObject({ kind: "offer", ticketId: "t" });
  });

  it("still prefers an agent who meets the dropped optional skill", () => {
    const engine = engineWith(
      [anAgent({ id: "a-no-sepa", groups: ["billing"], skills: { invoices: 3 } }), anAgent({ id: "z-sepa", groups: ["billing"], skills: { invoices: 9, sepa: 5 } })],
      [ticket],
    );
    expect(ticketDecision(engine, "t", T0 + 60_000)).toMatchObject({ agentIds: ["z-sepa"], explanation: { tieBreaker: "skill-fit" } });
  });

  it("adds the overflow group after its wait, in both directions", () => {
    const engine = engineWith([anAgent({ id: "generalist", groups: ["general"], skills: { invoices: 3, sepa: 5 } })], [ticket]);
    expect(ticketDecision(engine, "t", T0 + 119_999)).toMatchObject({ kind: "no-eligible-agent", nextRelaxationAt: T0 + 120_000 });
    expect(agentDecision(engine, "generalist", T0 + 119_999).kind).toBe("no-eligible-ticket");
    expect(ticketDecision(engine, "t", T0 + 120_000)).toMatchObject({ kind: "offer", agentIds: ["generalist"], explanation: { groups: ["billing", "general"] } });
    expect(agentDecision(engine, "generalist", T0 + 120_000)).toMatchObject({ kind: "offer", ticketId: "t", explanation: { chosen: { via: "overflow-group" } } });
  });

  it("never drops the language unless the policy allows it", () => {
    const english = anAgent({ id: "english", groups: ["billing"], skills: { invoices: 9, sepa: 9 } });
    const french = { ...ticket, id: "fr", language: "fr" };
    const strictEngine = engineWith([english], [french]);
    expect(ticketDecision(strictEngine, "fr", T0 + 30 * 86_400_000)).toMatchObject({ kind: "no-eligible-agent", nextRelaxationAt: null });
    expect(agentDecision(strictEngine, "english", T0 + 30 * 86_400_000).kind).toBe("no-eligible-ticket");

    const lenient = { ...french, relaxation: { ...policy, allowLanguageRelaxation: true, dropLanguageAfterMs: 600_000 } };
    const lenientEngine = engineWith([english], [lenient]);
    expect(ticketDecision(lenientEngine, "fr", T0 + 599_999).kind).toBe("no-eligible-agent");
    expect(agentDecision(lenientEngine, "english", T0 + 599_999).kind).toBe("no-eligible-ticket");
    expect(ticketDecision(lenientEngine, "fr", T0 + 600_000)).toMatchObject({ kind: "offer", agentIds: ["english"], explanation: { language: null } });
    expect(agentDecision(lenientEngine, "english", T0 + 600_000)).toMatchObject({ kind: "offer", ticketId: "fr" });
  });

  it("uses the engine's default policy when a ticket has none", () => {
    const { relaxation: _omitted, ...noPolicy } = ticket;
    const engine = engineWith([anAgent({ id: "no-sepa", groups: ["billing"], skills: { invoices: 3 } })], [noPolicy], {
      defaultRelaxation: { ...NO_RELAXATION, dropOptionalSkillsAfterMs: 5_000 },
    });
    expect(ticketDecision(engine, "t", T0 + 4_999).kind).toBe("no-eligible-agent");
    expect(ticketDecision(engine, "t", T0 + 5_000).kind).toBe("offer");
  });
});

describe("offers", () => {
  const billing = (id: string, extra: Partial<AgentInput> = {}): AgentInput => anAgent({ id, groups: ["billing"], skills: { invoices: 5 }, ...extra });

  it("times out per channel: 30 s for chat and phone, 120 s for email", () => {
    const engine = engineWith(
      [billing("ann", { capacity: { chat: 1, phone: 1, email: 1 } })],
      [invoices5, { ...invoices5, id: "call", channel: "phone" }, { ...invoices5, id: "mail", channel: "email" }],
    );
    const offers = ["t1", "call", "mail"].map((id) => unwrap(engine.routeTicket(id, T0)).offers[0]);
    expect(offers.map((o) => o?.expiresAt)).toEqual([T0 + 30_000, T0 + 30_000, T0 + 120_000]);
    expect(engine.nextOfferExpiry()).toBe(T0 + 30_000);
    expect(engine.expireDueOffers(T0 + 29_999)).toEqual([]);
    expect(
      engine
        .expireDueOffers(T0 + 30_000)
        .map((e) => e.offer.ticketId)
        .sort(),
    ).toEqual(["call", "t1"]);
    expect(engine.nextOfferExpiry()).toBe(T0 + 120_000);
    expect(engine.expireDueOffers(T0 + 120_000).map((e) => e.offer.ticketId)).toEqual(["mail"]);
    expect(engine.nextOfferExpiry()).toBeNull();
    expect(engine.getAgent("ann")?.reserved).toEqual({ chat: 0, phone: 0, email: 0 });
  });

  it("moves on to the next agent after a decline or a timeout, never back while anyone else is eligible", () => {
    const engine = engineWith([billing("ann"), billing("bob", { idleSince: T0 - 1 }), billing("cat", { idleSince: T0 - 1 })], [invoices5]);
    expect(unwrap(engine.routeTicket("t1", T0)).offers.map((o) => o.agentId)).toEqual(["ann"]);
    unwrap(engine.declineOffer("t1", "ann", T0 + 1_000));
    expect(unwrap(engine.routeTicket("t1", T0 + 1_000)).offers.map((o) => o.agentId)).toEqual(["bob"]);
    engine.expireDueOffers(T0 + 31_000);
    const third = unwrap(engine.routeTicket("t1", T0 + 31_000));
    expect(third.offers.map((o) => o.agentId)).toEqual(["cat"]);
    expect(explanationOf(third.decision).passedOverCounts["previously-offered"]).toBe(2);
    unwrap(engine.declineOffer("t1", "cat", T0 + 32_000));
    // Everyone has passed: the rotation starts again with whoever passed longest ago.
    const fourth = unwrap(engine.routeTicket("t1", T0 + 32_000));
    expect(fourth.offers.map((o) => o.agentId)).toEqual(["ann"]);
    expect(explanationOf(fourth.decision)).toMatchObject({ tieBreaker: "least-recently-offered", chosen: [{ agentId: "ann", previouslyOffered: true }] });
  });

  it("re-offers to the agent who declined when they are the only one eligible", () => {
    const engine = engineWith([billing("ann"), billing("bob", { presence: "offline" })], [invoices5]);
    unwrap(engine.routeTicket("t1", T0));
    unwrap(engine.declineOffer("t1", "ann", T0 + 1));
    expect(unwrap(engine.routeTicket("t1", T0 + 1)).offers.map((o) => o.agentId)).toEqual(["ann"]);
  });

  it("agent asking for work: skips a ticket it passed on while someone else is eligible, takes it when nobody else is", () => {
    const engine = engineWith([billing("ann"), billing("bob")], [invoices5, { ...invoices5, id: "t2", enqueuedAt: T0 + 5 }]);
    unwrap(engine.makeOffer("t1", "ann", T0));
    unwrap(engine.declineOffer("t1", "ann", T0 + 1));
    const decision = agentDecision(engine, "ann", T0 + 2);
    expect(decision).toMatchObject({ kind: "offer", ticketId: "t2" });
    expect(agentExplanationOf(decision).passedOver).toEqual([{ ticketId: "t1", reason: "previously-offered" }]);
    unwrap(engine.setPresence("bob", "away", T0 + 3));
    expect(agentDecision(engine, "ann", T0 + 4)).toMatchObject({ kind: "offer", ticketId: "t1" });
  });

  it("sends up to N offers at once; the first accept wins and the others are withdrawn", () => {
    const engine = engineWith([billing("ann"), billing("bob"), billing("cat"), billing("dan")], [invoices5], { maxParallelOffers: 3 });
    const routed = unwrap(engine.routeTicket("t1", T0));
    expect(routed.offers.map((o) => o.agentId)).toEqual(["ann", "bob", "cat"]);
    expect(explanationOf(routed.decision).passedOver).toEqual([{ agentId: "dan", reason: "tie-breaker" }]);
    expect(ticketDecision(engine, "t1")).toEqual({ kind: "offer-limit-reached", ticketId: "t1", pendingOffers: 3 });
    const accepted = unwrap(engine.acceptOffer("t1", "bob", T0 + 2_000));
    expect(accepted.ownership).toMatchObject({ status: "owned", ownerId: "bob" });
    expect(accepted.withdrawnOffers.map((o) => o.agentId)).toEqual(["ann", "cat"]);
    expect(engine.getAgent("bob")).toMatchObject({ load: { chat: 1 }, reserved: { chat: 0 } });
    expect(engine.getAgent("ann")?.reserved).toEqual({ chat: 0 });
    expect(errorOf(engine.acceptOffer("t1", "ann", T0 + 2_001)).code).toBe("OWNERSHIP_CONFLICT");
    expect(engine.nextOfferExpiry()).toBeNull();
  });

  it("tops up parallel offers when a decline leaves room", () => {
    const engine = engineWith([billing("ann"), billing("bob"), billing("cat")], [invoices5], { maxParallelOffers: 2 });
    unwrap(engine.routeTicket("t1", T0));
    unwrap(engine.declineOffer("t1", "ann", T0 + 1));
    const more = unwrap(engine.routeTicket("t1", T0 + 1));
    expect(more.offers.map((o) => o.agentId)).toEqual(["cat"]);
    expect(explanationOf(more.decision).passedOverCounts).toMatchObject({ "offer-pending": 1, "previously-offered": 1 });
  });

  it("reserves a slot per pending offer so no agent is offered more than capacity", () => {
    const engine = engineWith(
      [billing("ann", { capacity: { phone: 1 } })],
      [
        { ...invoices5, id: "call-1", channel: "phone" },
        { ...invoices5, id: "call-2", channel: "phone" },
      ],
    );
    expect(unwrap(engine.routeTicket("call-1", T0)).offers).toHaveLength(1);
    expect(ticketDecision(engine, "call-2")).toMatchObject({ kind: "no-eligible-agent", explanation: { passedOverCounts: { "no-capacity": 1 } } });
    expect(errorOf(engine.makeOffer("call-2", "ann", T0)).code).toBe("INVALID_INPUT");
  });

  it("withdraws an agent's pending offers when they go away, so the ticket can go to someone else", () => {
    const engine = engineWith([billing("ann"), billing("bob")], [invoices5]);
    unwrap(engine.routeTicket("t1", T0));
    const { withdrawnOffers } = unwrap(engine.setPresence("ann", "away", T0 + 5));
    expect(withdrawnOffers.map((w) => w.offer.agentId)).toEqual(["ann"]);
    expect(engine.getAgent("ann")?.reserved).toEqual({ chat: 0 });
    expect(unwrap(engine.routeTicket("t1", T0 + 5)).offers.map((o) => o.agentId)).toEqual(["bob"]);
    unwrap(engine.setPresence("bob", "offline", T0 + 6));
    unwrap(engine.setPresence("ann", "available", T0 + 7));
    // A withdrawal is not a pass: ann is a fresh candidate again.
    expect(ticketDecision(engine, "t1", T0 + 7)).toMatchObject({ agentIds: ["ann"], explanation: { chosen: [{ previouslyOffered: false }] } });
  });

  it("refuses late accepts, unknown offers and expired offers", () => {
    const engine = engineWith([billing("ann"), billing("bob")], [invoices5]);
    unwrap(engine.routeTicket("t1", T0));
    expect(errorOf(engine.acceptOffer("t1", "bob", T0)).code).toBe("OFFER_NOT_FOUND");
    expect(errorOf(engine.acceptOffer("t1", "ann", T0 + 30_000)).code).toBe("OFFER_EXPIRED");
    expect(errorOf(engine.acceptOffer("nope", "ann", T0)).code).toBe("TICKET_NOT_FOUND");
  });
});

describe("ownership through the engine", () => {
  const ann = anAgent({ id: "ann", groups: ["billing"], skills: { invoices: 5 } });
  const bob = anAgent({ id: "bob", groups: ["billing"], skills: { invoices: 5 }, capacity: { chat: 1 } });

  function ownedByAnn(): RoutingEngine {
    const engine = engineWith([ann, bob], [invoices5]);
    unwrap(engine.makeOffer("t1", "ann", T0));
    unwrap(engine.acceptOffer("t1", "ann", T0 + 1));
    return engine;
  }

  it("refuses a transfer by an agent and keeps the owner", () => {
    const engine = ownedByAnn();
    expect(errorOf(engine.requestTransfer("t1", "ann", "bob")).code).toBe("OWNERSHIP_CONFLICT");
    expect(errorOf(engine.reassignTicket("t1", { actor: { id: "ann", role: "agent" }, toAgentId: "bob", reason: "x" }, T0)).code).toBe("OWNERSHIP_CONFLICT");
    expect(engine.getTicket("t1")?.ownership.ownerId).toBe("ann");
  });

  it("lets only the owner resolve, then frees their slot and forgets the ticket", () => {
    const engine = ownedByAnn();
    expect(errorOf(engine.resolveTicket("t1", "bob", T0 + 2)).code).toBe("NOT_OWNER");
    const { ownership, agent } = unwrap(engine.resolveTicket("t1", "ann", T0 + 2));
    expect(ownership).toMatchObject({ status: "resolved", ownerId: null, lastOwnerId: "ann" });
    expect(agent?.load).toEqual({ chat: 0 });
    expect(engine.getTicket("t1")).toBeUndefined();
  });

  it("moves the work on supervisor reassignment, with the reason recorded", () => {
    const engine = ownedByAnn();
    expect(errorOf(engine.reassignTicket("t1", { actor: { id: "sue", role: "supervisor" }, toAgentId: "bob", reason: "" }, T0)).code).toBe("REASON_REQUIRED");
    const { ownership } = unwrap(engine.reassignTicket("t1", { actor: { id: "sue", role: "supervisor" }, toAgentId: "bob", reason: "ann's shift ended" }, T0 + 5));
    expect(ownership).toMatchObject({ ownerId: "bob", lastReassignment: { supervisorId: "sue", fromAgentId: "ann", reason: "ann's shift ended" } });
    expect(engine.getAgent("ann")?.load).toEqual({ chat: 0 });
    expect(engine.getAgent("bob")?.load).toEqual({ chat: 1 });
    expect(errorOf(engine.reassignTicket("t1", { actor: { id: "sue", role: "supervisor" }, toAgentId: "ghost", reason: "x" }, T0)).code).toBe("AGENT_NOT_FOUND");
  });

  it("holds reassigned work for a new owner who is full, and delivers it when a slot frees", () => {
    const engine = ownedByAnn();
    unwrap(engine.upsertAgent({ ...bob, load: { chat: 1 } }, T0));
    unwrap(engine.reassignTicket("t1", { actor: { id: "sue", role: "supervisor" }, toAgentId: "bob", reason: "escalated" }, T0 + 5));
    expect(engine.getTicket("t1")).toMatchObject({ heldForOwner: true, ownership: { ownerId: "bob" } });
    expect(engine.getAgent("bob")?.load).toEqual({ chat: 1 });
    unwrap(engine.upsertAgent({ ...bob, load: { chat: 0 } }, T0 + 6));
    const routed = unwrap(engine.routeAgent("bob", T0 + 6));
    expect(routed.decision).toMatchObject({ kind: "deliver-owned-work", ticketId: "t1", explanation: { chosen: { via: "owner" } } });
    expect(engine.getAgent("bob")?.load).toEqual({ chat: 1 });
    expect(engine.getTicket("t1")?.heldForOwner).toBe(false);
  });

  it("returns a ticket reopened within 7 days to its last owner, and queues it after", () => {
    const engine = ownedByAnn();
    const { ownership: resolved } = unwrap(engine.resolveTicket("t1", "ann", T0 + 10));
    const reopened = unwrap(engine.reopenTicket(resolved, { ...invoices5, enqueuedAt: T0 + 86_400_000 }, T0 + 86_400_000));
    expect(reopened).toMatchObject({ heldForOwner: false, ownership: { status: "owned", ownerId: "ann" } });
    expect(engine.getAgent("ann")?.load).toEqual({ chat: 1 });

    const { ownership: resolvedAgain } = unwrap(engine.resolveTicket("t1", "ann", T0 + 2 * 86_400_000));
    const late = T0 + 10 * 86_400_000;
    const queued = unwrap(engine.reopenTicket(resolvedAgain, { ...invoices5, enqueuedAt: late }, late));
    expect(queued.ownership).toMatchObject({ status: "waiting", ownerId: null, lastOwnerId: "ann" });
    expect(unwrap(engine.routeTicket("t1", late)).offers).toHaveLength(1);
  });

  it("holds a reopened ticket for an owner who is away, and never offers it to anyone else", () => {
    const engine = ownedByAnn();
    const { ownership: resolved } = unwrap(engine.resolveTicket("t1", "ann", T0 + 10));
    unwrap(engine.setPresence("ann", "away", T0 + 20));
    const reopened = unwrap(engine.reopenTicket(resolved, invoices5, T0 + 30));
    expect(reopened).toMatchObject({ heldForOwner: true, ownership: { ownerId: "ann" } });
    expect(agentDecision(engine, "bob", T0 + 31).kind).toBe("no-eligible-ticket");
    expect(unwrap(engine.routeFollowUp("t1"))).toEqual({ kind: "hold-for-owner", ownerId: "ann", ownerPresence: "away" });
    unwrap(engine.setPresence("ann", "available", T0 + 40));
    expect(unwrap(engine.routeFollowUp("t1"))).toEqual({ kind: "deliver-to-owner", ownerId: "ann" });
    expect(agentDecision(engine, "ann", T0 + 41)).toMatchObject({ kind: "deliver-owned-work", ticketId: "t1" });
  });

  it("adds collaborators without changing the owner", () => {
    const engine = ownedByAnn();
    const ownership = unwrap(engine.addCollaborator("t1", "bob", T0 + 3));
    expect(ownership).toMatchObject({ ownerId: "ann", collaborators: ["bob"] });
    expect(errorOf(engine.resolveTicket("t1", "bob", T0 + 4)).code).toBe("NOT_OWNER");
  });

  it("withdraws a waiting ticket with its pending offers", () => {
    const engine = engineWith([ann], [invoices5]);
    unwrap(engine.routeTicket("t1", T0));
    expect(unwrap(engine.withdrawTicket("t1", T0 + 1)).withdrawnOffers).toHaveLength(1);
    expect(engine.getAgent("ann")?.reserved).toEqual({ chat: 0 });
    expect(engine.stats()).toMatchObject({ waitingTickets: 0, queuedTickets: 0, pendingOffers: 0 });
  });
});

describe("agents and tickets coming and going", () => {
  const ann = anAgent({ id: "ann", groups: ["billing"], skills: { invoices: 5 } });

  it("restores a waiting ticket with its history, and owned work already in its owner's load", () => {
    const engine = engineWith([ann, anAgent({ id: "bob", groups: ["billing"], skills: { invoices: 5 } })]);
    const waitingState = { ...newWaitingTicket("t1", "chat"), passedBy: [{ agentId: "ann", at: T0 - 5, outcome: "declined" as const }], version: 4 };
    const restored = unwrap(engine.restoreTicket(invoices5, waitingState, false, T0));
    expect(restored.ownership.version).toBe(4);
    // ann passed on it before the restart: bob is offered first.
    expect(ticketDecision(engine, "t1")).toMatchObject({ agentIds: ["bob"] });

    const ownedState = { ...newWaitingTicket("t2", "chat"), status: "owned" as const, ownerId: "ann", lastOwnerId: "ann" };
    unwrap(engine.restoreTicket({ ...invoices5, id: "t2" }, ownedState, false, T0));
    expect(unwrap(engine.routeFollowUp("t2"))).toEqual({ kind: "deliver-to-owner", ownerId: "ann" });
    expect(errorOf(engine.restoreTicket(invoices5, { ...waitingState, ticketId: "other" }, false, T0)).code).toBe("INVALID_INPUT");
  });

  it("withdraws a removed agent's offers; the ticket goes back to the queue", () => {
    const engine = engineWith([ann], [invoices5]);
    unwrap(engine.routeTicket("t1", T0));
    expect(unwrap(engine.removeAgent("ann", T0 + 1)).withdrawnOffers.map((w) => w.offer.agentId)).toEqual(["ann"]);
    expect(engine.getAgent("ann")).toBeUndefined();
    expect(engine.stats()).toMatchObject({ agents: 0, queuedTickets: 1, pendingOffers: 0 });
    expect(errorOf(engine.removeAgent("ann", T0)).code).toBe("AGENT_NOT_FOUND");
  });

  it("refuses to decide for, or withdraw, a ticket that is not waiting", () => {
    const engine = engineWith([ann], [invoices5]);
    unwrap(engine.makeOffer("t1", "ann", T0));
    unwrap(engine.acceptOffer("t1", "ann", T0));
    expect(errorOf(engine.decideForTicket("t1", T0)).code).toBe("TICKET_NOT_WAITING");
    expect(errorOf(engine.withdrawTicket("t1", T0)).code).toBe("TICKET_NOT_WAITING");
    expect(errorOf(engine.decideForTicket("nope", T0)).code).toBe("TICKET_NOT_FOUND");
    expect(unwrap(engine.routeFollowUp("t1"))).toEqual({ kind: "deliver-to-owner", ownerId: "ann" });
  });

  it("re-files an agent whose profile changes: new skills make them eligible", () => {
    const engine = engineWith([{ ...ann, skills: { invoices: 1 } }], [invoices5]);
    expect(ticketDecision(engine, "t1").kind).toBe("no-eligible-agent");
    unwrap(engine.upsertAgent(ann, T0));
    expect(ticketDecision(engine, "t1")).toMatchObject({ agentIds: ["ann"] });
  });
});

describe("engine input", () => {
  it("rejects invalid agents and tickets, and a ticket enqueued twice", () => {
    const engine = new RoutingEngine();
    expect(errorOf(engine.upsertAgent(anAgent({ id: "a", skills: { x: 0 } }), T0)).code).toBe("INVALID_INPUT");
    unwrap(engine.enqueueTicket(aTicket({ id: "t" }), T0));
    expect(errorOf(engine.enqueueTicket(aTicket({ id: "t" }), T0)).code).toBe("INVALID_INPUT");
    expect(() => new RoutingEngine({ maxParallelOffers: 0 })).toThrow(/maxParallelOffers/);
  });
});
