// The routing log checker on hand-made logs: each broken promise is found, and a legitimate history (offer,
// accept, reassignment by a supervisor, resolve, reopen) passes; a deposed leader's records after its
// successor's epoch marker do not count.
import { describe, expect, it } from "vitest";
import { newTicketDoc } from "./domain-mapping.ts";
import type { LogEntry } from "./logged-state.ts";
import { checkRoutingLog } from "./routing-log-check.ts";
import type { TicketDoc } from "./routing-store.ts";

const base = newTicketDoc({ ticketId: "T", channel: "chat", group: "g", overflowGroup: null, language: "en", priority: "P3", requiredSkills: [], subject: "s" }, 0);
const at = (epoch: number, doc: TicketDoc): LogEntry => ({ v: 1, epoch, type: "ticket", doc });
const marker = (epoch: number): LogEntry => ({ v: 1, epoch, type: "epoch", leader: `l${epoch}`, at: 0 });
const offer = (agentId: string, n: number) => ({ offerId: `T:${n}`, ticketId: "T", agentId, channel: "chat" as const, offeredAt: 0, expiresAt: 1 });
const capacity1 = () => 1;

function v(version: number, patch: Partial<TicketDoc>, history: TicketDoc["history"] = []): TicketDoc {
  return { ...base, version, ...patch, history };
}

describe("checkRoutingLog", () => {
  it("passes a legitimate history", () => {
    const log = [
      marker(1),
      at(1, v(0, {})),
      at(1, v(1, { pendingOffers: [offer("a", 1)] })),
      at(1, v(2, { status: "owned", ownerId: "a" })),
      at(1, v(3, { status: "owned", ownerId: "b" }, [{ version: 3, at: 0, type: "owner.reassigned", actor: "sup" }])),
      at(1, v(4, { status: "resolved", ownerId: null, lastOwnerId: "b" })),
      at(1, v(5, { status: "waiting", pendingOffers: [offer("c", 2)] }, [{ version: 5, at: 0, type: "ticket.reopened", actor: "customer" }])),
    ];
    const r = checkRoutingLog(log, capacity1);
    expect(r).toMatchObject({ records: 6, fenced: 0, doubleOwners: [], overCapacity: [], offersAfterResolve: [] });
    expect(r.last.get("T")).toEqual({ status: "waiting", ownerId: null, offered: false });
  });

  it("finds two owners, an agent over capacity and an offer on resolved work", () => {
    const other = { ...base, _id: "U" };
    const log = [
      at(1, v(1, { status: "owned", ownerId: "a" })),
      at(1, v(2, { status: "owned", ownerId: "b" })), // no reassignment recorded
      at(1, { ...other, version: 1, pendingOffers: [{ ...offer("b", 1), ticketId: "U" }] }), // b now holds 2 chat slots
      at(1, v(3, { status: "resolved", ownerId: null })),
      at(1, v(4, { status: "waiting", pendingOffers: [offer("c", 3)] })), // no reopen
    ];
    const r = checkRoutingLog(log, capacity1);
    expect(r.doubleOwners).toEqual(["T"]);
    expect(r.overCapacity).toEqual([{ agentId: "b", channel: "chat", peak: 2, capacity: 1 }]);
    expect(r.offersAfterResolve).toEqual(["T"]);
  });

  it("ignores a deposed leader's records after its successor's marker", () => {
    const log = [at(1, v(1, { status: "owned", ownerId: "a" })), marker(2), at(1, v(2, { status: "owned", ownerId: "z" })), at(2, v(2, { status: "owned", ownerId: "a" }))];
    const r = checkRoutingLog(log, capacity1);
    expect(r).toMatchObject({ records: 2, fenced: 1, doubleOwners: [] });
    expect(r.last.get("T")?.ownerId).toBe("a");
  });
});
