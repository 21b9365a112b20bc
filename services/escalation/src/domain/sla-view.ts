// The ticket's SLA as the API shows it, computed from the state at a given instant: current due
// times, whether the clocks wait on the customer, which clocks are at risk or breached, and the
// escalation level reached.

import { breachedAt, clockId, clockStatus, thresholdReachedAt, warningThresholdMs, type SlaClock } from "./sla-clock.ts";
import type { ClockName, Priority } from "./sla-policy.ts";
import { escalationLevel, type SlaState } from "./sla-state.ts";

export type SlaClockEvent = {
  readonly clock: ClockName;
  /** "nextResponse.2": which clock of that name. */
  readonly clockId: string;
  readonly at: string;
};

export type SlaView = {
  /** Policy version the deadlines were computed with. */
  readonly policy: string;
  readonly priority: Priority;
  readonly firstResponseDue: string | null;
  readonly nextResponseDue: string | null;
  readonly resolutionDue: string | null;
  /** Clocks are paused while the ticket waits on the customer. */
  readonly paused: boolean;
  /** Running clocks past their warning point and not yet breached, with when they crossed it. */
  readonly warnings: readonly SlaClockEvent[];
  /** Every clock that breached by now, running or stopped, with when it breached. */
  readonly breaches: readonly SlaClockEvent[];
  /** Highest escalation ladder level carried out, 0 if none. */
  readonly level: number;
};

function currentClock(state: SlaState, name: ClockName): SlaClock | undefined {
  return state.clocks.findLast((clock) => clock.name === name);
}

function dueOf(state: SlaState, name: ClockName): string | null {
  const clock = currentClock(state, name);
  return clock !== undefined && clockStatus(clock) === "running" ? clock.deadline : null;
}

export function slaView(state: SlaState, now: Date): SlaView {
  const nowMs = now.getTime();
  const warnings: SlaClockEvent[] = [];
  const breaches: SlaClockEvent[] = [];
  for (const clock of state.clocks) {
    const breach = breachedAt(clock, nowMs);
    if (breach !== null) {
      breaches.push({ clock: clock.name, clockId: clockId(clock), at: breach });
      continue;
    }
    const warningAt = thresholdReachedAt(clock, state.calendar, warningThresholdMs(clock.target));
    if (warningAt !== null && Date.parse(warningAt) <= nowMs) warnings.push({ clock: clock.name, clockId: clockId(clock), at: warningAt });
  }
  return {
    policy: state.rules.version,
    priority: state.priority,
    firstResponseDue: dueOf(state, "firstResponse"),
    nextResponseDue: dueOf(state, "nextResponse"),
    resolutionDue: dueOf(state, "resolution"),
    paused: state.waitingOnCustomer,
    warnings,
    breaches,
    level: escalationLevel(state),
  };
}
