// Derived ids: the same delivery always makes the same ids, and without the secret they cannot be made.
import { describe, expect, it } from "vitest";
import { derivedEventId, newTicketIds } from "./event-ids.ts";

describe("newTicketIds", () => {
  it("makes the same ticket and message ids for the same delivery, others for another delivery or secret", () => {
    const a = newTicketIds("secret-1", "integration\u0000ext-1");
    expect(newTicketIds("secret-1", "integration\u0000ext-1")).toEqual(a);
    expect(a.ticketId).not.toBe(a.messageId);
    expect(newTicketIds("secret-1", "integration\u0000ext-2").ticketId).not.toBe(a.ticketId);
    expect(newTicketIds("secret-2", "integration\u0000ext-1").ticketId).not.toBe(a.ticketId);
    expect(a.ticketId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("leaves event ids as they were (a re-published event must keep its id across versions)", () => {
    expect(derivedEventId("abc")).toBe("ba7816bf-8f01-cfea-4141-40de5dae2223");
  });
});
