// Stored documents map onto the domain's data and back without losing ownership state; capacity is what
// the holds leave free; widen_routing relaxes at once only the steps it names.
import { describe, expect, it } from "vitest";
import { DEFAULT_RELAXATION, acceptOffer, makeOffer } from "./domain/index.ts";
import { freeFor, newTicketDoc, ownershipOf, waitingTicketOf, withOwnership } from "./domain-mapping.ts";
import { holdKey } from "./routing-store.ts";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const doc = newTicketDoc(
  {
    ticketId: "t.1",
    channel: "chat",
    group: "billing",
    overflowGroup: "billing",
    language: "en",
    priority: "P2",
    requiredSkills: [{ name: "billing", minLevel: 3, optional: false }],
    subject: "s",
  },
  T0,
);

describe("domain mapping", () => {
  it("runs the domain's transitions on stored ownership and writes the result one version up", () => {
    const offered = makeOffer(ownershipOf(doc), { agentId: "ana", now: T0, timeoutMs: 30_000, maxParallelOffers: 1 });
    if (!offered.ok) throw offered.error;
    const afterOffer = withOwnership(doc, offered.value.state, T0);
    expect(afterOffer).toMatchObject({ version: 1, status: "waiting", offersMade: 1, pendingOffers: [{ offerId: "t.1:1", agentId: "ana" }] });
    const accepted = acceptOffer(ownershipOf(afterOffer), "ana", T0 + 1_000);
    if (!accepted.ok) throw accepted.error;
    expect(withOwnership(afterOffer, accepted.value.state, T0 + 1_000)).toMatchObject({ version: 2, status: "owned", ownerId: "ana", lastOwnerId: "ana", pendingOffers: [] });
  });

  it("gives the engine a ticket without a self-overflow and with the default relaxation", () => {
    const ticket = waitingTicketOf(doc, DEFAULT_RELAXATION);
    expect(ticket.overflowGroup).toBeUndefined();
    expect(ticket.relaxation).toBe(DEFAULT_RELAXATION);
    expect(ticket.priority).toBe("P2");
  });

  it("escapes ticket ids into hold field names", () => {
    expect(holdKey("abc-1_2")).toBe("t_abc-1_2");
    expect(holdKey("a.b$c")).toBe("t_a~2e~b~24~c");
    expect(holdKey("a.b")).not.toBe(holdKey("a~2e~b"));
  });

  it("counts free capacity as capacity minus holds", () => {
    expect(freeFor({ email: 2, chat: 1 }, [{ ticketId: "x", channel: "email", kind: "owned", at: 1 }])).toEqual({ email: 1, chat: 1 });
    expect(
      freeFor({ email: 1 }, [
        { ticketId: "x", channel: "email", kind: "owned", at: 1 },
        { ticketId: "y", channel: "email", kind: "offer", at: 1 },
      ]),
    ).toEqual({ email: -1 });
  });
});
