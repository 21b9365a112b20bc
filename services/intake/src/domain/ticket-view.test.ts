import { describe, expect, it } from "vitest";
import { acknowledgementDue, emptyProjection, foldViewChanges, type ViewChange, type ViewState } from "./ticket-view.ts";

const at = new Date("2026-01-01T00:00:00Z");

function view(over: Partial<ViewState> = {}): ViewState {
  return {
    ...emptyProjection(),
    history: [],
    ...over,
  };
}

const change = (eventId: string, rest: Omit<ViewChange, "entry"> = {}): ViewChange => ({ entry: { eventId, type: eventId, at }, ...rest });
const triaged = change("triaged", { set: { status: "triaged", language: "de" }, onlyIfStatusIn: ["new"] });
const queued = change("queued", { set: { status: "waiting" }, onlyIfStatusIn: ["new", "triaged", "offered"] });
const offered = change("offered", { set: { status: "offered" }, onlyIfStatusIn: ["new", "triaged", "waiting"] });
const assigned = change("assigned", { set: { status: "assigned", ownerId: "ana", lastOwnerId: "ana" }, onlyIfStatusIn: ["new", "triaged", "waiting", "offered"] });
const sla = (revision: number) => change(`sla-${revision}`, { sla: { revision, level: revision } });

describe("foldViewChanges", () => {
  it("applies one ticket's events in order, as separate writes would have", () => {
    const fold = foldViewChanges(view(), [triaged, queued, offered, assigned]);
    expect(fold.set).toMatchObject({ status: "assigned", language: "de", ownerId: "ana", lastOwnerId: "ana" });
    expect(fold.entries.map((e) => e.eventId)).toEqual(["triaged", "queued", "offered", "assigned"]);
  });

  it("keeps each event's status guard against the status the earlier events left", () => {
    // A late triage after routing already queued the ticket must not move it back to triaged.
    const fold = foldViewChanges(view(), [queued, triaged]);
    expect(fold.set.status).toBe("waiting");
    expect(fold.set.language).toBe("de");
    expect(fold.entries).toHaveLength(2);
    // An offer closing on a ticket that is already assigned does not reopen it.
    const closed = change("closed", { set: { status: "waiting" }, onlyIfStatusIn: ["offered"] });
    expect(foldViewChanges(view({ status: "assigned" }), [closed]).set.status).toBeUndefined();
  });

  it("skips an event already in the history, and a duplicate within the batch", () => {
    const fold = foldViewChanges(view({ status: "resolved", history: [{ eventId: "assigned", type: "x", at }] }), [assigned, queued, queued]);
    expect(fold.entries.map((e) => e.eventId)).toEqual(["queued"]);
    expect(fold.set.ownerId).toBeUndefined();
    expect(fold.set.status).toBeUndefined();
  });

  it("writes nothing when every event was applied before", () => {
    const fold = foldViewChanges(view({ history: [{ eventId: "triaged", type: "x", at }] }), [triaged, triaged]);
    expect(fold).toEqual({ set: {}, entries: [] });
  });

  it("shows the newest SLA revision whatever the arrival order", () => {
    expect(foldViewChanges(view(), [sla(1), sla(3), sla(2)]).set.sla).toEqual({ revision: 3, level: 3 });
    const older = foldViewChanges(view({ sla: { revision: 5 } }), [sla(4)]);
    expect(older.set.sla).toBeUndefined();
    expect(older.entries.map((e) => e.eventId)).toEqual(["sla-4"]);
  });

  it("adds a collaborator once", () => {
    const add = (id: string, agent: string) => change(id, { addCollaborator: agent });
    expect(foldViewChanges(view({ collaborators: ["bo"] }), [add("a1", "ana"), add("a2", "bo"), add("a3", "ana")]).set.collaborators).toEqual(["bo", "ana"]);
  });
});

describe("acknowledgementDue", () => {
  const triage = (eventId: string, language: string, retriage: boolean) => ({ eventId, type: "ticket.triaged", at, detail: { language, retriage } });
  it("is due once the first triage is in the history, in its language, whatever came before it", () => {
    expect(acknowledgementDue([], "ack")).toBeUndefined();
    expect(acknowledgementDue([{ eventId: "q", type: "ticket.queued", at }, triage("t1", "de", false), triage("t2", "fr", true)], "ack")).toBe("de");
  });

  it("is not due after a re-triage alone, nor once the acknowledgement's line is there", () => {
    expect(acknowledgementDue([triage("t2", "fr", true)], "ack")).toBeUndefined();
    expect(acknowledgementDue([triage("t1", "de", false), { eventId: "ack", type: "notification", at }], "ack")).toBeUndefined();
  });
});
