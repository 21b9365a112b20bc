// The engine mirrors stored tickets and agents exactly: pending offers keep their slot and their expiry,
// owned work counts in its owner's load, forgetting a ticket gives its slots back, and an offer the engine
// cannot take back (the agent left) is reported for withdrawal.
import { describe, expect, it } from "vitest";
import { DEFAULT_ROUTING_CONFIG, RoutingEngine, freeCapacity, type Offer } from "./domain/index.ts";
import { newTicketDoc } from "./domain-mapping.ts";
import { EngineMirror } from "./engine-mirror.ts";
import type { AgentDoc, TicketDoc } from "./routing-store.ts";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function agentDoc(id: string, overrides: Partial<AgentDoc> = {}): AgentDoc {
  return {
    _id: id,
    version: 1,
    name: id,
    groups: ["support"],
    skills: {},
    languages: ["en"],
    capacity: { email: 1 },
    free: { email: 1 },
    holds: {},
    presence: "available",
    presenceChangedAt: T0 - 60_000,
    idleSince: T0 - 60_000,
    createdAt: T0 - 60_000,
    updatedAt: T0 - 60_000,
    ...overrides,
  };
}

function ticketDoc(id: string, overrides: Partial<TicketDoc> = {}): TicketDoc {
  return {
    ...newTicketDoc({ ticketId: id, channel: "email", group: "support", overflowGroup: null, language: "en", priority: "P3", requiredSkills: [], subject: "" }, T0),
    ...overrides,
  };
}

function offerTo(ticketId: string, agentId: string, offeredAt: number): Offer {
  return { offerId: `${ticketId}:1`, ticketId, agentId, channel: "email", offeredAt, expiresAt: offeredAt + DEFAULT_ROUTING_CONFIG.offerTimeoutMs.email };
}

function mirror(): EngineMirror {
  return new EngineMirror(new RoutingEngine(DEFAULT_ROUTING_CONFIG), DEFAULT_ROUTING_CONFIG.defaultRelaxation);
}

describe("EngineMirror", () => {
  it("takes back a stored pending offer with its slot and its original expiry", () => {
    const m = mirror();
    m.putAgent(agentDoc("ana"), T0);
    const offer = offerTo("t1", "ana", T0 - 5_000);
    const result = m.putTicket("t1", ticketDoc("t1", { version: 2, pendingOffers: [offer], offersMade: 1 }), T0);
    expect(result.orphanOffers).toEqual([]);
    expect(freeCapacity(m.engine.getAgent("ana")!, "email")).toBe(0);
    expect(m.engine.nextOfferExpiry()).toBe(offer.expiresAt);
    // Another ticket finds nobody: the slot is taken.
    m.putTicket("t2", ticketDoc("t2"), T0);
    const decided = m.engine.decideForTicket("t2", T0);
    expect(decided.ok && decided.value.kind).toBe("no-eligible-agent");
  });

  it("counts owned work in the owner's load and gives the slot back when the ticket is resolved", () => {
    const m = mirror();
    m.putAgent(agentDoc("ana"), T0);
    m.putTicket("t1", ticketDoc("t1", { status: "owned", ownerId: "ana", lastOwnerId: "ana", version: 3 }), T0);
    expect(m.engine.getAgent("ana")?.load).toEqual({ email: 1 });
    const resolved = m.putTicket("t1", ticketDoc("t1", { status: "resolved", ownerId: null, lastOwnerId: "ana", version: 4, resolvedAt: T0 }), T0);
    expect(resolved.freedAgents).toEqual(["ana"]);
    expect(m.engine.getAgent("ana")?.load).toEqual({ email: 0 });
    expect(m.ticketDoc("t1")).toBeUndefined();
  });

  it("does not count owned work held for an away owner", () => {
    const m = mirror();
    m.putAgent(agentDoc("ana", { presence: "away" }), T0);
    m.putTicket("t1", ticketDoc("t1", { status: "owned", ownerId: "ana", heldForOwner: true }), T0);
    expect(m.engine.getAgent("ana")?.load).toEqual({});
    expect(m.engine.getTicket("t1")?.heldForOwner).toBe(true);
  });

  it("reports a stored offer it cannot take back, and keeps the agent's load when a profile changes", () => {
    const m = mirror();
    m.putAgent(agentDoc("ana", { presence: "away" }), T0);
    const result = m.putTicket("t1", ticketDoc("t1", { pendingOffers: [offerTo("t1", "ana", T0)], offersMade: 1 }), T0);
    expect(result.orphanOffers.map((o) => o.agentId)).toEqual(["ana"]);

    m.putAgent(agentDoc("bob", { capacity: { email: 2 } }), T0);
    m.putTicket("t2", ticketDoc("t2", { status: "owned", ownerId: "bob" }), T0);
    m.putAgent(agentDoc("bob", { version: 2, capacity: { email: 3 }, skills: { billing: 4 } }), T0);
    expect(m.engine.getAgent("bob")).toMatchObject({ load: { email: 1 }, capacity: { email: 3 }, skills: { billing: 4 } });
  });

  it("withdraws the engine's offers of an agent who is no longer available", () => {
    const m = mirror();
    m.putAgent(agentDoc("ana"), T0);
    m.putTicket("t1", ticketDoc("t1", { pendingOffers: [offerTo("t1", "ana", T0)], offersMade: 1 }), T0);
    const withdrawn = m.putAgent(agentDoc("ana", { version: 2, presence: "offline" }), T0 + 1_000);
    expect(withdrawn.map((w) => w.offer.ticketId)).toEqual(["t1"]);
  });
});
