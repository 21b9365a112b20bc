import { describe, expect, it } from "vitest";
import { applySlaInput, emptySlaRecord, MAX_PENDING_INPUTS, type SlaInput, type SlaRecord } from "./sla-inputs.ts";
import { dueActions, markActionDone, pendingActions } from "./sla-actions.ts";
import { at, testPolicy, testPolicyDocument } from "../../test-support/sla-fixtures.ts";
import { parseSlaPolicy } from "./sla-policy.ts";
import { slaView } from "./sla-view.ts";
import type { Channel, Priority } from "./sla-policy.ts";

const policy = testPolicy();
const T0 = "2026-11-24T10:00:00.000Z";
const plus = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

const triaged = (priority: Priority = "P1", extra: Partial<Extract<SlaInput, { type: "triaged" }>> = {}): SlaInput => ({
  type: "triaged",
  priority,
  channel: null,
  group: null,
  policyName: "standard",
  answerDidNotHelp: false,
  repeatContactCount: 0,
  ...extra,
});

function feedWith(active: typeof policy, record: SlaRecord, ...inputs: Array<[string, SlaInput]>): SlaRecord {
  return inputs.reduce((r, [when, input]) => applySlaInput(r, { at: when, input }, active), record);
}
const feed = (record: SlaRecord, ...inputs: Array<[string, SlaInput]>): SlaRecord => feedWith(policy, record, ...inputs);

const ticket = (channel: Channel, priority: Priority = "P1"): SlaRecord => feed(emptySlaRecord("T-1"), [T0, { type: "received", channel }], [plus(1), triaged(priority)]);

// P1 in the test policy runs 24x7: first response 15, next response 30, resolution 120 minutes.
describe("starting the SLA", () => {
  it("counts from when intake received the ticket, not from when triage finished", () => {
    const view = slaView(ticket("email").state!, at(plus(1)));
    expect(view.firstResponseDue).toBe(plus(15));
    expect(view.resolutionDue).toBe(plus(120));
    expect(view.policy).toBe("v1");
  });

  it("keeps inputs that arrive before triage and replays them once it starts", () => {
    const early = feed(emptySlaRecord("T-1"), [T0, { type: "received", channel: "email" }], [plus(2), { type: "assigned", ownerId: "agent-7" }]);
    expect(early.state).toBeNull();
    expect(early.pending).toHaveLength(1);
    const started = feed(early, [plus(1), triaged()]);
    expect(started.state!.ownerId).toBe("agent-7");
    expect(started.pending).toEqual([]);
  });

  it("bounds what it keeps for a ticket that is never triaged", () => {
    const inputs = Array.from({ length: MAX_PENDING_INPUTS + 5 }, (_, i): [string, SlaInput] => [plus(i), { type: "customerMessage" }]);
    expect(feed(emptySlaRecord("T-1"), ...inputs).pending).toHaveLength(MAX_PENDING_INPUTS);
  });

  it("turns triage's repeat contact into an escalation at once", () => {
    const record = feed(emptySlaRecord("T-1"), [T0, triaged("P3", { channel: "email", repeatContactCount: 1 })]);
    expect(record.state!.signals.map((s) => s.id)).toEqual(["repeatContact.1"]);
    expect(dueActions(record.state!, at(T0)).map((a) => a.kind)).toContain("waiting.notifySupervisor");
  });
});

describe("first response", () => {
  it("is the acceptance of the offer on live channels", () => {
    for (const channel of ["chat", "phone"] as const) {
      const record = feed(ticket(channel), [plus(3), { type: "assigned", ownerId: "agent-7" }]);
      expect(slaView(record.state!, at(plus(3))).firstResponseDue).toBeNull();
    }
  });

  it("is the first public agent reply on written channels, not the acceptance", () => {
    const assigned = feed(ticket("email"), [plus(3), { type: "assigned", ownerId: "agent-7" }]);
    expect(slaView(assigned.state!, at(plus(3))).firstResponseDue).toBe(plus(15));
    const replied = feed(assigned, [plus(5), { type: "agentReplied" }]);
    expect(slaView(replied.state!, at(plus(5))).firstResponseDue).toBeNull();
  });
});

describe("ownership", () => {
  it("follows routing's word, including a supervisor's reassignment", () => {
    const record = feed(ticket("email"), [plus(3), { type: "assigned", ownerId: "agent-7" }], [plus(4), { type: "ownerChanged", ownerId: "agent-9" }]);
    expect(record.state!.ownerId).toBe("agent-9");
  });

  it("does not count a repeated assignment on a live channel as another response", () => {
    const record = feed(
      ticket("chat"),
      [plus(3), { type: "assigned", ownerId: "agent-7" }],
      [plus(4), { type: "customerMessage" }],
      [plus(5), { type: "assigned", ownerId: "agent-7" }],
    );
    expect(slaView(record.state!, at(plus(5))).nextResponseDue).toBe(plus(34));
  });
});

describe("retriage", () => {
  it("reassesses the targets when triage changes the priority", () => {
    const record = feed(ticket("email", "P1"), [plus(2), triaged("P2")]);
    expect(record.state!.targetsPriority).toBe("P2");
  });

  it("does not undo a ladder raise when triage repeats the same priority", () => {
    const base = ticket("email", "P3");
    const raise = pendingActions(base.state!).find((a) => a.effect.type === "raisePriority")!;
    const raised: SlaRecord = { ...base, state: { ...markActionDone(base.state!, raise.key), priority: "P2" } };
    const again = feed(raised, [plus(2), triaged("P3")]);
    expect(again.state!.priority).toBe("P2");
  });

  it("escalates each new repeat contact and each answer that did not help, once", () => {
    const record = feed(
      ticket("email"),
      [plus(2), triaged("P1", { repeatContactCount: 1 })],
      [plus(3), triaged("P1", { repeatContactCount: 1 })],
      [plus(4), triaged("P1", { repeatContactCount: 1, answerDidNotHelp: true })],
    );
    expect(record.state!.signals.map((s) => s.id)).toEqual(["repeatContact.1", "answerDidNotHelp.1"]);
  });

  it("moves the deadlines to a new group's calendar", () => {
    const doc = testPolicyDocument() as { calendars: Record<string, unknown> };
    const allDay = [{ start: "00:00", end: "24:00" }];
    doc.calendars["night"] = {
      id: "night",
      timeZone: "UTC",
      weeklyHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
    };
    const withNight = parseSlaPolicy(doc);
    // P3 resolution: 480 business minutes in Paris from Tuesday 11:00 is Wednesday 12:00 Paris.
    const before = feedWith(withNight, ticket("email", "P3"));
    expect(slaView(before.state!, at(plus(2))).resolutionDue).toBe("2026-11-25T11:00:00.000Z");
    const moved = feedWith(withNight, before, [plus(2), triaged("P3", { group: "night" })]);
    expect(moved.group).toBe("night");
    expect(slaView(moved.state!, at(plus(2))).resolutionDue).toBe(plus(480));
  });
});

describe("time", () => {
  it("applies a late input at the latest instant already applied, never before it", () => {
    const record = feed(ticket("email"), [plus(10), { type: "waitingOnCustomer" }], [plus(5), { type: "customerWaitOver" }]);
    expect(record.lastAt).toBe(plus(10));
    // Paused and resumed at the same instant: nothing lost, nothing gained.
    expect(slaView(record.state!, at(plus(10))).firstResponseDue).toBe(plus(15));
  });

  it("resumes paused clocks when the customer writes, with the time they had left", () => {
    const record = feed(ticket("email"), [plus(5), { type: "waitingOnCustomer" }], [plus(65), { type: "customerMessage" }]);
    const view = slaView(record.state!, at(plus(65)));
    expect(view.paused).toBe(false);
    expect(view.firstResponseDue).toBe(plus(75));
  });
});
