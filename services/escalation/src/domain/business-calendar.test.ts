import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { addBusinessTime, businessCalendarSchema, businessTimeBetween, CalendarNeverOpensError, isBusinessTime, type BusinessCalendar } from "./business-calendar.ts";
import { parisCalendar } from "../../test-support/sla-fixtures.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./zoned-time.ts";

const t = (iso: string): number => Date.parse(iso);

const nineToFive = (timeZone: string, extra: Partial<Record<string, unknown>> = {}): BusinessCalendar =>
  businessCalendarSchema.parse({
    id: "office",
    timeZone,
    weeklyHours: Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((day) => [day, [{ start: "09:00", end: "17:00" }]])),
    ...extra,
  });

const allDaySundays = (timeZone: string): BusinessCalendar => businessCalendarSchema.parse({ id: "sundays", timeZone, weeklyHours: { sun: [{ start: "00:00", end: "24:00" }] } });

describe("addBusinessTime", () => {
  it("stays within the day when the hours fit", () => {
    expect(addBusinessTime(parisCalendar, t("2026-11-24T09:30+01:00"), 2 * HOUR_MS)).toBe(t("2026-11-24T11:30+01:00"));
  });

  it("skips the lunch break between two intervals of a day", () => {
    expect(addBusinessTime(parisCalendar, t("2026-11-24T11:00+01:00"), 2 * HOUR_MS)).toBe(t("2026-11-24T14:00+01:00"));
  });

  it("starts counting at opening time when started outside business hours", () => {
    expect(addBusinessTime(parisCalendar, t("2026-11-24T06:00+01:00"), 30 * MINUTE_MS)).toBe(t("2026-11-24T09:30+01:00"));
    expect(addBusinessTime(parisCalendar, t("2026-11-24T12:15+01:00"), 30 * MINUTE_MS)).toBe(t("2026-11-24T13:30+01:00"));
  });

  it("lands exactly on closing time when the time runs out there", () => {
    expect(addBusinessTime(parisCalendar, t("2026-11-24T16:00+01:00"), HOUR_MS)).toBe(t("2026-11-24T17:00+01:00"));
  });

  it("carries over a weekend", () => {
    // Friday 16:00 + 2h: one hour on Friday, one on Monday morning.
    expect(addBusinessTime(parisCalendar, t("2026-11-27T16:00+01:00"), 2 * HOUR_MS)).toBe(t("2026-11-30T10:00+01:00"));
  });

  it("carries over a holiday and the weekend after it", () => {
    // Thursday 24 Dec 16:00 + 2h: Christmas Friday is a holiday, then the weekend.
    expect(addBusinessTime(parisCalendar, t("2026-12-24T16:00+01:00"), 2 * HOUR_MS)).toBe(t("2026-12-28T10:00+01:00"));
  });

  it("reads holidays as dates in the calendar's own zone", () => {
    // Auckland's 25 Dec starts at 11:00 UTC on the 24th.
    const auckland = nineToFive("Pacific/Auckland", { holidays: ["2026-12-25"] });
    expect(addBusinessTime(auckland, t("2026-12-24T16:00+13:00"), 2 * HOUR_MS)).toBe(t("2026-12-28T10:00+13:00"));
  });

  it("uses the new offset after a spring-forward weekend", () => {
    // Paris moves to summer time on Sunday 29 March 2026: Monday 10:00 is 08:00 UTC, not 09:00.
    const deadline = addBusinessTime(parisCalendar, t("2026-03-27T16:00+01:00"), 2 * HOUR_MS);
    expect(new Date(deadline).toISOString()).toBe("2026-03-30T08:00:00.000Z");
    // New York springs forward on Sunday 8 March 2026.
    const newYork = nineToFive("America/New_York");
    expect(new Date(addBusinessTime(newYork, t("2026-03-06T16:00-05:00"), 2 * HOUR_MS)).toISOString()).toBe("2026-03-09T14:00:00.000Z");
  });

  it("counts the hours that really pass on a DST day", () => {
    // A calendar open all Sunday: 29 March 2026 in Paris lasts 23 hours, 25 October 25 hours.
    const sundays = allDaySundays("Europe/Paris");
    expect(businessTimeBetween(sundays, t("2026-03-28T12:00Z"), t("2026-03-30T12:00Z"))).toBe(23 * HOUR_MS);
    expect(businessTimeBetween(sundays, t("2026-10-24T12:00Z"), t("2026-10-26T12:00Z"))).toBe(25 * HOUR_MS);
    // 24 business hours from Saturday noon: the 23 of that Sunday, then 01:00 CEST the next Sunday.
    expect(new Date(addBusinessTime(sundays, t("2026-03-28T12:00+01:00"), 24 * HOUR_MS)).toISOString()).toBe("2026-04-04T23:00:00.000Z");
  });

  it("returns the start for a zero duration", () => {
    expect(addBusinessTime(parisCalendar, t("2026-11-28T10:00+01:00"), 0)).toBe(t("2026-11-28T10:00+01:00"));
  });

  it("gives up on a calendar whose holidays close it for years", () => {
    const mondaysOnly = businessCalendarSchema.parse({
      id: "mondays",
      timeZone: "UTC",
      weeklyHours: { mon: [{ start: "09:00", end: "10:00" }] },
      holidays: Array.from({ length: 200 }, (_, week) => new Date(Date.UTC(2026, 10, 23) + week * 7 * DAY_MS).toISOString().slice(0, 10)),
    });
    expect(() => addBusinessTime(mondaysOnly, t("2026-11-22T00:00Z"), HOUR_MS)).toThrow(CalendarNeverOpensError);
  });
});

describe("businessTimeBetween", () => {
  it("counts only open intervals", () => {
    expect(businessTimeBetween(parisCalendar, t("2026-11-24T08:00+01:00"), t("2026-11-24T18:00+01:00"))).toBe(7 * HOUR_MS);
    expect(businessTimeBetween(parisCalendar, t("2026-11-27T16:00+01:00"), t("2026-11-30T10:00+01:00"))).toBe(2 * HOUR_MS);
    expect(businessTimeBetween(parisCalendar, t("2026-12-24T00:00+01:00"), t("2026-12-28T00:00+01:00"))).toBe(7 * HOUR_MS);
  });

  it("is zero for an empty or reversed span", () => {
    expect(businessTimeBetween(parisCalendar, t("2026-11-24T10:00+01:00"), t("2026-11-24T10:00+01:00"))).toBe(0);
    expect(businessTimeBetween(parisCalendar, t("2026-11-24T11:00+01:00"), t("2026-11-24T10:00+01:00"))).toBe(0);
  });

  it("knows whether an instant is open", () => {
    expect(isBusinessTime(parisCalendar, t("2026-11-24T09:00+01:00"))).toBe(true);
    expect(isBusinessTime(parisCalendar, t("2026-11-24T12:30+01:00"))).toBe(false);
    expect(isBusinessTime(parisCalendar, t("2026-11-24T17:00+01:00"))).toBe(false);
    expect(isBusinessTime(parisCalendar, t("2026-12-25T10:00+01:00"))).toBe(false);
  });
});

describe("business time properties", () => {
  const calendars = fc.constantFrom(
    parisCalendar,
    nineToFive("America/New_York", { holidays: ["2026-07-03", "2026-11-26"] }),
    nineToFive("Australia/Sydney"),
    allDaySundays("Europe/Paris"),
    allDaySundays("America/Santiago"),
  );
  const starts = fc.integer({ min: t("2025-01-01T00:00Z"), max: t("2028-01-01T00:00Z") });
  const durations = fc.integer({ min: 1, max: 40 * HOUR_MS });

  it("measures back exactly the business time it added", () => {
    fc.assert(
      fc.property(calendars, starts, durations, (calendar, start, duration) => {
        expect(businessTimeBetween(calendar, start, addBusinessTime(calendar, start, duration))).toBe(duration);
      }),
      { numRuns: 300 },
    );
  });

  it("gives later deadlines for longer targets", () => {
    fc.assert(
      fc.property(calendars, starts, durations, durations, (calendar, start, a, b) => {
        const [shorter, longer] = a <= b ? [a, b] : [b, a];
        expect(addBusinessTime(calendar, start, shorter)).toBeLessThanOrEqual(addBusinessTime(calendar, start, longer));
      }),
      { numRuns: 200 },
    );
  });

  it("adds up over consecutive spans", () => {
    fc.assert(
      fc.property(calendars, starts, durations, durations, (calendar, start, a, b) => {
        const middle = start + a;
        const end = middle + b;
        expect(businessTimeBetween(calendar, start, middle) + businessTimeBetween(calendar, middle, end)).toBe(businessTimeBetween(calendar, start, end));
      }),
      { numRuns: 200 },
    );
  });
});

describe("businessCalendarSchema", () => {
  const issuesOf = (input: unknown): string[] => {
    const result = businessCalendarSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };

  it("accepts a calendar with several intervals a day", () => {
    expect(
      issuesOf({
        id: "x",
        timeZone: "Europe/Paris",
        weeklyHours: {
          mon: [
            { start: "08:00", end: "12:00" },
            { start: "14:00", end: "24:00" },
          ],
        },
      }),
    ).toEqual([]);
  });

  it("names the bad field", () => {
    expect(issuesOf({ id: "x", timeZone: "Paris", weeklyHours: { mon: [{ start: "09:00", end: "17:00" }] } })).toEqual([
      'timeZone: must be an IANA time zone such as "Europe/Paris"',
    ]);
    expect(issuesOf({ id: "x", timeZone: "UTC", weeklyHours: { mon: [{ start: "18:00", end: "09:00" }] } })).toEqual([
      "weeklyHours.mon.0: start must be before end (split an overnight shift into two days)",
    ]);
    expect(
      issuesOf({
        id: "x",
        timeZone: "UTC",
        weeklyHours: {
          mon: [
            { start: "09:00", end: "13:00" },
            { start: "12:00", end: "17:00" },
          ],
        },
      }),
    ).toEqual(["weeklyHours.mon: intervals must be in order and must not overlap"]);
    expect(issuesOf({ id: "x", timeZone: "UTC", weeklyHours: { mon: [{ start: "9:00", end: "17:00" }] } })).toEqual([
      'weeklyHours.mon.0.start: must be a local time "HH:MM" from "00:00" to "23:59"',
    ]);
    expect(issuesOf({ id: "x", timeZone: "UTC", weeklyHours: {} })).toEqual(["weeklyHours: weeklyHours must open at least one interval in the week"]);
    expect(issuesOf({ id: "x", timeZone: "UTC", weeklyHours: { mon: [{ start: "09:00", end: "17:00" }] }, holidays: ["2026-02-30"] })).toEqual([
      'holidays.0: must be a date "YYYY-MM-DD"',
    ]);
  });
});
