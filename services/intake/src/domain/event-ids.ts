// Ids derived from what they are about, so a re-published event carries the same id and consumers
// (idempotent by event id) apply it once, and requests racing with one delivery make the same ticket.
import { createHash, createHmac } from "node:crypto";

/** A UUID-shaped id from SHA-256 of `key`. */
export function derivedEventId(key: string): string {
  return uuidShaped(createHash("sha256").update(key).digest("hex"));
}

/**
 * A new ticket's ticket and message ids, from its delivery key: keyed with the service's secret, so they say
 * nothing about the integration or its external id, and a re-sent delivery always makes the same ids (ADR 0019).
 */
export function newTicketIds(secret: string, deliveryKey: string): { ticketId: string; messageId: string } {
  const id = (kind: string) => uuidShaped(createHmac("sha256", secret).update(`${kind}\u0000${deliveryKey}`).digest("hex"));
  return { ticketId: id("ticket"), messageId: id("message") };
}

function uuidShaped(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
