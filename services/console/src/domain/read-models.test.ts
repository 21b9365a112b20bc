// Queues, agents, analytics and visibility computed from ticket summaries.
import { describe, expect, it } from "vitest";
import { agentSnapshot, foldAgent } from "./agent-snapshot.ts";
import { analytics, percentile } from "./analytics.ts";
import { queueSnapshots } from "./queue-snapshot.ts";
import { canSee, scopeOf } from "./ticket-search.ts";
import { emptySummary, type TicketSummary } from "./ticket-summary.ts";

const now = new Date("2026-12-05T12:00:00Z");
const ago = (min: number) => new Date(now.getTime() - min * 60_000).toISOString();

function ticket(id: string, patch: Partial<TicketSummary>): TicketSummary {
  return { ...emptySummary(id, now), receivedAt: ago(10), status: "waiting", group: "billing", ...patch };
}

const tickets = [
  ticket("a", { receivedAt: ago(30) }),
  ticket("b", {
    receivedAt: ago(5),
    status: "offered",
    offers: [{ offerId: "o1", agentId: "ada", madeAt: ago(4), expiresAt: null, why: "", outcome: null }],
    firstOfferAt: ago(4),
  }),
  ticket("c", {
    status: "assigned",
    ownerId: "ada",
    channel: "chat",
    firstOfferAt: ago(9),
    assignedAt: ago(8),
    intent: "refund",
    offers: [
      { offerId: "o0", agentId: "bo", madeAt: ago(9.5), expiresAt: null, why: "", outcome: "declined" },
      { offerId: "o2", agentId: "ada", madeAt: ago(9), expiresAt: null, why: "", outcome: "accepted" },
    ],
  }),
  ticket("d", {
    status: "resolved",
    group: "orders",
    intent: "refund",
    repeatContactCount: 2,
    sla: { firstResponseDue: ago(-5), nextResponseDue: null, resolutionDue: null, paused: false, warnings: [], breaches: [], at: ago(1) },
  }),
  ticket("e", {
    group: "orders",
    receivedAt: ago(2000),
    sla: { firstResponseDue: ago(1), nextResponseDue: null, resolutionDue: null, paused: false, warnings: [], breaches: ["first_response"], at: ago(1) },
  }),
];

describe("queueSnapshots", () => {
  it("counts waiting, oldest wait, at risk and breached per group, listing quiet groups too", () => {
    const q = queueSnapshots(tickets, now, 15 * 60_000, ["vip"]);
    expect(q.map((x) => x.group)).toEqual(["billing", "orders", "vip"]);
    expect(q[0]).toMatchObject({ waiting: 2, offered: 1, oldestWaitMs: 30 * 60_000, open: 3, breached: 0 });
    expect(q[1]).toMatchObject({ waiting: 1, breached: 1, open: 1 });
    expect(q[2]).toMatchObject({ waiting: 0, oldestWaitMs: 0 });
  });
});

describe("agentSnapshot", () => {
  it("shows presence, load per channel against capacity, current tickets and declines", () => {
    let ada = foldAgent(undefined, {
      kind: "profile",
      agentId: "ada",
      at: new Date(ago(60)),
      name: "Ada",
      groups: ["billing"],
      languages: ["en"],
      capacity: { chat: 2, email: 3 },
    });
    ada = foldAgent(ada, { kind: "presence", agentId: "ada", at: new Date(ago(1)), status: "available" });
    // An older presence change arriving late changes nothing.
    ada = foldAgent(ada, { kind: "presence", agentId: "ada", at: new Date(ago(50)), status: "offline" });
    const snap = agentSnapshot(ada, tickets, new Date(ago(24 * 60)));
    expect(snap).toMatchObject({ presence: "available", currentTickets: ["c"], declines: 0, load: { chat: { owned: 1, capacity: 2 }, email: { owned: 0, capacity: 3 } } });
    const bo = agentSnapshot(foldAgent(undefined, { kind: "presence", agentId: "bo", at: now, status: "away" }), tickets, new Date(ago(60)));
    expect(bo.declines).toBe(1);
  });
});

describe("analytics", () => {
  it("summarises the last 24 hours", () => {
    const a = analytics(tickets, now);
    expect(a.ticketsIn).toBe(4);
    expect(a.ticketsInByHour).toHaveLength(24);
    expect(a.ticketsInByHour.reduce((n, b) => n + b.count, 0)).toBe(4);
    expect(a.timeToFirstOffer).toEqual({ count: 2, p50Ms: 60_000, p90Ms: 60_000 });
    expect(a.timeToOwner).toEqual({ count: 1, p50Ms: 120_000, p90Ms: 120_000 });
    expect(a.slaAttainment).toEqual({ met: 1, breached: 0, ratio: 1 });
    expect(a.repeatContacts).toBe(1);
    expect(a.topIntents).toEqual([{ intent: "refund", count: 2 }]);
    expect(a.declinesPerAgent).toEqual([
      { agentId: "bo", declines: 1, offers: 1 },
      { agentId: "ada", declines: 0, offers: 2 },
    ]);
  });

  it("takes nearest-rank percentiles", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});

describe("visibility", () => {
  const c = tickets[2] as TicketSummary;
  const b = tickets[1] as TicketSummary;
  it("lets agents see what they own or are offered, supervisors their groups, admins all", () => {
    expect(canSee(scopeOf({ id: "ada", roles: new Set(["agent"]), groups: [] }), c)).toBe(true);
    expect(canSee(scopeOf({ id: "ada", roles: new Set(["agent"]), groups: [] }), b)).toBe(true);
    expect(canSee(scopeOf({ id: "bo", roles: new Set(["agent"]), groups: ["billing"] }), c)).toBe(false);
    expect(canSee(scopeOf({ id: "sam", roles: new Set(["supervisor"]), groups: ["orders"] }), c)).toBe(false);
    expect(canSee(scopeOf({ id: "sam", roles: new Set(["supervisor"]), groups: ["billing"] }), c)).toBe(true);
    expect(canSee(scopeOf({ id: "root", roles: new Set(["admin"]), groups: [] }), c)).toBe(true);
  });
});
