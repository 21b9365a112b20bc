// Repeat-contact counting over the stored contact list (which may hold a ticket twice after a redelivery).
import { describe, expect, it } from "vitest";
import { countRecentByIntent, MAX_REMEMBERED_CONTACTS, type Contact } from "./triage-store.ts";

const day = 86_400_000;
const now = new Date("2026-03-10T12:00:00Z");
const contact = (ticketId: string, intent: string, daysAgo: number): Contact => ({ ticketId, intent, at: new Date(now.getTime() - daysAgo * day) });
const weekAgo = new Date(now.getTime() - 7 * day);

describe("countRecentByIntent", () => {
  it("counts the customer's other tickets in the window by intent", () => {
    const contacts = [contact("t1", "orders", 8), contact("t2", "orders", 3), contact("t3", "billing", 1), contact("t4", "orders", 0)];
    expect(countRecentByIntent(contacts, "t4", weekAgo)).toEqual({ orders: 1, billing: 1 });
  });

  it("counts a ticket recorded twice (a redelivered triage) once, and never the ticket itself", () => {
    const contacts = [contact("t1", "orders", 2), contact("t2", "orders", 1), contact("t1", "orders", 2), contact("t3", "orders", 0), contact("t3", "orders", 0)];
    expect(countRecentByIntent(contacts, "t3", weekAgo)).toEqual({ orders: 2 });
  });

  it("looks at the latest remembered contacts only", () => {
    const contacts = Array.from({ length: MAX_REMEMBERED_CONTACTS + 5 }, (_, i) => contact(`t${i}`, i < 5 ? "billing" : "orders", 1));
    expect(countRecentByIntent(contacts, "new", weekAgo)).toEqual({ orders: MAX_REMEMBERED_CONTACTS });
  });
});
