// Event ids derived from the stored version let a reader skip what it has seen; outboxes decode to the
// envelopes they stored; "nobody eligible" reads as counts per reason.
import { describe, expect, it } from "vitest";
import { Topics } from "@steward/proto";
import { decodeOutboxEntry, pending, ticketEventId, ticketOutbox, versionOfEventId, agentEventId, noEligibleReasons } from "./routing-events.ts";
import type { TicketDecisionExplanation } from "./domain/index.ts";

describe("routing events", () => {
  it("derives ids from the version, readable back", () => {
    expect(versionOfEventId(ticketEventId("t:1/x", 7, 0))).toBe(7);
    expect(versionOfEventId(agentEventId("ana", 3, "presence"))).toBe(3);
    expect(versionOfEventId("a-triage-event/follow-up")).toBeNull();
  });

  it("stores envelopes in the outbox and decodes them unchanged", () => {
    const at = new Date(Date.UTC(2026, 0, 5));
    const [entry] = ticketOutbox("t1", 4, [pending("ticketResolved", { agentId: "ana" })], at);
    expect(entry?.topic).toBe(Topics.routing);
    const envelope = decodeOutboxEntry(entry!);
    expect(envelope).toMatchObject({
      eventId: "routing/t/t1/4/0",
      ticketId: "t1",
      type: "ticket.resolved",
      occurredAt: at,
      payload: { $case: "ticketResolved", value: { agentId: "ana" } },
    });
  });

  it("explains nobody eligible with counts per reason", () => {
    const explanation = {
      agentsTotal: 3,
      candidatesConsidered: 0,
      groups: ["vip"],
      passedOverCounts: { "not-in-group": 3, "not-available": 0 },
      missingSkillCounts: {},
    } as unknown as TicketDecisionExplanation;
    expect(noEligibleReasons(explanation)).toEqual(["3 agent(s): not-in-group", "no agent in vip"]);
  });
});
