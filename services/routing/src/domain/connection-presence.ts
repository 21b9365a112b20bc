// Presence follows the connection: an available agent whose every live work stream has been gone for
// the grace period is set away by the system, and set available again when a stream comes back.
import type { Presence } from "./model.ts";

/** The actor named on presence changes nobody asked for (the stream closed or reopened). */
export const SYSTEM_ACTOR = "system";
/** Why the system changed the presence: kept with it, so only its own change is undone on reconnect. */
export const DISCONNECTED_REASON = "no live work stream";

/** What the decision needs to know about the agent's presence as stored. */
export interface PresenceFacts {
  readonly presence: Presence;
  readonly presenceChangedAt: number;
  readonly presenceChangedBy?: string | undefined;
  readonly presenceReason?: string | undefined;
}

export interface PresenceChange {
  readonly presence: Presence;
  readonly actor: string;
  readonly reason: string;
}

/**
 * Once the grace period after the agent's last stream closed (at `lastClosedAt`) has run out: away for an
 * agent still available, none when the agent chose a presence after the stream closed (their word stands)
 * or is already not taking work.
 */
export function presenceAfterDisconnect(agent: PresenceFacts, lastClosedAt: number): PresenceChange | null {
  if (agent.presence !== "available") return null;
  if (agent.presenceChangedAt > lastClosedAt) return null;
  return { presence: "away", actor: SYSTEM_ACTOR, reason: DISCONNECTED_REASON };
}

/** When a stream opens: available again, only if the system itself set the agent away for being gone. */
export function presenceOnReconnect(agent: PresenceFacts): PresenceChange | null {
  if (agent.presence !== "away" || agent.presenceChangedBy !== SYSTEM_ACTOR || agent.presenceReason !== DISCONNECTED_REASON) return null;
  return { presence: "available", actor: SYSTEM_ACTOR, reason: "live work stream reopened" };
}
