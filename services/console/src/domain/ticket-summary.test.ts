// The ticket fold: order-tolerant across topics, idempotent on replay, and SLA risk from the clocks.
import { describe, expect, it } from "vitest";
import type { TicketEvent } from "./console-events.ts";
import { foldTicket, slaRisk, type TicketSummary } from "./ticket-summary.ts";

const t0 = Date.parse("2026-12-05T10:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000);
const meta = (s: number, id: string) => ({ eventId: id, ticketId: "t-1", at: at(s) });

const received: TicketEvent = {
  ...meta(0, "e1"),
  kind: "received",
  channel: "email",
  customerId: "c-1",
  customerName: "Dana",
  customerLanguage: "he",
  subject: "שלום",
  reference: "ST-1",
};
const triaged: TicketEvent = {
  ...meta(1, "e2"),
  kind: "triaged",
  language: "he",
  intent: "billing",
  priority: "P2",
  group: "billing",
  repeatContactCount: 0,
  reasons: ["invoice"],
};
const offered: TicketEvent = { ...meta(2, "e3"), kind: "offerMade", agentId: "ada", offerId: "o-1", expiresAt: at(32), why: "best skill" };
const declined: TicketEvent = { ...meta(3, "e4"), kind: "offerClosed", agentId: "ada", offerId: "o-1", outcome: "declined" };
const offered2: TicketEvent = { ...meta(4, "e5"), kind: "offerMade", agentId: "bo", offerId: "o-2", expiresAt: at(34), why: "next" };
const assigned: TicketEvent = { ...meta(5, "e6"), kind: "assigned", agentId: "bo", offerId: "o-2" };
const resolved: TicketEvent = { ...meta(9, "e7"), kind: "resolved", agentId: "bo" };

const fold = (events: TicketEvent[]): TicketSummary => events.reduce<TicketSummary | undefined>((s, e) => foldTicket(s, e), undefined) as TicketSummary;
const essence = (s: TicketSummary) => ({ ...s, updatedAt: "" });

describe("foldTicket", () => {
  it("follows a ticket from received to resolved", () => {
    const s = fold([received, triaged, offered, declined, offered2, assigned]);
    expect(s).toMatchObject({
      status: "assigned",
      ownerId: "bo",
      group: "billing",
      language: "he",
      reference: "ST-1",
      firstOfferAt: at(2).toISOString(),
      assignedAt: at(5).toISOString(),
    });
    expect(s.offers.map((o) => [o.agentId, o.outcome])).toEqual([
      ["ada", "declined"],
      ["bo", "accepted"],
    ]);
    expect(fold([received, triaged, offered, declined, offered2, assigned, resolved])).toMatchObject({ status: "resolved", ownerId: null, resolvedAt: at(9).toISOString() });
  });

  it("reaches the same summary whatever the order across topics", () => {
    const inOrder = fold([received, triaged, offered, declined, offered2, assigned]);
    // Routing's events first, then triage's, then intake's: each topic keeps its own order.
    const routingFirst = fold([offered, declined, offered2, assigned, triaged, received]);
    expect(essence(routingFirst)).toEqual(essence(inOrder));
  });

  it("is a no-op when an event is replayed", () => {
    const once = fold([received, triaged, offered, declined, offered2, assigned]);
    const twice = fold([received, triaged, offered, declined, offered2, assigned, offered, declined, assigned, triaged]);
    expect(essence(twice)).toEqual(essence(once));
  });

  it("keeps the owner a supervisor reassigned to, and reopens to the owner", () => {
    const s = foldTicket(fold([received, triaged, offered2, assigned]), {
      ...meta(6, "e8"),
      kind: "reassigned",
      fromAgentId: "bo",
      toAgentId: "cy",
      supervisorId: "sam",
      reason: "holiday",
    });
    expect(s.ownerId).toBe("cy");
    const reopened = foldTicket(foldTicket(s, { ...meta(7, "e9"), kind: "resolved", agentId: "cy" }), { ...meta(8, "e10"), kind: "reopened", ownerId: "cy" });
    expect(reopened).toMatchObject({ status: "assigned", ownerId: "cy", resolvedAt: null });
  });

  it("keeps the latest SLA clocks and tells at risk and breached", () => {
    const sla = (s: number, due: number, extra: Partial<{ warnings: string[]; breaches: string[]; paused: boolean }> = {}): TicketEvent => ({
      ...meta(s, `sla-${s}`),
      kind: "slaUpdated",
      firstResponseDue: at(due),
      nextResponseDue: null,
      resolutionDue: at(due + 3600),
      paused: false,
      warnings: [],
      breaches: [],
      ...extra,
    });
    const s = fold([received, triaged, sla(2, 600), sla(1, 60)]);
    expect(s.sla?.firstResponseDue).toBe(at(600).toISOString());
    expect(slaRisk(s, at(0), 300_000)).toBe("ok");
    expect(slaRisk(s, at(400), 300_000)).toBe("at_risk");
    expect(slaRisk(s, at(601), 300_000)).toBe("breached");
    expect(slaRisk(foldTicket(s, sla(3, 600, { paused: true })), at(500), 300_000)).toBe("ok");
    expect(slaRisk(foldTicket(s, sla(3, 600, { breaches: ["first_response"] })), at(0), 300_000)).toBe("breached");
    expect(slaRisk(foldTicket(s, resolved), at(9999), 300_000)).toBe("ok");
  });
});
