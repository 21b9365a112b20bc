import { describe, expect, it } from "vitest";
import { NotOwnerError, OwnershipConflictError } from "./errors.ts";
import { T0, errorOf, unwrap } from "../../test-support/domain-fixtures.ts";
import {
  acceptOffer,
  addCollaborator,
  declineOffer,
  expireOffer,
  makeOffer,
  newWaitingTicket,
  reassignBySupervisor,
  reopenTicket,
  requestTransfer,
  resolveTicket,
  routeFollowUp,
  withdrawOffer,
  type TicketOwnership,
} from "./ownership.ts";

const WEEK = 7 * 86_400_000;
const waiting = newWaitingTicket("t1", "chat");

function offered(agentIds: string[], max = agentIds.length): TicketOwnership {
  let state = waiting;
  for (const agentId of agentIds) state = unwrap(makeOffer(state, { agentId, now: T0, timeoutMs: 30_000, maxParallelOffers: max })).state;
  return state;
}

function ownedBy(agentId: string): TicketOwnership {
  return unwrap(acceptOffer(offered([agentId]), agentId, T0 + 1_000)).state;
}

describe("offers", () => {
  it("makes an offer with its timeout and numbered id, bumping the version", () => {
    const { state, events } = unwrap(makeOffer(waiting, { agentId: "ann", now: T0, timeoutMs: 30_000, maxParallelOffers: 1 }));
    expect(state.pendingOffers).toEqual([{ offerId: "t1:1", ticketId: "t1", agentId: "ann", channel: "chat", offeredAt: T0, expiresAt: T0 + 30_000 }]);
    expect(state.version).toBe(1);
    expect(events).toEqual([{ type: "offer-made", offer: state.pendingOffers[0] }]);
  });

  it("respects the parallel-offer limit and never offers twice to the same agent at once", () => {
    const one = offered(["ann"], 1);
    expect(errorOf(makeOffer(one, { agentId: "bob", now: T0, timeoutMs: 1, maxParallelOffers: 1 })).code).toBe("OFFER_LIMIT_REACHED");
    const two = offered(["ann"], 2);
    expect(errorOf(makeOffer(two, { agentId: "ann", now: T0, timeoutMs: 1, maxParallelOffers: 2 })).code).toBe("OFFER_LIMIT_REACHED");
    expect(unwrap(makeOffer(two, { agentId: "bob", now: T0, timeoutMs: 1, maxParallelOffers: 2 })).state.pendingOffers).toHaveLength(2);
  });

  it("the first accept wins: ownership, other offers withdrawn, later accepts get OWNERSHIP_CONFLICT", () => {
    const both = offered(["ann", "bob"]);
    const { state, events } = unwrap(acceptOffer(both, "bob", T0 + 5_000));
    expect(state).toMatchObject({ status: "owned", ownerId: "bob", lastOwnerId: "bob", pendingOffers: [] });
    expect(events.map((e) => e.type)).toEqual(["offer-accepted", "offer-withdrawn"]);
    expect(events[1]).toMatchObject({ reason: "accepted-by-another-agent", offer: { agentId: "ann" } });
    const late = errorOf(acceptOffer(state, "ann", T0 + 6_000));
    expect(late).toBeInstanceOf(OwnershipConflictError);
    expect(late.code).toBe("OWNERSHIP_CONFLICT");
  });

  it("refuses an accept without a pending offer, or after it expired", () => {
    expect(errorOf(acceptOffer(offered(["ann"]), "bob", T0)).code).toBe("OFFER_NOT_FOUND");
    expect(errorOf(acceptOffer(offered(["ann"]), "ann", T0 + 30_000)).code).toBe("OFFER_EXPIRED");
  });

  it("records a decline as a pass with its time, so the agent goes to the back of the rotation", () => {
    const { state, events } = unwrap(declineOffer(offered(["ann"]), "ann", T0 + 2_000));
    expect(state.pendingOffers).toEqual([]);
    expect(state.passedBy).toEqual([{ agentId: "ann", at: T0 + 2_000, outcome: "declined" }]);
    expect(events[0]?.type).toBe("offer-declined");
    expect(errorOf(declineOffer(state, "ann", T0)).code).toBe("OFFER_NOT_FOUND");
  });

  it("expires an offer only once its time is up, recording the pass", () => {
    expect(errorOf(expireOffer(offered(["ann"]), "ann", T0 + 29_999)).code).toBe("OFFER_NOT_EXPIRED");
    const { state } = unwrap(expireOffer(offered(["ann"]), "ann", T0 + 30_000));
    expect(state.passedBy).toEqual([{ agentId: "ann", at: T0 + 30_000, outcome: "expired" }]);
  });

  it("keeps only the latest pass per agent", () => {
    let state = unwrap(declineOffer(offered(["ann"]), "ann", T0 + 1)).state;
    state = unwrap(makeOffer(state, { agentId: "ann", now: T0 + 2, timeoutMs: 10, maxParallelOffers: 1 })).state;
    state = unwrap(expireOffer(state, "ann", T0 + 12)).state;
    expect(state.passedBy).toEqual([{ agentId: "ann", at: T0 + 12, outcome: "expired" }]);
    expect(state.offersMade).toBe(2);
  });

  it("withdraws an offer without counting it as a pass", () => {
    const { state, events } = unwrap(withdrawOffer(offered(["ann"]), "ann", T0, "agent-unavailable"));
    expect(state.passedBy).toEqual([]);
    expect(events[0]).toMatchObject({ type: "offer-withdrawn", reason: "agent-unavailable" });
  });

  it("cannot offer a ticket that is owned or resolved", () => {
    expect(errorOf(makeOffer(ownedBy("ann"), { agentId: "bob", now: T0, timeoutMs: 1, maxParallelOffers: 1 })).code).toBe("OWNERSHIP_CONFLICT");
    const resolved = unwrap(resolveTicket(ownedBy("ann"), "ann", T0)).state;
    expect(errorOf(makeOffer(resolved, { agentId: "bob", now: T0, timeoutMs: 1, maxParallelOffers: 1 })).code).toBe("TICKET_NOT_WAITING");
  });
});

describe("ownership", () => {
  it("refuses any transfer by an agent with OWNERSHIP_CONFLICT and a clear message", () => {
    const error = errorOf(requestTransfer(ownedBy("ann"), "ann", "bob"));
    expect(error).toBeInstanceOf(OwnershipConflictError);
    expect(error.code).toBe("OWNERSHIP_CONFLICT");
    expect(error.message).toMatch(/only a supervisor can reassign/);
  });

  it("treats an agent calling reassign as a transfer: OWNERSHIP_CONFLICT, owner unchanged", () => {
    const state = ownedBy("ann");
    const error = errorOf(reassignBySupervisor(state, { actor: { id: "ann", role: "agent" }, toAgentId: "bob", reason: "going home" }, T0));
    expect(error.code).toBe("OWNERSHIP_CONFLICT");
    expect(state.ownerId).toBe("ann");
  });

  it("lets a supervisor reassign with a recorded reason", () => {
    const state = unwrap(addCollaborator(ownedBy("ann"), "bob", T0)).state;
    const { state: moved, events } = unwrap(reassignBySupervisor(state, { actor: { id: "sue", role: "supervisor" }, toAgentId: "bob", reason: "  ann is on leave  " }, T0 + 9));
    expect(moved).toMatchObject({ ownerId: "bob", lastOwnerId: "bob", collaborators: [] });
    expect(moved.lastReassignment).toEqual({ supervisorId: "sue", fromAgentId: "ann", toAgentId: "bob", reason: "ann is on leave", at: T0 + 9 });
    expect(events).toEqual([{ type: "owner-reassigned", reassignment: moved.lastReassignment }]);
  });

  it("requires a reason, an owned ticket and a different agent for reassignment", () => {
    const supervisor = { id: "sue", role: "supervisor" as const };
    expect(errorOf(reassignBySupervisor(ownedBy("ann"), { actor: supervisor, toAgentId: "bob", reason: "   " }, T0)).code).toBe("REASON_REQUIRED");
    expect(errorOf(reassignBySupervisor(waiting, { actor: supervisor, toAgentId: "bob", reason: "x" }, T0)).code).toBe("TICKET_NOT_OWNED");
    expect(errorOf(reassignBySupervisor(ownedBy("ann"), { actor: supervisor, toAgentId: "ann", reason: "x" }, T0)).code).toBe("INVALID_INPUT");
  });

  it("resolves only by the owner (NOT_OWNER otherwise), clearing ownerId but keeping lastOwnerId", () => {
    const error = errorOf(resolveTicket(ownedBy("ann"), "bob", T0));
    expect(error).toBeInstanceOf(NotOwnerError);
    expect(error.code).toBe("NOT_OWNER");
    const { state } = unwrap(resolveTicket(ownedBy("ann"), "ann", T0 + 100));
    expect(state).toMatchObject({ status: "resolved", ownerId: null, lastOwnerId: "ann", resolvedAt: T0 + 100 });
    expect(errorOf(resolveTicket(state, "ann", T0)).code).toBe("TICKET_NOT_OWNED");
  });

  it("returns a ticket reopened within the window to the same owner", () => {
    const resolved = unwrap(resolveTicket(ownedBy("ann"), "ann", T0)).state;
    const { state, events } = unwrap(reopenTicket(resolved, T0 + WEEK, WEEK));
    expect(state).toMatchObject({ status: "owned", ownerId: "ann", lastOwnerId: "ann", resolvedAt: null });
    expect(events[0]).toMatchObject({ type: "ticket-reopened", returnedTo: "owner", ownerId: "ann" });
  });

  it("queues a ticket reopened after the window, keeping lastOwnerId for the record", () => {
    const resolved = unwrap(resolveTicket(ownedBy("ann"), "ann", T0)).state;
    const { state, events } = unwrap(reopenTicket(resolved, T0 + WEEK + 1, WEEK));
    expect(state).toMatchObject({ status: "waiting", ownerId: null, lastOwnerId: "ann", pendingOffers: [], passedBy: [] });
    expect(events[0]).toMatchObject({ returnedTo: "queue" });
    expect(errorOf(reopenTicket(ownedBy("ann"), T0, WEEK)).code).toBe("TICKET_NOT_RESOLVED");
  });

  it("adds collaborators without ever changing the owner", () => {
    const state = ownedBy("ann");
    const { state: helped, events } = unwrap(addCollaborator(state, "bob", T0));
    expect(helped).toMatchObject({ ownerId: "ann", collaborators: ["bob"], version: state.version + 1 });
    expect(events).toEqual([{ type: "collaborator-added", collaboratorId: "bob", at: T0 }]);
    const again = unwrap(addCollaborator(helped, "bob", T0));
    expect(again.state).toBe(helped);
    expect(again.events).toEqual([]);
    expect(errorOf(addCollaborator(helped, "ann", T0)).code).toBe("INVALID_INPUT");
    expect(errorOf(addCollaborator(waiting, "bob", T0)).code).toBe("TICKET_NOT_OWNED");
  });

  it("sends follow-ups to the owner, holds them while the owner is away, never back to a queue", () => {
    const state = ownedBy("ann");
    expect(routeFollowUp(state, "available")).toEqual({ kind: "deliver-to-owner", ownerId: "ann" });
    expect(routeFollowUp(state, "away")).toEqual({ kind: "hold-for-owner", ownerId: "ann", ownerPresence: "away" });
    expect(routeFollowUp(state, "offline")).toEqual({ kind: "hold-for-owner", ownerId: "ann", ownerPresence: "offline" });
    expect(routeFollowUp(state, null)).toEqual({ kind: "hold-for-owner", ownerId: "ann", ownerPresence: "offline" });
    expect(routeFollowUp(waiting, null)).toEqual({ kind: "attach-to-waiting-ticket" });
    expect(routeFollowUp(unwrap(resolveTicket(state, "ann", T0)).state, null)).toEqual({ kind: "reopen" });
  });

  it("bumps the version on every change, for optimistic concurrency in the store", () => {
    let state = waiting;
    const versions = [state.version];
    state = unwrap(makeOffer(state, { agentId: "ann", now: T0, timeoutMs: 9, maxParallelOffers: 1 })).state;
    versions.push(state.version);
    state = unwrap(acceptOffer(state, "ann", T0)).state;
    versions.push(state.version);
    state = unwrap(resolveTicket(state, "ann", T0)).state;
    versions.push(state.version);
    expect(versions).toEqual([0, 1, 2, 3]);
  });
});
