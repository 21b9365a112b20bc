// Event ids derived from what an event is about, so a re-published event carries the same id and
// consumers (idempotent by event id) apply it once.
import { createHash } from "node:crypto";

/** A UUID-shaped id from SHA-256 of `key`. */
export function derivedEventId(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
