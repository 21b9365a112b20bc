// The cache keeps the newest version it was told of, forgets a ticket only up to the version a lost write
// started from, and stays within its size.
import { describe, expect, it } from "vitest";
import { newTicketDoc } from "./domain-mapping.ts";
import type { TicketDoc } from "./routing-store.ts";
import { TicketCache } from "./ticket-cache.ts";
import { offerAgentOn, ticketIdOfOffer } from "./ticket-ledger.ts";

function ticket(id: string, version: number): TicketDoc {
  return { ...newTicketDoc({ ticketId: id, channel: "email", group: "g", overflowGroup: null, language: "en", priority: "P3", requiredSkills: [], subject: "s" }, 1), version };
}

describe("TicketCache", () => {
  it("never goes back to an older version", () => {
    const cache = new TicketCache();
    cache.remember(ticket("a", 3));
    cache.remember(ticket("a", 2));
    expect(cache.get("a")?.version).toBe(3);
    cache.remember(ticket("a", 4));
    expect(cache.get("a")?.version).toBe(4);
  });

  it("forgets a ticket only when it knows nothing newer than the refused write's version", () => {
    const cache = new TicketCache();
    cache.remember(ticket("a", 5));
    cache.forget("a", 4);
    expect(cache.get("a")?.version).toBe(5);
    cache.forget("a", 5);
    expect(cache.get("a")).toBeUndefined();
  });

  it("drops the least recently remembered ticket beyond its limit", () => {
    const cache = new TicketCache(2);
    cache.remember(ticket("a", 1));
    cache.remember(ticket("b", 1));
    cache.remember(ticket("a", 2));
    cache.remember(ticket("c", 1));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.version).toBe(2);
    expect(cache.get("c")?.version).toBe(1);
  });
});

describe("offers on the ticket", () => {
  it("finds the ticket of an offer id, including ids with colons", () => {
    expect(ticketIdOfOffer("t-1:3")).toBe("t-1");
    expect(ticketIdOfOffer("mail:abc:12")).toBe("mail:abc");
    expect(ticketIdOfOffer("no-such-offer")).toBeNull();
    expect(ticketIdOfOffer(":1")).toBeNull();
    expect(ticketIdOfOffer("t:x")).toBeNull();
  });

  it("knows who an offer went to from pending offers, kept offers or history", () => {
    const doc = ticket("t", 3);
    doc.pendingOffers = [{ offerId: "t:3", ticketId: "t", agentId: "cat", channel: "email", offeredAt: 1, expiresAt: 2 }];
    doc.offers = [{ offerId: "t:2", agentId: "bob", offeredAt: 1, expiresAt: 2, explanation: {} }];
    doc.history = [{ at: 1, version: 1, type: "offer.made", actor: "routing", detail: { offerId: "t:1", agentId: "amy" } }];
    expect(offerAgentOn(doc, "t:3")).toBe("cat");
    expect(offerAgentOn(doc, "t:2")).toBe("bob");
    expect(offerAgentOn(doc, "t:1")).toBe("amy");
    expect(offerAgentOn(doc, "t:4")).toBeNull();
  });
});
