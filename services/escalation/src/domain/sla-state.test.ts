import { describe, expect, it } from "vitest";
import { businessCalendarSchema } from "./business-calendar.ts";
import { clockStatus } from "./sla-clock.ts";
import {
  applyPolicyChange,
  onAgentResponse,
  onCustomerMessage,
  onOwnerAssigned,
  onPriorityChanged,
  onReopened,
  onResolved,
  pause,
  resume,
  SlaOwnershipConflictError,
  startSla,
  type SlaState,
  type SlaTicket,
} from "./sla-state.ts";
import { at, parisCalendar, testPolicy, TEST_TARGET_MINUTES } from "../../test-support/sla-fixtures.ts";
import { slaView } from "./sla-view.ts";
import { MINUTE_MS } from "./zoned-time.ts";

const policy = testPolicy();
const ticket: SlaTicket = { id: "T-1", priority: "P3", channel: "email" };
const iso = (isoWithOffset: string): string => at(isoWithOffset).toISOString();

/** P3 targets: first response 60, next response 120, resolution 480 business minutes (Paris calendar). */
const startTuesday10 = (): SlaState => startSla(ticket, policy, parisCalendar, at("2026-11-24T10:00+01:00"));

const clock = (state: SlaState, id: string) => state.clocks.find((c) => `${c.name}.${c.cycle}` === id);

describe("startSla", () => {
  it("starts first-response and resolution clocks on business time", () => {
    const state = startTuesday10();
    const view = slaView(state, at("2026-11-24T10:00+01:00"));
    expect(view).toEqual({
      policy: "v1",
      priority: "P3",
      firstResponseDue: iso("2026-11-24T11:00+01:00"),
      nextResponseDue: null,
      // 2h before lunch, 4h after, then 2h on Wednesday morning.
      resolutionDue: iso("2026-11-25T11:00+01:00"),
      paused: false,
      warnings: [],
      breaches: [],
      level: 0,
    });
  });

  it("carries a Friday-afternoon ticket over the weekend", () => {
    const state = startSla(ticket, policy, parisCalendar, at("2026-11-27T16:30+01:00"));
    expect(slaView(state, at("2026-11-27T16:30+01:00")).firstResponseDue).toBe(iso("2026-11-30T09:30+01:00"));
  });

  it("runs P1 clocks around the clock", () => {
    const state = startSla({ ...ticket, priority: "P1" }, policy, parisCalendar, at("2026-11-28T03:00+01:00"));
    const view = slaView(state, at("2026-11-28T03:00+01:00"));
    expect(view.firstResponseDue).toBe(iso("2026-11-28T03:15+01:00"));
    expect(view.resolutionDue).toBe(iso("2026-11-28T05:00+01:00"));
  });

  it("is plain JSON", () => {
    const state = startTuesday10();
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe("responses and customer messages", () => {
  it("stops the first-response clock on the agent's reply, met in time", () => {
    const state = onAgentResponse(startTuesday10(), at("2026-11-24T10:40+01:00"));
    const first = clock(state, "firstResponse.1")!;
    expect(clockStatus(first)).toBe("stopped");
    expect(first.elapsedMs).toBe(40 * MINUTE_MS);
    const view = slaView(state, at("2026-11-24T12:00+01:00"));
    expect(view.firstResponseDue).toBeNull();
    expect(view.breaches).toEqual([]);
    expect(view.resolutionDue).toBe(iso("2026-11-25T11:00+01:00"));
  });

  it("records a late reply as a breach at the deadline", () => {
    const state = onAgentResponse(startTuesday10(), at("2026-11-24T11:20+01:00"));
    expect(slaView(state, at("2026-11-24T11:20+01:00")).breaches).toEqual([{ clock: "firstResponse", clockId: "firstResponse.1", at: iso("2026-11-24T11:00+01:00") }]);
  });

  it("starts a next-response clock for each customer message after a reply", () => {
    let state = onAgentResponse(startTuesday10(), at("2026-11-24T10:30+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T14:00+01:00"));
    expect(slaView(state, at("2026-11-24T14:00+01:00")).nextResponseDue).toBe(iso("2026-11-24T16:00+01:00"));
    // A second message while we still owe an answer does not restart the wait.
    const again = onCustomerMessage(state, at("2026-11-24T15:00+01:00"));
    expect(again).toBe(state);
    state = onAgentResponse(state, at("2026-11-24T15:30+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T16:30+01:00"));
    expect(state.clocks.map((c) => `${c.name}.${c.cycle}:${clockStatus(c)}`)).toEqual([
      "firstResponse.1:stopped",
      "resolution.1:running",
      "nextResponse.1:stopped",
      "nextResponse.2:running",
    ]);
    // 30 minutes on Tuesday, 90 on Wednesday morning.
    expect(slaView(state, at("2026-11-24T16:30+01:00")).nextResponseDue).toBe(iso("2026-11-25T10:30+01:00"));
  });

  it("does not start a next-response clock while the first response is still owed", () => {
    const state = startTuesday10();
    const next = onCustomerMessage(state, at("2026-11-24T10:10+01:00"));
    expect(next).toBe(state);
  });

  it("leaves a resolved ticket alone until it is reopened", () => {
    const resolved = onResolved(startTuesday10(), at("2026-11-24T11:30+01:00"));
    expect(onCustomerMessage(resolved, at("2026-11-24T12:00+01:00"), { answerDidNotHelp: true })).toBe(resolved);
    expect(onAgentResponse(resolved, at("2026-11-24T12:00+01:00"))).toBe(resolved);
  });
});

describe("waiting on the customer", () => {
  it("pauses the clocks and carries the remaining business time over", () => {
    let state = pause(startTuesday10(), at("2026-11-24T10:30+01:00"));
    const paused = slaView(state, at("2026-11-25T10:00+01:00"));
    expect(paused).toMatchObject({ paused: true, firstResponseDue: null, resolutionDue: null, warnings: [], breaches: [] });
    state = resume(state, at("2026-11-26T16:00+01:00"));
    const view = slaView(state, at("2026-11-26T16:00+01:00"));
    expect(view.paused).toBe(false);
    // 30 minutes of first response were left.
    expect(view.firstResponseDue).toBe(iso("2026-11-26T16:30+01:00"));
    // 450 resolution minutes left: 60 on Thursday, 180 Friday morning, 210 Friday afternoon.
    expect(view.resolutionDue).toBe(iso("2026-11-27T16:30+01:00"));
  });

  it("resumes when the customer replies", () => {
    const waiting = pause(onAgentResponse(startTuesday10(), at("2026-11-24T10:20+01:00")), at("2026-11-24T10:20+01:00"));
    const replied = onCustomerMessage(waiting, at("2026-11-30T09:00+01:00"));
    const view = slaView(replied, at("2026-11-30T09:00+01:00"));
    expect(view.paused).toBe(false);
    expect(view.nextResponseDue).toBe(iso("2026-11-30T11:00+01:00"));
    // 20 minutes were used before the wait; 460 remain from Monday 09:00: 420 on Monday, 40 on Tuesday.
    expect(view.resolutionDue).toBe(iso("2026-12-01T09:40+01:00"));
  });

  it("ignores a pause while already paused and a resume while running", () => {
    const state = startTuesday10();
    expect(resume(state, at("2026-11-24T10:30+01:00"))).toBe(state);
    const paused = pause(state, at("2026-11-24T10:30+01:00"));
    expect(pause(paused, at("2026-11-24T11:30+01:00"))).toBe(paused);
  });
});

describe("resolution and reopening", () => {
  it("stops every clock on resolution", () => {
    const state = onResolved(startTuesday10(), at("2026-11-24T10:50+01:00"));
    expect(state.clocks.every((c) => clockStatus(c) === "stopped")).toBe(true);
    expect(slaView(state, at("2026-11-30T10:00+01:00"))).toMatchObject({ firstResponseDue: null, resolutionDue: null, breaches: [] });
    expect(onResolved(state, at("2026-11-24T11:00+01:00"))).toBe(state);
  });

  it("runs the resolution clock again from its counted time on reopening", () => {
    let state = onResolved(onAgentResponse(startTuesday10(), at("2026-11-24T10:30+01:00")), at("2026-11-24T11:00+01:00"));
    state = onReopened(state, at("2026-11-26T09:00+01:00"));
    // 60 minutes counted before resolution, 420 left from Thursday 09:00.
    expect(slaView(state, at("2026-11-26T09:00+01:00")).resolutionDue).toBe(iso("2026-11-26T17:00+01:00"));
    expect(onReopened(state, at("2026-11-26T10:00+01:00"))).toBe(state);
  });
});

describe("ownership", () => {
  it("records the first owner and refuses a different one", () => {
    const owned = onOwnerAssigned(startTuesday10(), "agent-7");
    expect(owned.ownerId).toBe("agent-7");
    expect(onOwnerAssigned(owned, "agent-7")).toBe(owned);
    expect(() => onOwnerAssigned(owned, "agent-8")).toThrow(SlaOwnershipConflictError);
  });
});

describe("priority changes", () => {
  it("retargets open clocks from their counted time when priority is reassessed", () => {
    const state = onPriorityChanged(startTuesday10(), "P2", at("2026-11-24T10:20+01:00"));
    const view = slaView(state, at("2026-11-24T10:20+01:00"));
    expect(view.priority).toBe("P2");
    // P2: first response 30 minutes, resolution 240, both counted from 10:00.
    expect(view.firstResponseDue).toBe(iso("2026-11-24T10:30+01:00"));
    expect(view.resolutionDue).toBe(iso("2026-11-24T15:00+01:00"));
  });

  it("only records a raise made by the escalation ladder", () => {
    const state = startTuesday10();
    const raised = onPriorityChanged(state, "P2", at("2026-11-24T11:30+01:00"), "slaEscalation");
    expect(raised.priority).toBe("P2");
    expect(raised.clocks).toBe(state.clocks);
  });

  it("retargets when a reassessment confirms the priority the ladder raised to", () => {
    const raised = onPriorityChanged(startTuesday10(), "P2", at("2026-11-24T10:05+01:00"), "slaEscalation");
    const confirmed = onPriorityChanged(raised, "P2", at("2026-11-24T10:20+01:00"));
    expect(slaView(confirmed, at("2026-11-24T10:20+01:00")).firstResponseDue).toBe(iso("2026-11-24T10:30+01:00"));
    expect(onPriorityChanged(confirmed, "P2", at("2026-11-24T10:25+01:00"))).toBe(confirmed);
  });

  it("keeps the deadline of a clock that already breached", () => {
    const state = onPriorityChanged(startTuesday10(), "P4", at("2026-11-24T11:30+01:00"));
    const view = slaView(state, at("2026-11-24T11:30+01:00"));
    expect(view.breaches).toEqual([{ clock: "firstResponse", clockId: "firstResponse.1", at: iso("2026-11-24T11:00+01:00") }]);
    // The resolution clock had not breached: it moves to P4's 960 minutes.
    expect(clock(state, "resolution.1")!.target.minutes).toBe(960);
    expect(clock(state, "firstResponse.1")!.target.minutes).toBe(60);
  });
});

describe("applyPolicyChange", () => {
  const looser = testPolicy("v2", { ...TEST_TARGET_MINUTES, P3: [120, 180, 600] });

  it("recomputes open deadlines once from the recorded elapsed time", () => {
    const state = applyPolicyChange(startTuesday10(), looser, parisCalendar, at("2026-11-24T10:30+01:00"));
    const view = slaView(state, at("2026-11-24T10:30+01:00"));
    expect(view.policy).toBe("v2");
    expect(view.firstResponseDue).toBe(iso("2026-11-24T12:00+01:00"));
    // 600 minutes from Tuesday 10:00: 360 on Tuesday, 240 on Wednesday.
    expect(view.resolutionDue).toBe(iso("2026-11-25T14:00+01:00"));
  });

  it("is a no-op when applied again with the same version and calendar", () => {
    const once = applyPolicyChange(startTuesday10(), looser, parisCalendar, at("2026-11-24T10:30+01:00"));
    const twice = applyPolicyChange(once, looser, parisCalendar, at("2026-11-24T11:45+01:00"));
    expect(twice).toBe(once);
    expect(applyPolicyChange(once, testPolicy("v2"), structuredClone(parisCalendar), at("2026-11-25T09:00+01:00"))).toBe(once);
  });

  it("leaves stopped clocks and already-breached clocks where they were", () => {
    let state = onAgentResponse(startTuesday10(), at("2026-11-24T10:10+01:00"));
    state = onCustomerMessage(state, at("2026-11-24T10:15+01:00"));
    // The next-response clock (120 minutes) breaches at 13:15; the policy change comes at 14:00.
    state = applyPolicyChange(state, looser, parisCalendar, at("2026-11-24T14:00+01:00"));
    expect(clock(state, "firstResponse.1")!.target.minutes).toBe(60);
    expect(clock(state, "nextResponse.1")!.deadline).toBe(iso("2026-11-24T13:15+01:00"));
    expect(clock(state, "nextResponse.1")!.target.minutes).toBe(120);
    expect(clock(state, "resolution.1")!.target.minutes).toBe(600);
  });

  it("applies to a paused clock when it resumes", () => {
    let state = pause(startTuesday10(), at("2026-11-24T10:30+01:00"));
    state = applyPolicyChange(state, looser, parisCalendar, at("2026-11-25T09:00+01:00"));
    state = resume(state, at("2026-11-26T09:00+01:00"));
    expect(slaView(state, at("2026-11-26T09:00+01:00")).firstResponseDue).toBe(iso("2026-11-26T10:30+01:00"));
  });

  it("makes a clock due at once when its counted time already exceeds the new target", () => {
    const tighter = testPolicy("v3", { ...TEST_TARGET_MINUTES, P3: [20, 120, 480] });
    const state = applyPolicyChange(startTuesday10(), tighter, parisCalendar, at("2026-11-24T10:30+01:00"));
    expect(slaView(state, at("2026-11-24T10:30+01:00")).breaches).toEqual([{ clock: "firstResponse", clockId: "firstResponse.1", at: iso("2026-11-24T10:30+01:00") }]);
  });

  it("switches to a new calendar for the time still to count", () => {
    const allWeek = businessCalendarSchema.parse({
      ...parisCalendar,
      weeklyHours: { ...parisCalendar.weeklyHours, sat: [{ start: "09:00", end: "17:00" }] },
    });
    const friday = startSla(ticket, policy, parisCalendar, at("2026-11-27T16:30+01:00"));
    const state = applyPolicyChange(friday, policy, allWeek, at("2026-11-27T16:40+01:00"));
    expect(state.calendar).toBe(allWeek);
    // 10 minutes counted on Friday; the remaining 50 now fall on Saturday morning.
    expect(slaView(state, at("2026-11-27T16:40+01:00")).firstResponseDue).toBe(iso("2026-11-28T09:30+01:00"));
  });
});
