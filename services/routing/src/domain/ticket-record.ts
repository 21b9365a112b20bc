// What the engine keeps per ticket beside the ticket itself: its ownership state, who passed on it, and
// whether it is owned work held for its owner. Shared by the engine and its two decision procedures.
import type { Channel, RelaxationPolicy, WaitingTicket } from "./model.ts";
import type { TicketOwnership } from "./ownership.ts";
import type { RoutingKey } from "./routing-order.ts";

export interface TicketRecord {
  readonly ticket: WaitingTicket;
  readonly policy: RelaxationPolicy;
  ownership: TicketOwnership;
  /** agentId -> when they last passed on this ticket (mirror of ownership.passedBy, for O(1) lookups). */
  passedAt: Map<string, number>;
  /** Owned, but waiting for the owner to be available with a free slot before it counts in their load. */
  heldForOwner: boolean;
}

/** Owned work waiting for its owner, ordered like any queue. */
export interface HeldWork extends RoutingKey {
  readonly channel: Channel;
}

export function passedMap(ownership: TicketOwnership): Map<string, number> {
  return new Map(ownership.passedBy.map((pass) => [pass.agentId, pass.at]));
}
