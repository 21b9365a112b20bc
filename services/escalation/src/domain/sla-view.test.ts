import { describe, expect, it } from "vitest";
import { dueActions, markActionDone } from "./sla-actions.ts";
import { onAgentResponse, onCustomerMessage, onOwnerAssigned, pause, startSla } from "./sla-state.ts";
import { at, parisCalendar, testPolicy } from "../../test-support/sla-fixtures.ts";
import { slaView } from "./sla-view.ts";

const iso = (isoWithOffset: string): string => at(isoWithOffset).toISOString();
const opened = () => onOwnerAssigned(startSla({ id: "T-1", priority: "P3", channel: "chat" }, testPolicy(), parisCalendar, at("2026-11-24T10:00+01:00")), "agent-7");

describe("slaView", () => {
  it("lists a clock at risk once past its warning point, computed from the state even before the timer fires", () => {
    const view = slaView(opened(), at("2026-11-24T10:50+01:00"));
    expect(view.warnings).toEqual([{ clock: "firstResponse", clockId: "firstResponse.1", at: iso("2026-11-24T10:45+01:00") }]);
    expect(view.breaches).toEqual([]);
    expect(view.level).toBe(0);
  });

  it("moves a clock from warnings to breaches at its deadline and keeps the breach after the reply", () => {
    const atDeadline = slaView(opened(), at("2026-11-24T11:00+01:00"));
    expect(atDeadline.warnings).toEqual([]);
    expect(atDeadline.breaches).toEqual([{ clock: "firstResponse", clockId: "firstResponse.1", at: iso("2026-11-24T11:00+01:00") }]);
    const replied = onAgentResponse(opened(), at("2026-11-24T11:30+01:00"));
    expect(slaView(replied, at("2026-11-25T09:00+01:00")).breaches).toEqual(atDeadline.breaches);
  });

  it("shows the current next-response due time and the escalation level carried out", () => {
    let state = onCustomerMessage(onAgentResponse(opened(), at("2026-11-24T10:10+01:00")), at("2026-11-24T10:20+01:00"), { answerDidNotHelp: true });
    state = dueActions(state, at("2026-11-24T10:20+01:00")).reduce((s, action) => markActionDone(s, action.key), state);
    const view = slaView(state, at("2026-11-24T10:20+01:00"));
    // 120 minutes from 10:20: 100 before lunch, 20 after.
    expect(view.nextResponseDue).toBe(iso("2026-11-24T13:20+01:00"));
    expect(view.level).toBe(2);
  });

  it("hides due times and warnings while the ticket waits on the customer", () => {
    const view = slaView(pause(opened(), at("2026-11-24T10:50+01:00")), at("2026-11-24T16:00+01:00"));
    expect(view).toEqual({
      policy: "v1",
      priority: "P3",
      firstResponseDue: null,
      nextResponseDue: null,
      resolutionDue: null,
      paused: true,
      warnings: [],
      breaches: [],
      level: 0,
    });
  });
});
