// One SLA clock (first response, one next-response cycle, or resolution): it accumulates clock time
// while running, carries it over pauses, and knows when its target (and any threshold) is reached.

import { businessTime, continuousTime, type BusinessCalendar, type TimeMeasure } from "./business-calendar.ts";
import type { ClockName } from "./sla-policy.ts";
import { MINUTE_MS } from "./zoned-time.ts";

/** A target with the policy defaults filled in. */
export type ClockTarget = {
  readonly minutes: number;
  readonly businessHours: boolean;
  readonly warningShare: number;
};

export type SlaClock = {
  readonly name: ClockName;
  /** 1 for first response and resolution; n for the n-th next-response clock of the ticket. */
  readonly cycle: number;
  readonly target: ClockTarget;
  /** Clock time accumulated before the running segment (all of it while paused or stopped). */
  readonly elapsedMs: number;
  /** Start of the running segment (ISO); null while paused or stopped. */
  readonly runningSince: string | null;
  /** When the target is (or was) reached while running; null while paused; kept once stopped. */
  readonly deadline: string | null;
  /** When elapsed time reached the target, once that moment is in the past; survives retargeting. */
  readonly overdueSince: string | null;
  readonly stoppedAt: string | null;
  /** Actions recorded as done, as "kind:level" (e.g. "warning:0", "owned.notifyOwner:1"). */
  readonly done: readonly string[];
};

export type ClockStatus = "running" | "paused" | "stopped";

export function clockStatus(clock: SlaClock): ClockStatus {
  if (clock.stoppedAt !== null) return "stopped";
  return clock.runningSince === null ? "paused" : "running";
}

/** "firstResponse.1", "nextResponse.3": names the clock in action keys. */
export function clockId(clock: Pick<SlaClock, "name" | "cycle">): string {
  return `${clock.name}.${clock.cycle}`;
}

export function targetMs(target: ClockTarget): number {
  // Rounded: a target given in seconds is a fraction of a minute.
  return Math.round(target.minutes * MINUTE_MS);
}

/** Clock time after which the clock warns that its target is at risk. */
export function warningThresholdMs(target: ClockTarget): number {
  return Math.round(targetMs(target) * target.warningShare);
}

export function measureOf(target: ClockTarget, calendar: BusinessCalendar): TimeMeasure {
  return target.businessHours ? businessTime(calendar) : continuousTime;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (isoText: string): number => Date.parse(isoText);

/**
 * When a running clock's elapsed time reaches `thresholdMs`: the segment start if it already had,
 * otherwise the instant the remaining clock time runs out. Null unless running.
 */
export function thresholdReachedAt(clock: SlaClock, calendar: BusinessCalendar, thresholdMs: number): string | null {
  if (clockStatus(clock) !== "running" || clock.runningSince === null) return null;
  if (clock.elapsedMs >= thresholdMs) return clock.runningSince;
  return iso(measureOf(clock.target, calendar).add(ms(clock.runningSince), thresholdMs - clock.elapsedMs));
}

/** Clock time elapsed at `nowMs`. */
export function elapsedAt(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): number {
  if (clock.runningSince === null) return clock.elapsedMs;
  return clock.elapsedMs + measureOf(clock.target, calendar).between(ms(clock.runningSince), nowMs);
}

function runFrom(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  const running = { ...clock, runningSince: iso(nowMs), stoppedAt: null };
  const deadline = clock.overdueSince ?? thresholdReachedAt({ ...running, deadline: null }, calendar, targetMs(clock.target));
  return { ...running, deadline };
}

export function startClock(name: ClockName, cycle: number, target: ClockTarget, calendar: BusinessCalendar, nowMs: number): SlaClock {
  const fresh: SlaClock = {
    name,
    cycle,
    target,
    elapsedMs: 0,
    runningSince: null,
    deadline: null,
    overdueSince: null,
    stoppedAt: null,
    done: [],
  };
  return runFrom(fresh, calendar, nowMs);
}

/**
 * Books the running segment up to `nowMs` into `elapsedMs` and restarts the segment at `nowMs`,
 * noting when the target was crossed. A paused or stopped clock is returned unchanged.
 */
function bookElapsed(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  if (clockStatus(clock) !== "running") return clock;
  const elapsedMs = elapsedAt(clock, calendar, nowMs);
  const crossedTarget = clock.overdueSince === null && elapsedMs >= targetMs(clock.target);
  return {
    ...clock,
    elapsedMs,
    runningSince: iso(nowMs),
    overdueSince: crossedTarget ? clock.deadline : clock.overdueSince,
  };
}

export function pauseClock(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  if (clockStatus(clock) !== "running") return clock;
  return { ...bookElapsed(clock, calendar, nowMs), runningSince: null, deadline: null };
}

export function resumeClock(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  if (clockStatus(clock) !== "paused") return clock;
  return runFrom(clock, calendar, nowMs);
}

export function stopClock(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  if (clockStatus(clock) === "stopped") return clock;
  return { ...bookElapsed(clock, calendar, nowMs), runningSince: null, stoppedAt: iso(nowMs) };
}

/** Runs a stopped clock again from `nowMs`, keeping its elapsed time and history. */
export function restartClock(clock: SlaClock, calendar: BusinessCalendar, nowMs: number): SlaClock {
  if (clockStatus(clock) !== "stopped") return clock;
  return runFrom({ ...clock, stoppedAt: null }, calendar, nowMs);
}

/**
 * Moves an open clock to a new target (and possibly calendar), keeping the clock time it has recorded:
 * time until `nowMs` is measured with the old calendar, time after with the new one. A clock that is
 * already overdue keeps its target and deadline: the promise it made was already broken, and moving
 * it would re-run or erase a breach that customers already felt.
 */
export function retargetClock(clock: SlaClock, target: ClockTarget, oldCalendar: BusinessCalendar, newCalendar: BusinessCalendar, nowMs: number): SlaClock {
  const status = clockStatus(clock);
  if (status === "stopped") return clock;
  const booked = bookElapsed(clock, oldCalendar, nowMs);
  if (booked.overdueSince !== null) {
    return status === "running" ? runFrom(booked, newCalendar, nowMs) : booked;
  }
  const overdueNow = booked.elapsedMs >= targetMs(target);
  const retargeted: SlaClock = { ...booked, target, overdueSince: overdueNow ? iso(nowMs) : null };
  return status === "running" ? runFrom(retargeted, newCalendar, nowMs) : retargeted;
}

/** Whether the clock's target is reached at `nowMs` (recorded or by the running deadline). */
export function isOverdueAt(clock: SlaClock, nowMs: number): boolean {
  if (clock.overdueSince !== null) return ms(clock.overdueSince) <= nowMs;
  return clockStatus(clock) === "running" && clock.deadline !== null && ms(clock.deadline) <= nowMs;
}

/** The moment the clock breached, if it has by `nowMs`. */
export function breachedAt(clock: SlaClock, nowMs: number): string | null {
  if (!isOverdueAt(clock, nowMs)) return null;
  return clock.overdueSince ?? clock.deadline;
}
