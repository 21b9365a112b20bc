import { describe, expect, it } from "vitest";
import { actionKey, dueActions, InvalidActionKeyError, markActionDone, nextWakeAt, parseActionKey, pendingActions, type DueAction } from "./sla-actions.ts";
import { applyPolicyChange, onAgentResponse, onCustomerMessage, onOwnerAssigned, onPriorityChanged, onResolved, pause, resume, startSla, type SlaState } from "./sla-state.ts";
import { parseSlaPolicy } from "./sla-policy.ts";
import { at, parisCalendar, testPolicy, testPolicyDocument, TEST_TARGET_MINUTES } from "../../test-support/sla-fixtures.ts";
import { slaView } from "./sla-view.ts";

const policy = testPolicy();
const iso = (isoWithOffset: string): string => at(isoWithOffset).toISOString();

/** P3 email, first response 60 / resolution 480 business minutes, opened Tuesday 10:00 Paris. */
const waitingTicket = (): SlaState => startSla({ id: "T-1", priority: "P3", channel: "email" }, policy, parisCalendar, at("2026-11-24T10:00+01:00"));
const ownedTicket = (): SlaState => onOwnerAssigned(waitingTicket(), "agent-7");

const summary = (actions: readonly DueAction[]): string[] => actions.map((a) => `${a.dueAt} ${a.source} ${a.kind} ${a.level}`);
const markAll = (state: SlaState, actions: readonly DueAction[]): SlaState => actions.reduce((s, a) => markActionDone(s, a.key), state);

describe("warnings and breaches", () => {
  it("warns at 75% of the target and breaches at the deadline, in that order", () => {
    const state = waitingTicket();
    expect(dueActions(state, at("2026-11-24T10:44:59+01:00"))).toEqual([]);
    const atWarning = dueActions(state, at("2026-11-24T10:45+01:00"));
    expect(summary(atWarning)).toEqual([`${iso("2026-11-24T10:45+01:00")} firstResponse.1 warning 0`, `${iso("2026-11-24T10:45+01:00")} firstResponse.1 waiting.raisePriority 1`]);
    expect(atWarning[0]!.effect).toEqual({ type: "slaWarning", clock: "firstResponse", deadline: iso("2026-11-24T11:00+01:00") });
    // A timer that fires late still gets the warning before the breach.
    expect(summary(dueActions(state, at("2026-11-24T11:00+01:00")))).toEqual([
      `${iso("2026-11-24T10:45+01:00")} firstResponse.1 warning 0`,
      `${iso("2026-11-24T10:45+01:00")} firstResponse.1 waiting.raisePriority 1`,
      `${iso("2026-11-24T11:00+01:00")} firstResponse.1 breach 0`,
      `${iso("2026-11-24T11:00+01:00")} firstResponse.1 waiting.widenRouting 2`,
    ]);
  });

  it("honours a per-target warning share", () => {
    const doc = testPolicyDocument() as { targets: Record<string, Record<string, Record<string, object>>> };
    doc.targets["P3"]!["email"]!["firstResponse"] = { minutes: 60, warningShare: 0.5 };
    const state = startSla({ id: "T-1", priority: "P3", channel: "email" }, parseSlaPolicy(doc), parisCalendar, at("2026-11-24T10:00+01:00"));
    expect(nextWakeAt(state)).toBe(iso("2026-11-24T10:30+01:00"));
    expect(summary(dueActions(state, at("2026-11-24T10:30+01:00")))[0]).toBe(`${iso("2026-11-24T10:30+01:00")} firstResponse.1 warning 0`);
  });

  it("times a target given in seconds to the millisecond", () => {
    const doc = testPolicyDocument() as { targets: Record<string, Record<string, Record<string, object>>> };
    doc.targets["P3"]!["chat"]!["firstResponse"] = { seconds: 4, businessHours: false };
    const start = at("2026-11-24T10:00+01:00");
    const state = startSla({ id: "T-s", priority: "P3", channel: "chat" }, parseSlaPolicy(doc), parisCalendar, start);
    const offset = (ms: number): string => new Date(start.getTime() + ms).toISOString();
    expect(nextWakeAt(state)).toBe(offset(3_000));
    expect(summary(dueActions(state, new Date(start.getTime() + 4_000))).filter((s) => / (warning|breach) /.test(s))).toEqual([
      `${offset(3_000)} firstResponse.1 warning 0`,
      `${offset(4_000)} firstResponse.1 breach 0`,
    ]);
  });

  it("wakes the timer at the next pending action, including already-due ones", () => {
    let state = waitingTicket();
    expect(nextWakeAt(state)).toBe(iso("2026-11-24T10:45+01:00"));
    state = markAll(state, dueActions(state, at("2026-11-24T10:45+01:00")));
    expect(nextWakeAt(state)).toBe(iso("2026-11-24T11:00+01:00"));
    state = markAll(state, dueActions(state, at("2026-11-24T11:00+01:00")));
    expect(nextWakeAt(state)).toBe(iso("2026-11-24T11:30+01:00"));
    state = markAll(state, dueActions(state, at("2026-11-24T11:30+01:00")));
    // Then the resolution clock: 360 business minutes after Tuesday 10:00 is Tuesday's closing time.
    expect(nextWakeAt(state)).toBe(iso("2026-11-24T17:00+01:00"));
    state = onResolved(state, at("2026-11-24T12:00+01:00"));
    expect(nextWakeAt(state)).toBeNull();
  });

  it("gives nothing to do while the ticket waits on the customer", () => {
    const state = pause(waitingTicket(), at("2026-11-24T10:30+01:00"));
    expect(dueActions(state, at("2026-12-31T12:00+01:00"))).toEqual([]);
    expect(nextWakeAt(state)).toBeNull();
  });

  it("goes straight to the breach when a clock resumes already past its target", () => {
    let state = waitingTicket();
    state = markAll(
      state,
      dueActions(state, at("2026-11-24T11:10+01:00")).filter((a) => a.kind === "breach"),
    );
    state = pause(state, at("2026-11-24T11:10+01:00"));
    state = resume(state, at("2026-11-25T09:00+01:00"));
    const kinds = dueActions(state, at("2026-11-25T09:00+01:00"))
      .filter((a) => a.source === "firstResponse.1")
      .map((a) => a.kind);
    expect(kinds).not.toContain("warning");
    expect(kinds).not.toContain("breach");
  });

  it("still records the breach of a clock stopped late, and nothing else for it", () => {
    const state = onAgentResponse(waitingTicket(), at("2026-11-24T11:05+01:00"));
    const forFirstResponse = dueActions(state, at("2026-11-24T11:05+01:00")).filter((a) => a.source === "firstResponse.1");
    expect(summary(forFirstResponse)).toEqual([`${iso("2026-11-24T11:00+01:00")} firstResponse.1 breach 0`]);
  });

  it("keeps a breach recorded before a policy change and does not warn again", () => {
    let state = waitingTicket();
    state = markAll(state, dueActions(state, at("2026-11-24T10:50+01:00")));
    state = applyPolicyChange(state, testPolicy("v2", { ...TEST_TARGET_MINUTES, P3: [120, 120, 480] }), parisCalendar, at("2026-11-24T10:50+01:00"));
    const pending = pendingActions(state).filter((a) => a.source === "firstResponse.1");
    expect(pending.map((a) => a.key)).toEqual([
      "T-1:firstResponse.1:breach:0:v2",
      "T-1:firstResponse.1:waiting.widenRouting:2:v2",
      "T-1:firstResponse.1:waiting.notifySupervisor:3:v2",
    ]);
    expect(pending[0]!.dueAt).toBe(iso("2026-11-24T12:00+01:00"));
  });
});

describe("escalation ladders", () => {
  it("helps the owner without taking the ticket: notify, raise priority, then supervisor and specialist", () => {
    const state = onOwnerAssigned(startSla({ id: "T-2", priority: "P3", channel: "chat" }, policy, parisCalendar, at("2026-11-24T10:45+01:00")), "agent-7");
    const firstResponse = dueActions(state, at("2026-11-24T14:00+01:00")).filter((a) => a.source === "firstResponse.1");
    expect(firstResponse.map((a) => [a.dueAt, a.kind, a.effect])).toEqual([
      [iso("2026-11-24T11:30+01:00"), "warning", { type: "slaWarning", clock: "firstResponse", deadline: iso("2026-11-24T11:45+01:00") }],
      [iso("2026-11-24T11:30+01:00"), "owned.notifyOwner", { type: "notifyOwner", ownerId: "agent-7" }],
      [iso("2026-11-24T11:45+01:00"), "breach", { type: "slaBreach", clock: "firstResponse", deadline: iso("2026-11-24T11:45+01:00") }],
      [iso("2026-11-24T11:45+01:00"), "owned.raisePriority", { type: "raisePriority", from: "P3", to: "P2" }],
      // 30 business minutes after the breach: 15 before lunch, 15 after.
      [iso("2026-11-24T13:15+01:00"), "owned.addCollaborator", { type: "addCollaborator", role: "specialist" }],
      [iso("2026-11-24T13:15+01:00"), "owned.notifySupervisor", { type: "notifySupervisor" }],
    ]);
  });

  it("widens routing for a ticket still waiting for an agent", () => {
    const actions = dueActions(waitingTicket(), at("2026-11-24T11:30+01:00"));
    expect(actions.filter((a) => a.level > 0).map((a) => a.effect)).toEqual([
      { type: "raisePriority", from: "P3", to: "P2" },
      { type: "widenRouting", relaxSkills: true, addGroups: ["overflow"] },
      { type: "notifySupervisor" },
    ]);
  });

  it("switches to the owned ladder once an agent accepts the ticket", () => {
    let state = waitingTicket();
    state = markAll(state, dueActions(state, at("2026-11-24T10:45+01:00")));
    state = onOwnerAssigned(state, "agent-7");
    expect(summary(dueActions(state, at("2026-11-24T10:50+01:00")))).toEqual([`${iso("2026-11-24T10:45+01:00")} firstResponse.1 owned.notifyOwner 1`]);
  });

  it("never produces an owner change", () => {
    let state = ownedTicket();
    state = onCustomerMessage(onAgentResponse(state, at("2026-11-24T10:30+01:00")), at("2026-11-24T10:40+01:00"), { answerDidNotHelp: true, repeatContact: true });
    const actions = dueActions(state, at("2026-12-31T12:00+01:00"));
    expect(actions.length).toBeGreaterThan(5);
    for (const action of actions) {
      expect(["slaWarning", "slaBreach", "notifyOwner", "raisePriority", "notifySupervisor", "addCollaborator"]).toContain(action.effect.type);
      if (action.effect.type === "notifyOwner") expect(action.effect.ownerId).toBe("agent-7");
    }
    expect(markAll(state, actions).ownerId).toBe("agent-7");
  });

  it("raises priority one step from the current one and not beyond P1", () => {
    const p2 = onPriorityChanged(ownedTicket(), "P2", at("2026-11-24T10:00+01:00"), "slaEscalation");
    const raise = dueActions(p2, at("2026-11-24T11:00+01:00")).find((a) => a.kind === "owned.raisePriority");
    expect(raise?.effect).toEqual({ type: "raisePriority", from: "P2", to: "P1" });
    const p1 = onPriorityChanged(p2, "P1", at("2026-11-24T10:00+01:00"), "slaEscalation");
    expect(dueActions(p1, at("2026-11-24T11:00+01:00")).some((a) => a.kind === "owned.raisePriority")).toBe(false);
  });
});

describe("customer signals", () => {
  it("escalates an owned ticket when the answer did not help, one level further each time", () => {
    let state = onAgentResponse(ownedTicket(), at("2026-11-24T10:20+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T10:30+01:00"), { answerDidNotHelp: true });
    const first = dueActions(state, at("2026-11-24T10:30+01:00"));
    expect(first.map((a) => a.key)).toEqual(["T-1:answerDidNotHelp.1:owned.raisePriority:2:v1"]);
    state = markAll(state, first);
    state = onAgentResponse(state, at("2026-11-24T10:40+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T10:50+01:00"), { answerDidNotHelp: true });
    expect(dueActions(state, at("2026-11-24T10:50+01:00")).map((a) => a.key)).toEqual([
      "T-1:answerDidNotHelp.2:owned.addCollaborator:3:v1",
      "T-1:answerDidNotHelp.2:owned.notifySupervisor:3:v1",
    ]);
    state = onCustomerMessage(state, at("2026-11-24T10:55+01:00"), { answerDidNotHelp: true });
    expect(state.signals.map((s) => `${s.id}@${s.level}`)).toEqual(["answerDidNotHelp.1@2", "answerDidNotHelp.2@3", "answerDidNotHelp.3@3"]);
  });

  it("escalates a repeat contact at once, even before anyone owns the ticket", () => {
    const state = startSla({ id: "T-3", priority: "P3", channel: "web", repeatContact: true }, policy, parisCalendar, at("2026-11-24T10:00+01:00"));
    expect(dueActions(state, at("2026-11-24T10:00+01:00")).map((a) => [a.key, a.effect])).toEqual([
      ["T-3:repeatContact.1:waiting.notifySupervisor:3:v1", { type: "notifySupervisor" }],
    ]);
    expect(slaView(markAll(state, dueActions(state, at("2026-11-24T10:00+01:00"))), at("2026-11-24T10:00+01:00")).level).toBe(3);
  });

  it("drops signal escalations that were not carried out before resolution", () => {
    const state = onResolved(onCustomerMessage(ownedTicket(), at("2026-11-24T10:10+01:00"), { repeatContact: true }), at("2026-11-24T10:15+01:00"));
    expect(pendingActions(state)).toEqual([]);
  });
});

describe("idempotency keys", () => {
  it("are stable across calls, times and a JSON round trip through the store", () => {
    const state = ownedTicket();
    const keys = dueActions(state, at("2026-11-24T12:00+01:00")).map((a) => a.key);
    expect(keys).toEqual([
      "T-1:firstResponse.1:warning:0:v1",
      "T-1:firstResponse.1:owned.notifyOwner:1:v1",
      "T-1:firstResponse.1:breach:0:v1",
      "T-1:firstResponse.1:owned.raisePriority:2:v1",
      "T-1:firstResponse.1:owned.addCollaborator:3:v1",
      "T-1:firstResponse.1:owned.notifySupervisor:3:v1",
    ]);
    expect(dueActions(state, at("2026-11-24T12:00+01:00")).map((a) => a.key)).toEqual(keys);
    expect(dueActions(state, at("2026-11-24T16:00+01:00")).map((a) => a.key)).toEqual(keys);
    const restored = JSON.parse(JSON.stringify(state)) as SlaState;
    expect(dueActions(restored, at("2026-11-24T12:00+01:00"))).toEqual(dueActions(state, at("2026-11-24T12:00+01:00")));
  });

  it("separate each next-response cycle", () => {
    let state = onAgentResponse(ownedTicket(), at("2026-11-24T10:10+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T10:20+01:00"));
    state = onAgentResponse(state, at("2026-11-24T10:30+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T10:40+01:00"));
    const sources = new Set(pendingActions(state).map((a) => a.source));
    expect([...sources].sort()).toEqual(["nextResponse.2", "resolution.1"]);
  });

  it("carry the new policy version after a policy change", () => {
    const state = applyPolicyChange(ownedTicket(), testPolicy("2026-12.2"), parisCalendar, at("2026-11-24T10:10+01:00"));
    expect(pendingActions(state)[0]!.key).toBe("T-1:firstResponse.1:warning:0:2026-12.2");
  });

  it("round-trip through parseActionKey, even with colons in the ticket id", () => {
    const key = actionKey("acme:T:9", "resolution.1", "owned.notifyOwner", 1, "v1");
    expect(parseActionKey(key)).toEqual({ ticketId: "acme:T:9", source: "resolution.1", kind: "owned.notifyOwner", level: 1, policyVersion: "v1" });
  });
});

describe("markActionDone", () => {
  it("removes the action from what is due, and repeating it changes nothing", () => {
    const state = waitingTicket();
    const [warning] = dueActions(state, at("2026-11-24T10:45+01:00"));
    const once = markActionDone(state, warning!.key);
    expect(dueActions(once, at("2026-11-24T10:45+01:00")).map((a) => a.kind)).toEqual(["waiting.raisePriority"]);
    expect(markActionDone(once, warning!.key)).toBe(once);
  });

  it("accepts a key from an older policy version: the action happened", () => {
    let state = waitingTicket();
    const [warning] = dueActions(state, at("2026-11-24T10:45+01:00"));
    state = applyPolicyChange(state, testPolicy("v2"), parisCalendar, at("2026-11-24T10:46+01:00"));
    state = markActionDone(state, warning!.key);
    expect(dueActions(state, at("2026-11-24T10:46+01:00")).map((a) => a.kind)).toEqual(["waiting.raisePriority"]);
  });

  it("raises the view's escalation level", () => {
    let state = waitingTicket();
    state = markAll(state, dueActions(state, at("2026-11-24T11:00+01:00")));
    expect(slaView(state, at("2026-11-24T11:00+01:00")).level).toBe(2);
  });

  it("rejects keys that are malformed, foreign or unknown", () => {
    const state = waitingTicket();
    expect(() => markActionDone(state, "nonsense")).toThrow(InvalidActionKeyError);
    expect(() => markActionDone(state, "T-9:firstResponse.1:warning:0:v1")).toThrow(/belongs to ticket T-9/);
    expect(() => markActionDone(state, "T-1:nextResponse.4:warning:0:v1")).toThrow(/names no clock or signal/);
    expect(() => markActionDone(state, "T-1:firstResponse.1:reassignOwner:1:v1")).toThrow(/unknown kind/);
    expect(() => markActionDone(state, "T-1:firstResponse.1:warning:x:v1")).toThrow(InvalidActionKeyError);
  });
});
