// The invariant checker the multi-instance tests rely on must itself catch violations: an agent holding
// more than capacity at some moment, a ticket assigned twice, capacity never returned, a ticket never offered.
import { describe, expect, it } from "vitest";
import { newEnvelope } from "@steward/messaging";
import { Channel, type Envelope } from "@steward/proto";
import { checkInvariants } from "./routing-load-support.ts";
import type { AgentDoc } from "../src/routing-store.ts";

const agent: AgentDoc = {
  _id: "ana",
  version: 1,
  name: "ana",
  groups: ["g"],
  skills: {},
  languages: ["en"],
  capacity: { email: 1 },
  free: { email: 1 },
  holds: {},
  presence: "available",
  presenceChangedAt: 0,
  idleSince: 0,
  createdAt: 0,
  updatedAt: 0,
};
const at = (ms: number) => ({ occurredAt: new Date(ms) });
const offer = (ticketId: string, offerId: string, ms: number): Envelope =>
  newEnvelope(
    "offerMade",
    ticketId,
    { offerId, agentId: "ana", expiresAt: undefined, explanation: undefined, channel: Channel.EMAIL, priority: 3, subject: "" },
    "routing",
    at(ms),
  );
const assigned = (ticketId: string, offerId: string, ms: number): Envelope =>
  newEnvelope("ticketAssigned", ticketId, { agentId: "ana", offerId, channel: Channel.EMAIL }, "routing", at(ms));
const resolved = (ticketId: string, ms: number): Envelope => newEnvelope("ticketResolved", ticketId, { agentId: "ana" }, "routing", at(ms));

describe("checkInvariants", () => {
  it("passes a history that kept every promise", () => {
    const events = [offer("t1", "o1", 1), assigned("t1", "o1", 2), resolved("t1", 3), offer("t2", "o2", 3), assigned("t2", "o2", 4), resolved("t2", 5)];
    const report = checkInvariants(events, [], [agent], ["t1", "t2"]);
    expect(report).toMatchObject({ notOffered: [], assignedTwice: [], overCapacity: [], leftover: [], storeProblems: [] });
  });

  it("catches overlapping work above capacity, double assignment, leftovers and tickets never offered", () => {
    const events = [offer("t1", "o1", 1), assigned("t1", "o1", 2), offer("t2", "o2", 3), assigned("t2", "o2", 4), assigned("t2", "o2", 5), resolved("t1", 6)];
    const report = checkInvariants(events, [], [agent], ["t1", "t2", "t3"]);
    expect(report.overCapacity).toEqual([{ agentId: "ana", channel: "email", peak: 2, capacity: 1 }]);
    expect(report.assignedTwice).toEqual(["t2"]);
    expect(report.leftover).toEqual([{ agentId: "ana", channel: "email", count: 1 }]);
    expect(report.notOffered).toEqual(["t3"]);
  });

  it("counts a republished event once", () => {
    const first = offer("t1", "o1", 1);
    const report = checkInvariants([first, { ...first }, assigned("t1", "o1", 2), resolved("t1", 3)], [], [agent], ["t1"]);
    expect(report.overCapacity).toEqual([]);
  });
});
