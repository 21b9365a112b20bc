// Business calendars (a group's weekly opening hours and holidays in its own time zone) and the two
// questions SLA clocks ask of them: "when will N business milliseconds have passed?" and "how much
// business time lies between two instants?". Business time is real elapsed time, so a DST night
// counts the hours that actually passed.

import { z } from "zod";
import { DAY_MS, MINUTE_MS, instantOfWallTime, isValidTimeZone, localDayOf, parseLocalDate, weekdayOf } from "./zoned-time.ts";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

const isLocalTime = (value: string): boolean => value === "24:00" || HH_MM.test(value);

function minutesOfDay(hhmm: string): number {
  if (hhmm === "24:00") return 24 * 60;
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

const openingIntervalSchema = z
  .strictObject({
    start: z.string().regex(HH_MM, { error: 'must be a local time "HH:MM" from "00:00" to "23:59"' }),
    end: z.string().refine(isLocalTime, { error: 'must be a local time "HH:MM" from "00:01" to "24:00"' }),
  })
  // Malformed times are reported by their own field; only compare well-formed ones.
  .refine((interval) => !isLocalTime(interval.start) || !isLocalTime(interval.end) || minutesOfDay(interval.start) < minutesOfDay(interval.end), {
    error: "start must be before end (split an overnight shift into two days)",
  });

const dayHoursSchema = z
  .array(openingIntervalSchema)
  .default([])
  .refine((intervals) => intervals.every((interval, i) => i === 0 || minutesOfDay(intervals[i - 1]!.end) <= minutesOfDay(interval.start)), {
    error: "intervals must be in order and must not overlap",
  });

export const businessCalendarSchema = z
  .strictObject({
    id: z.string().min(1, { error: "must name the calendar" }),
    timeZone: z.string().refine(isValidTimeZone, { error: 'must be an IANA time zone such as "Europe/Paris"' }),
    weeklyHours: z.strictObject({
      mon: dayHoursSchema,
      tue: dayHoursSchema,
      wed: dayHoursSchema,
      thu: dayHoursSchema,
      fri: dayHoursSchema,
      sat: dayHoursSchema,
      sun: dayHoursSchema,
    }),
    holidays: z.array(z.string().refine((value) => parseLocalDate(value) !== undefined, { error: 'must be a date "YYYY-MM-DD"' })).default([]),
  })
  .refine((calendar) => WEEKDAYS.some((day) => calendar.weeklyHours[day].length > 0), {
    error: "weeklyHours must open at least one interval in the week",
    path: ["weeklyHours"],
  });

/** A validated calendar: times are local to `timeZone`, holidays are local dates "YYYY-MM-DD". */
export type BusinessCalendar = z.output<typeof businessCalendarSchema>;

/** A span of real time [startMs, endMs). */
type Span = { readonly startMs: number; readonly endMs: number };

type CompiledCalendar = {
  readonly timeZone: string;
  readonly minutesByWeekday: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  readonly holidays: ReadonlySet<number>;
};

const compiled = new WeakMap<BusinessCalendar, CompiledCalendar>();

function compile(calendar: BusinessCalendar): CompiledCalendar {
  let result = compiled.get(calendar);
  if (result === undefined) {
    result = {
      timeZone: calendar.timeZone,
      minutesByWeekday: WEEKDAYS.map((day) => calendar.weeklyHours[day].map((interval) => [minutesOfDay(interval.start), minutesOfDay(interval.end)] as const)),
      holidays: new Set(calendar.holidays.map((date) => parseLocalDate(date)).filter((day) => day !== undefined)),
    };
    compiled.set(calendar, result);
  }
  return result;
}

function openSpansOn(calendar: CompiledCalendar, localDay: number): Span[] {
  if (calendar.holidays.has(localDay)) return [];
  const intervals = calendar.minutesByWeekday[weekdayOf(localDay)] ?? [];
  const dayStartWall = localDay * DAY_MS;
  return intervals.map(([startMinute, endMinute]) => ({
    startMs: instantOfWallTime(calendar.timeZone, dayStartWall + startMinute * MINUTE_MS),
    endMs: instantOfWallTime(calendar.timeZone, dayStartWall + endMinute * MINUTE_MS),
  }));
}

/** Longest run of closed days accepted before a calendar is declared unable to ever open. */
const MAX_CLOSED_DAYS = 1000;

export class CalendarNeverOpensError extends Error {
  readonly code = "CALENDAR_NEVER_OPENS";
  constructor(calendarId: string) {
    super(`Business calendar "${calendarId}" has no opening hours in ${MAX_CLOSED_DAYS} consecutive days`);
    this.name = "CalendarNeverOpensError";
  }
}

/**
 * The instant at which `durationMs` of business time will have passed since `startMs`. A zero duration
 * returns `startMs` itself; otherwise the result always lies inside (or at the end of) an opening span.
 */
export function addBusinessTime(calendar: BusinessCalendar, startMs: number, durationMs: number): number {
  if (durationMs <= 0) return startMs;
  const compiledCalendar = compile(calendar);
  let remainingMs = durationMs;
  let cursorMs = startMs;
  let closedDays = 0;
  // Start a day early: a span is filed under the local day it starts on, which around midnight DST
  // transitions may precede the local day of `startMs`.
  for (let day = localDayOf(calendar.timeZone, startMs) - 1; ; day++) {
    let openedToday = false;
    for (const span of openSpansOn(compiledCalendar, day)) {
      const fromMs = Math.max(span.startMs, cursorMs);
      if (span.endMs <= fromMs) continue;
      openedToday = true;
      const availableMs = span.endMs - fromMs;
      if (remainingMs <= availableMs) return fromMs + remainingMs;
      remainingMs -= availableMs;
      cursorMs = span.endMs;
    }
    closedDays = openedToday ? 0 : closedDays + 1;
    if (closedDays > MAX_CLOSED_DAYS) throw new CalendarNeverOpensError(calendar.id);
  }
}

/** Business time between two instants; zero when `toMs` is not after `fromMs`. */
export function businessTimeBetween(calendar: BusinessCalendar, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  const compiledCalendar = compile(calendar);
  const lastDay = localDayOf(calendar.timeZone, toMs) + 1;
  let totalMs = 0;
  let cursorMs = fromMs;
  for (let day = localDayOf(calendar.timeZone, fromMs) - 1; day <= lastDay; day++) {
    for (const span of openSpansOn(compiledCalendar, day)) {
      const overlapStart = Math.max(span.startMs, cursorMs);
      const overlapEnd = Math.min(span.endMs, toMs);
      if (overlapEnd <= overlapStart) continue;
      totalMs += overlapEnd - overlapStart;
      cursorMs = overlapEnd;
    }
  }
  return totalMs;
}

export function isBusinessTime(calendar: BusinessCalendar, instantMs: number): boolean {
  return businessTimeBetween(calendar, instantMs, instantMs + 1) === 1;
}

/**
 * How a clock counts time: on a business calendar, or continuously (24x7). Both answer the same two
 * questions so clocks need not know which one they use.
 */
export type TimeMeasure = {
  readonly add: (startMs: number, durationMs: number) => number;
  readonly between: (fromMs: number, toMs: number) => number;
};

export const continuousTime: TimeMeasure = {
  add: (startMs, durationMs) => startMs + Math.max(0, durationMs),
  between: (fromMs, toMs) => Math.max(0, toMs - fromMs),
};

export function businessTime(calendar: BusinessCalendar): TimeMeasure {
  return {
    add: (startMs, durationMs) => addBusinessTime(calendar, startMs, durationMs),
    between: (fromMs, toMs) => businessTimeBetween(calendar, fromMs, toMs),
  };
}
