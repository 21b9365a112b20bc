// Properties that must hold for any sequence of ticket events, checked on random ones.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { businessTimeBetween } from "./business-calendar.ts";
import { dueActions, markActionDone, nextWakeAt, parseActionKey, pendingActions } from "./sla-actions.ts";
import { clockStatus } from "./sla-clock.ts";
import { CHANNELS, CLOCK_NAMES, PRIORITIES, type SlaPolicy } from "./sla-policy.ts";
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
} from "./sla-state.ts";
import { parisCalendar, testPolicy, TEST_TARGET_MINUTES } from "../../test-support/sla-fixtures.ts";
import { slaView } from "./sla-view.ts";
import { MINUTE_MS } from "./zoned-time.ts";

const policies: readonly SlaPolicy[] = [
  testPolicy("v1"),
  testPolicy("v2", { ...TEST_TARGET_MINUTES, P3: [120, 180, 600], P4: [240, 480, 1920] }),
  testPolicy("v3", { P1: [5, 10, 60], P2: [10, 20, 120], P3: [20, 40, 240], P4: [40, 80, 480] }),
];

type TicketEvent =
  | { type: "agentResponse" }
  | { type: "customerMessage"; answerDidNotHelp: boolean; repeatContact: boolean }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "resolve" }
  | { type: "reopen" }
  | { type: "priority"; priority: (typeof PRIORITIES)[number]; cause: "reassessment" | "slaEscalation" }
  | { type: "policy"; index: number }
  | { type: "assign"; ownerId: string }
  | { type: "timer" };

const eventArbitrary: fc.Arbitrary<TicketEvent> = fc.oneof(
  fc.constant({ type: "agentResponse" } as const),
  fc.record({ type: fc.constant("customerMessage" as const), answerDidNotHelp: fc.boolean(), repeatContact: fc.boolean() }),
  fc.constant({ type: "pause" } as const),
  fc.constant({ type: "resume" } as const),
  fc.constant({ type: "resolve" } as const),
  fc.constant({ type: "reopen" } as const),
  fc.record({ type: fc.constant("priority" as const), priority: fc.constantFrom(...PRIORITIES), cause: fc.constantFrom("reassessment" as const, "slaEscalation" as const) }),
  fc.record({ type: fc.constant("policy" as const), index: fc.integer({ min: 0, max: policies.length - 1 }) }),
  fc.record({ type: fc.constant("assign" as const), ownerId: fc.constantFrom("agent-A", "agent-B") }),
  fc.constant({ type: "timer" } as const),
);

const scenarioArbitrary = fc.record({
  startMs: fc.integer({ min: Date.parse("2026-01-01T00:00Z"), max: Date.parse("2027-12-31T00:00Z") }),
  priority: fc.constantFrom(...PRIORITIES),
  channel: fc.constantFrom(...CHANNELS),
  ownerId: fc.option(fc.constantFrom("agent-A", "agent-B"), { nil: null }),
  repeatContact: fc.boolean(),
  steps: fc.array(fc.record({ gapMinutes: fc.integer({ min: 0, max: 3 * 24 * 60 }), event: eventArbitrary }), { maxLength: 14 }),
});

function apply(state: SlaState, event: TicketEvent, now: Date): SlaState {
  switch (event.type) {
    case "agentResponse":
      return onAgentResponse(state, now);
    case "customerMessage":
      return onCustomerMessage(state, now, event);
    case "pause":
      return pause(state, now);
    case "resume":
      return resume(state, now);
    case "resolve":
      return onResolved(state, now);
    case "reopen":
      return onReopened(state, now);
    case "priority":
      return onPriorityChanged(state, event.priority, now, event.cause);
    case "policy":
      return applyPolicyChange(state, policies[event.index]!, parisCalendar, now);
    case "assign":
      try {
        return onOwnerAssigned(state, event.ownerId);
      } catch (error) {
        expect(error).toBeInstanceOf(SlaOwnershipConflictError);
        return state;
      }
    case "timer":
      return dueActions(state, now).reduce((s, action) => markActionDone(s, action.key), state);
  }
}

const OWNED_EFFECTS = ["slaWarning", "slaBreach", "notifyOwner", "raisePriority", "notifySupervisor", "addCollaborator"];
const WAITING_EFFECTS = ["slaWarning", "slaBreach", "raisePriority", "notifySupervisor", "widenRouting"];

function checkInvariants(state: SlaState, nowMs: number, previousOwner: string | null): void {
  if (previousOwner !== null) expect(state.ownerId).toBe(previousOwner);

  const now = new Date(nowMs);
  const due = dueActions(state, now);
  const keys = due.map((action) => action.key);
  expect(new Set(keys).size).toBe(keys.length);
  for (const action of due) {
    const parsed = parseActionKey(action.key);
    expect(parsed.ticketId).toBe(state.ticketId);
    expect(parsed.policyVersion).toBe(state.rules.version);
    expect(Date.parse(action.dueAt)).toBeLessThanOrEqual(nowMs);
    const allowed = action.kind.startsWith("owned.") ? OWNED_EFFECTS : action.kind.startsWith("waiting.") ? WAITING_EFFECTS : ["slaWarning", "slaBreach"];
    expect(allowed).toContain(action.effect.type);
    if (action.effect.type === "notifyOwner") expect(action.effect.ownerId).toBe(state.ownerId);
  }

  // Time only adds due actions.
  const later = new Set(dueActions(state, new Date(nowMs + 5 * 24 * 60 * MINUTE_MS)).map((action) => action.key));
  for (const key of keys) expect(later.has(key)).toBe(true);

  // The durable timer wakes exactly when the first action falls due.
  const wake = nextWakeAt(state);
  if (wake === null) {
    expect(pendingActions(state)).toEqual([]);
  } else {
    expect(dueActions(state, new Date(wake)).length).toBeGreaterThan(0);
    expect(dueActions(state, new Date(Date.parse(wake) - 1))).toEqual([]);
  }

  for (const name of CLOCK_NAMES) {
    expect(state.clocks.filter((clock) => clock.name === name && clockStatus(clock) !== "stopped").length).toBeLessThanOrEqual(1);
  }
  if (state.status === "resolved") expect(state.clocks.every((clock) => clockStatus(clock) === "stopped")).toBe(true);
  if (state.waitingOnCustomer) expect(state.clocks.some((clock) => clockStatus(clock) === "running")).toBe(false);

  // Plain data: the store's JSON round trip changes nothing.
  const restored = JSON.parse(JSON.stringify(state)) as SlaState;
  expect(dueActions(restored, now)).toEqual(due);
  expect(slaView(restored, now)).toEqual(slaView(state, now));

  // Re-applying the current policy, or re-marking a done action, is a no-op.
  const current = policies.find((policy) => policy.version === state.rules.version)!;
  expect(applyPolicyChange(state, current, parisCalendar, now)).toBe(state);
  if (due[0] !== undefined) {
    const marked = markActionDone(state, due[0].key);
    expect(markActionDone(marked, due[0].key)).toBe(marked);
  }
}

describe("SLA state properties", () => {
  it("hold for any sequence of ticket events", () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        let nowMs = scenario.startMs;
        let state = startSla(
          { id: "T-prop", priority: scenario.priority, channel: scenario.channel, ownerId: scenario.ownerId, repeatContact: scenario.repeatContact },
          policies[0]!,
          parisCalendar,
          new Date(nowMs),
        );
        checkInvariants(state, nowMs, null);
        for (const step of scenario.steps) {
          nowMs += step.gapMinutes * MINUTE_MS;
          const owner = state.ownerId;
          state = apply(state, step.event, new Date(nowMs));
          checkInvariants(state, nowMs, owner);
        }
      }),
      { numRuns: 150 },
    );
  }, 30_000);

  it("count exactly the business time a clock ran, across any pauses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("2026-01-01T00:00Z"), max: Date.parse("2027-12-31T00:00Z") }),
        fc.array(fc.integer({ min: 1, max: 2 * 24 * 60 }), { minLength: 1, maxLength: 9 }),
        (startMs, gapsMinutes) => {
          let nowMs = startMs;
          let state = startSla({ id: "T-pause", priority: "P4", channel: "email" }, policies[0]!, parisCalendar, new Date(nowMs));
          let expectedMs = 0;
          gapsMinutes.forEach((gap, i) => {
            const segmentStart = nowMs;
            nowMs += gap * MINUTE_MS;
            const running = i % 2 === 0;
            if (running) expectedMs += businessTimeBetween(parisCalendar, segmentStart, nowMs);
            state = running ? pause(state, new Date(nowMs)) : resume(state, new Date(nowMs));
          });
          state = onAgentResponse(state, new Date(nowMs));
          const firstResponse = state.clocks.find((clock) => clock.name === "firstResponse")!;
          expect(firstResponse.elapsedMs).toBe(expectedMs);
          const breached = slaView(state, new Date(nowMs)).breaches.some((breach) => breach.clock === "firstResponse");
          expect(breached).toBe(expectedMs >= firstResponse.target.minutes * MINUTE_MS);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("give deadlines that never come earlier for a longer target", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("2026-01-01T00:00Z"), max: Date.parse("2027-12-31T00:00Z") }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(...PRIORITIES),
        (startMs, a, b, priority) => {
          const [shorter, longer] = a <= b ? [a, b] : [b, a];
          const deadline = (minutes: number): number => {
            const policy = testPolicy("m", { ...TEST_TARGET_MINUTES, [priority]: [minutes, minutes, minutes] });
            const state = startSla({ id: "T-m", priority, channel: "email" }, policy, parisCalendar, new Date(startMs));
            return Date.parse(slaView(state, new Date(startMs)).firstResponseDue!);
          };
          expect(deadline(shorter)).toBeLessThanOrEqual(deadline(longer));
        },
      ),
      { numRuns: 100 },
    );
  });
});
