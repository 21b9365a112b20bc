// The routing log's invariant checker (ADR 0014): replays the log's records in offset order, as a take-over
// would (records of a deposed leader after a newer epoch marker do not count), and reports every broken
// promise: a ticket with two owners without a supervisor's reassignment, an agent over capacity on a channel,
// an offer made on a resolved ticket, and each ticket's last state (offered, owned, waiting or resolved).
// Pure: the caller reads the log (and agents' capacities) and hands them in.
import type { LogEntry } from "./logged-state.ts";

export { ROUTING_LOG_TOPIC, type LogEntry } from "./logged-state.ts";
import type { TicketDoc } from "./routing-store.ts";

export interface LogCheck {
  records: number;
  fenced: number;
  /** ticketId: owner changed from one agent to another with no reassignment recorded. */
  doubleOwners: string[];
  /** "agent/channel" with the highest number of slots seen and the capacity. */
  overCapacity: Array<{ agentId: string; channel: string; peak: number; capacity: number }>;
  /** ticketId: an offer appeared while the ticket was resolved. */
  offersAfterResolve: string[];
  /** Last state of every ticket: waiting (with or without an open offer), owned or resolved. */
  last: Map<string, { status: TicketDoc["status"]; ownerId: string | null; offered: boolean }>;
}

/** Slots a ticket takes: one per pending offer, and the owner's when the work is in their load. */
function slotsOf(doc: TicketDoc): string[] {
  if (doc.status === "resolved") return [];
  const slots = doc.pendingOffers.map((o) => `${o.agentId}/${doc.channel}`);
  if (doc.status === "owned" && doc.ownerId !== null && !doc.heldForOwner) slots.push(`${doc.ownerId}/${doc.channel}`);
  return slots;
}

export function checkRoutingLog(entries: readonly LogEntry[], capacityOf: (agentId: string, channel: string) => number | undefined): LogCheck {
  const tickets = new Map<string, TicketDoc>();
  const load = new Map<string, number>();
  const peak = new Map<string, number>();
  const doubleOwners = new Set<string>();
  const offersAfterResolve = new Set<string>();
  let newestEpoch = 0;
  let fenced = 0;
  let records = 0;
  for (const entry of entries) {
    if (entry.type === "epoch") {
      newestEpoch = Math.max(newestEpoch, entry.epoch);
      continue;
    }
    if (entry.epoch < newestEpoch) {
      fenced++;
      continue;
    }
    records++;
    const next = entry.doc;
    const prev = tickets.get(next._id);
    if (prev !== undefined && next.version <= prev.version) continue; // a repeat of what is known
    if (prev?.ownerId && next.ownerId && prev.ownerId !== next.ownerId && prev.status !== "resolved") {
      const reassigned = next.history.some((h) => h.version > prev.version && h.type === "owner.reassigned");
      if (!reassigned) doubleOwners.add(next._id);
    }
    // Resolved work takes no offers; only a reopen (the customer wrote again) brings it back to routing.
    if (next.status === "resolved" && next.pendingOffers.length > 0) offersAfterResolve.add(next._id);
    if (prev?.status === "resolved" && next.pendingOffers.length > 0 && !next.history.some((h) => h.version > prev.version && h.type === "ticket.reopened")) {
      offersAfterResolve.add(next._id);
    }
    for (const slot of prev === undefined ? [] : slotsOf(prev)) load.set(slot, (load.get(slot) ?? 0) - 1);
    for (const slot of slotsOf(next)) {
      const n = (load.get(slot) ?? 0) + 1;
      load.set(slot, n);
      if (n > (peak.get(slot) ?? 0)) peak.set(slot, n);
    }
    tickets.set(next._id, next);
  }
  const overCapacity: LogCheck["overCapacity"] = [];
  for (const [slot, n] of peak) {
    const at = slot.lastIndexOf("/");
    const agentId = slot.slice(0, at);
    const channel = slot.slice(at + 1);
    const capacity = capacityOf(agentId, channel);
    if (capacity !== undefined && n > capacity) overCapacity.push({ agentId, channel, peak: n, capacity });
  }
  const last = new Map<string, { status: TicketDoc["status"]; ownerId: string | null; offered: boolean }>();
  for (const [id, doc] of tickets) last.set(id, { status: doc.status, ownerId: doc.ownerId, offered: doc.offersMade > 0 });
  return { records, fenced, doubleOwners: [...doubleOwners], overCapacity, offersAfterResolve: [...offersAfterResolve], last };
}
