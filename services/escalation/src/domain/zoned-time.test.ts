import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, instantOfWallTime, isValidTimeZone, localDayOf, parseLocalDate, wallTimeAt, weekdayOf, zoneOffsetMs } from "./zoned-time.ts";

const wall = (text: string): number => Date.parse(`${text}Z`);
const instant = (text: string): number => Date.parse(text);

describe("zone offsets", () => {
  it("follows DST in New York and Paris", () => {
    expect(zoneOffsetMs("America/New_York", instant("2026-01-15T12:00Z"))).toBe(-5 * HOUR_MS);
    expect(zoneOffsetMs("America/New_York", instant("2026-07-15T12:00Z"))).toBe(-4 * HOUR_MS);
    expect(zoneOffsetMs("Europe/Paris", instant("2026-01-15T12:00Z"))).toBe(1 * HOUR_MS);
    expect(zoneOffsetMs("Europe/Paris", instant("2026-07-15T12:00Z"))).toBe(2 * HOUR_MS);
    expect(zoneOffsetMs("Asia/Kolkata", instant("2026-07-15T12:00Z"))).toBe(5.5 * HOUR_MS);
  });

  it("keeps milliseconds when reading the wall time", () => {
    expect(wallTimeAt("Europe/Paris", instant("2026-01-15T12:00:00.250Z"))).toBe(wall("2026-01-15T13:00:00.250"));
  });

  it("rejects unknown zones", () => {
    expect(isValidTimeZone("Europe/Paris")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus_Mons")).toBe(false);
  });
});

describe("instantOfWallTime", () => {
  it("maps ordinary wall times either side of a transition", () => {
    expect(instantOfWallTime("Europe/Paris", wall("2026-03-29T01:30"))).toBe(instant("2026-03-29T00:30Z"));
    expect(instantOfWallTime("Europe/Paris", wall("2026-03-29T03:30"))).toBe(instant("2026-03-29T01:30Z"));
  });

  it("moves a wall time inside the spring-forward gap forward by the gap", () => {
    // 02:30 does not exist in Paris on 2026-03-29; it reads as 03:30 CEST.
    expect(instantOfWallTime("Europe/Paris", wall("2026-03-29T02:30"))).toBe(instant("2026-03-29T01:30Z"));
    expect(instantOfWallTime("America/New_York", wall("2026-03-08T02:30"))).toBe(instant("2026-03-08T07:30Z"));
  });

  it("takes the earlier of the two instants in the fall-back overlap", () => {
    // 02:30 happens twice in Paris on 2026-10-25 (CEST, then CET).
    expect(instantOfWallTime("Europe/Paris", wall("2026-10-25T02:30"))).toBe(instant("2026-10-25T00:30Z"));
    expect(instantOfWallTime("America/New_York", wall("2026-11-01T01:30"))).toBe(instant("2026-11-01T05:30Z"));
  });

  it("round-trips every instant outside an overlap through its wall time", () => {
    const zones = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Tokyo", "UTC"];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: instant("2020-01-01T00:00Z"), max: instant("2035-01-01T00:00Z") }), (zone, t) => {
        const back = instantOfWallTime(zone, wallTimeAt(zone, t));
        // In an overlap the earlier instant wins, one offset change (at most an hour) before.
        expect(back === t || back === t - HOUR_MS).toBe(true);
        expect(wallTimeAt(zone, back)).toBe(wallTimeAt(zone, t));
      }),
    );
  });
});

describe("local days", () => {
  it("files an instant under the local date, which may differ from the UTC date", () => {
    expect(localDayOf("Asia/Tokyo", instant("2026-06-30T20:00Z"))).toBe(parseLocalDate("2026-07-01"));
    expect(localDayOf("America/New_York", instant("2026-07-01T02:00Z"))).toBe(parseLocalDate("2026-06-30"));
  });

  it("parses only real dates", () => {
    expect(parseLocalDate("2026-12-25")).toBe(Date.UTC(2026, 11, 25) / DAY_MS);
    expect(parseLocalDate("2026-02-29")).toBeUndefined();
    expect(parseLocalDate("2026-13-01")).toBeUndefined();
    expect(parseLocalDate("25/12/2026")).toBeUndefined();
  });

  it("names weekdays with Sunday as 0", () => {
    expect(weekdayOf(parseLocalDate("2026-11-22")!)).toBe(0); // a Sunday
    expect(weekdayOf(parseLocalDate("2026-12-25")!)).toBe(5); // a Friday
    expect(weekdayOf(parseLocalDate("1969-12-31")!)).toBe(3); // a Wednesday, before the epoch
  });
});
