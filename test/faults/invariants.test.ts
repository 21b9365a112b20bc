// The fault campaign's judge: each invariant is caught when broken and quiet when it holds.
import { describe, expect, it } from "vitest";
import { foldRoutingLog, judge, lostStages, takeOver, type RoutingLogEntry, type RoutingRecord } from "./invariants.ts";

let n = 0;
const rec = <K extends RoutingRecord["kind"]>(kind: K, ticketId: string, at: number, extra: Partial<RoutingRecord> = {}): RoutingRecord =>
  ({ eventId: `e${(n += 1)}`, ticketId, at, kind, ...extra }) as RoutingRecord;
const noAgents = { owned: [], peakLoad: new Map<string, number>() };

describe("the fault campaign's invariants", () => {
  it("a clean history: offered, owned, resolved; nothing to report", () => {
    const log = foldRoutingLog([rec("offered", "t1", 1, { agentId: "a" }), rec("assigned", "t1", 2, { agentId: "a", channel: "chat" }), rec("resolved", "t1", 3)]);
    const v = judge(["t1"], log, { owned: [{ ticketId: "t1", agentId: "a" }], peakLoad: new Map([["a/chat", 1]]) }, 1);
    expect(v).toMatchObject({ accepted: 1, owned: 1, lost: [], doubleOwners: [], offersAfterResolve: [], overCapacity: [] });
  });

  it("two agents assigned the same open ticket are double owners, in the log or as the agents were told", () => {
    const log = foldRoutingLog([rec("assigned", "t1", 1, { agentId: "a", channel: "chat" }), rec("assigned", "t1", 2, { agentId: "b", channel: "chat" })]);
    expect(judge(["t1"], log, noAgents, 5).doubleOwners).toEqual(["t1"]);
    const agentsOnly = judge(
      ["t2"],
      foldRoutingLog([]),
      {
        owned: [
          { ticketId: "t2", agentId: "a" },
          { ticketId: "t2", agentId: "b" },
        ],
        peakLoad: new Map(),
      },
      5,
    );
    expect(agentsOnly.doubleOwners).toEqual(["t2"]);
  });

  it("a reassignment, or a new owner after resolve, is not a double owner; another agent after reopen (back to its owner) is", () => {
    const log = foldRoutingLog([
      rec("assigned", "t1", 1, { agentId: "a", channel: "chat" }),
      rec("reassigned", "t1", 2, { agentId: "b" }),
      rec("assigned", "t2", 3, { agentId: "a", channel: "chat" }),
      rec("resolved", "t2", 4),
      rec("assigned", "t2", 5, { agentId: "c", channel: "chat" }),
    ]);
    expect(log.doubleOwners).toEqual([]);
    const reopened = foldRoutingLog([
      rec("assigned", "t3", 1, { agentId: "a", channel: "chat" }),
      rec("resolved", "t3", 2),
      rec("reopened", "t3", 3, { agentId: "a" }),
      rec("assigned", "t3", 4, { agentId: "c", channel: "chat" }),
    ]);
    expect(reopened.doubleOwners).toEqual(["t3"]);
  });

  it("an offer after resolve is reported unless the ticket reopened", () => {
    const log = foldRoutingLog([rec("assigned", "t1", 1, { agentId: "a", channel: "chat" }), rec("resolved", "t1", 2), rec("offered", "t1", 3, { agentId: "b" })]);
    expect(log.offersAfterResolve).toEqual(["t1"]);
    const reopened = foldRoutingLog([rec("resolved", "t2", 1), rec("reopened", "t2", 2, { agentId: "a" }), rec("offered", "t2", 3, { agentId: "b" })]);
    expect(reopened.offersAfterResolve).toEqual([]);
  });

  it("an agent owning more open tickets on a channel than its capacity is over capacity; resolving frees the slot", () => {
    const within = foldRoutingLog([
      rec("assigned", "t1", 1, { agentId: "a", channel: "chat" }),
      rec("resolved", "t1", 2),
      rec("assigned", "t2", 3, { agentId: "a", channel: "chat" }),
    ]);
    expect(judge([], within, noAgents, 1).overCapacity).toEqual([]);
    const over = foldRoutingLog([rec("assigned", "t1", 1, { agentId: "a", channel: "chat" }), rec("assigned", "t2", 2, { agentId: "a", channel: "chat" })]);
    expect(judge([], over, noAgents, 1).overCapacity).toEqual(["a/chat (log 2)"]);
    expect(judge([], foldRoutingLog([]), { owned: [], peakLoad: new Map([["a/chat", 3]]) }, 2).overCapacity).toEqual(["a/chat (agents 3)"]);
  });

  it("a duplicate event (same id, republished) counts once", () => {
    const assigned = rec("assigned", "t1", 1, { agentId: "a", channel: "chat" });
    const log = foldRoutingLog([assigned, { ...assigned, at: 2 }]);
    expect(judge([], log, noAgents, 1).overCapacity).toEqual([]);
  });

  it("an accepted ticket routing never mentioned is lost; one it said waits is visibly waiting", () => {
    const log = foldRoutingLog([rec("waiting", "t2", 1), rec("offered", "t3", 1, { agentId: "a" })]);
    const v = judge(["t1", "t2", "t3"], log, noAgents, 1);
    expect(v.lost).toEqual(["t1"]);
    expect(v.waiting).toBe(1);
    expect(v.offeredNotOwned).toBe(1);
  });
});

describe("where a lost ticket stopped, and the take-over's timing", () => {
  it("names the last topic that carried each lost ticket", () => {
    const seen = { received: new Set(["t2", "t3"]), triaged: new Set(["t3"]) };
    expect(lostStages(["t1", "t2", "t3"], seen)).toEqual({ notReceived: ["t1"], notTriaged: ["t2"], notRouted: ["t3"] });
  });

  it("times the first epoch after the kill and that epoch's first fresh decision", () => {
    const entries: RoutingLogEntry[] = [
      { type: "epoch", epoch: 1, leader: "r1", at: 100 },
      { type: "ticket", epoch: 1, doc: { updatedAt: 900 } },
      { type: "epoch", epoch: 2, leader: "r2", at: 9_000 },
      { type: "ticket", epoch: 2, doc: { updatedAt: 950 } }, // an older change written again: not a decision
      { type: "ticket", epoch: 1, doc: { updatedAt: 9_100 } }, // the deposed leader, fenced
      { type: "ticket", epoch: 2, doc: { updatedAt: 9_400 } },
    ];
    expect(takeOver(entries, 1_000)).toEqual({ epochAfterMs: 8_000, firstDecisionAfterMs: 8_400, leader: "r2" });
    expect(takeOver(entries.slice(0, 4), 1_000)).toEqual({ epochAfterMs: 8_000, firstDecisionAfterMs: null, leader: "r2" });
    expect(takeOver(entries, 10_000)).toBeUndefined();
  });
});
