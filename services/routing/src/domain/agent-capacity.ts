// Pure transitions of an agent's presence, load and offer reservations. Each states the precondition the
// store must also enforce with a conditional update: an agent never holds more than capacity on a channel.
import { AgentNotAvailableError, CapacityExceededError, type RoutingDomainError } from "./errors.ts";
import { countOn, fail, freeCapacity, ok, type AgentState, type Channel, type ChannelCounts, type Presence, type Result } from "./model.ts";

export type AgentTransitionResult = Result<AgentState, RoutingDomainError>;

function adjust(counts: ChannelCounts, channel: Channel, delta: number): ChannelCounts {
  return { ...counts, [channel]: countOn(counts, channel) + delta };
}

/**
 * Presence change. Returning to "available" restarts the idle clock, so an agent back from a long break
 * does not jump ahead of colleagues who have been waiting for work the whole time.
 */
export function changePresence(agent: AgentState, presence: Presence, now: number): AgentState {
  if (presence === agent.presence) return agent;
  const idleSince = presence === "available" ? Math.max(agent.idleSince, now) : agent.idleSince;
  return { ...agent, presence, presenceChangedAt: now, idleSince };
}

/** Guard: presence = available AND load[c] + reserved[c] < capacity[c]. Effect: reserved[c] += 1. */
export function reserveOfferSlot(agent: AgentState, channel: Channel): AgentTransitionResult {
  if (agent.presence !== "available") return fail(new AgentNotAvailableError(`agent ${agent.id} is ${agent.presence}`));
  if (freeCapacity(agent, channel) === 0) {
    return fail(new CapacityExceededError(`agent ${agent.id} has no free ${channel} capacity for another offer`));
  }
  return ok({ ...agent, reserved: adjust(agent.reserved, channel, 1) });
}

/** Guard: reserved[c] > 0. Effect: reserved[c] -= 1 (offer declined, expired or withdrawn). */
export function releaseOfferSlot(agent: AgentState, channel: Channel): AgentTransitionResult {
  if (countOn(agent.reserved, channel) === 0) {
    return fail(new CapacityExceededError(`agent ${agent.id} holds no ${channel} offer slot to release`));
  }
  return ok({ ...agent, reserved: adjust(agent.reserved, channel, -1) });
}

/** Guard: reserved[c] > 0. Effect: reserved[c] -= 1, load[c] += 1, idleSince = now (offer accepted). */
export function convertOfferSlotToLoad(agent: AgentState, channel: Channel, now: number): AgentTransitionResult {
  if (countOn(agent.reserved, channel) === 0) {
    return fail(new CapacityExceededError(`agent ${agent.id} holds no ${channel} offer slot to accept into`));
  }
  return ok({
    ...agent,
    reserved: adjust(agent.reserved, channel, -1),
    load: adjust(agent.load, channel, 1),
    idleSince: Math.max(agent.idleSince, now),
  });
}

/**
 * Guard: load[c] + reserved[c] < capacity[c]. Effect: load[c] += 1, idleSince = now. Used when owned work
 * arrives without an offer (supervisor reassignment, a reopened ticket delivered to its owner).
 */
export function addOwnedWork(agent: AgentState, channel: Channel, now: number): AgentTransitionResult {
  if (freeCapacity(agent, channel) === 0) {
    return fail(new CapacityExceededError(`agent ${agent.id} has no free ${channel} capacity`));
  }
  return ok({ ...agent, load: adjust(agent.load, channel, 1), idleSince: Math.max(agent.idleSince, now) });
}

/** Guard: load[c] > 0. Effect: load[c] -= 1 (work resolved or reassigned away). */
export function releaseOwnedWork(agent: AgentState, channel: Channel): AgentTransitionResult {
  if (countOn(agent.load, channel) === 0) {
    return fail(new CapacityExceededError(`agent ${agent.id} holds no ${channel} work to release`));
  }
  return ok({ ...agent, load: adjust(agent.load, channel, -1) });
}
