// Wall-clock time in an IANA time zone, computed from Intl offsets alone: which local day an instant
// falls on, and which instant a local wall time names (a DST gap moves forward, an overlap takes the
// earlier instant, like Temporal's "compatible" disambiguation).

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local wall time at `instantMs`, written as milliseconds since the epoch as if the zone were UTC
 * (so `new Date(wall).getUTCHours()` is the local hour).
 */
export function wallTimeAt(timeZone: string, instantMs: number): number {
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  const wholeSecondMs = Math.floor(instantMs / 1000) * 1000;
  const wallWholeSecond = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second);
  return wallWholeSecond + (instantMs - wholeSecondMs);
}

/** How far the zone's wall clock is ahead of UTC at `instantMs` (negative west of Greenwich). */
export function zoneOffsetMs(timeZone: string, instantMs: number): number {
  return wallTimeAt(timeZone, instantMs) - instantMs;
}

/** The local calendar day of `instantMs`, as whole days since 1970-01-01. */
export function localDayOf(timeZone: string, instantMs: number): number {
  return Math.floor(wallTimeAt(timeZone, instantMs) / DAY_MS);
}

/**
 * The instant a local wall time names. Offsets are sampled a day either side, which is enough for any
 * zone with at most one transition in 48 hours (all real ones).
 */
export function instantOfWallTime(timeZone: string, wallMs: number): number {
  let cache = instantCache.get(timeZone);
  if (cache === undefined) {
    cache = new Map();
    instantCache.set(timeZone, cache);
  }
  let instantMs = cache.get(wallMs);
  if (instantMs === undefined) {
    // Business calendars ask for the same opening and closing times over and over; Intl is slow.
    if (cache.size >= INSTANT_CACHE_LIMIT) cache.clear();
    instantMs = computeInstantOfWallTime(timeZone, wallMs);
    cache.set(wallMs, instantMs);
  }
  return instantMs;
}

const INSTANT_CACHE_LIMIT = 20_000;
const instantCache = new Map<string, Map<number, number>>();

function computeInstantOfWallTime(timeZone: string, wallMs: number): number {
  const offsetBefore = zoneOffsetMs(timeZone, wallMs - DAY_MS);
  const offsetAfter = zoneOffsetMs(timeZone, wallMs + DAY_MS);
  const withOffsetBefore = wallMs - offsetBefore;
  if (offsetBefore === offsetAfter) return withOffsetBefore;
  const withOffsetAfter = wallMs - offsetAfter;
  const beforeIsReal = zoneOffsetMs(timeZone, withOffsetBefore) === offsetBefore;
  const afterIsReal = zoneOffsetMs(timeZone, withOffsetAfter) === offsetAfter;
  if (beforeIsReal && afterIsReal) return Math.min(withOffsetBefore, withOffsetAfter); // overlap
  if (afterIsReal) return withOffsetAfter;
  // Either only the earlier offset fits, or the wall time falls in a gap: reading it with the offset in
  // force before the gap lands just after the gap, shifted forward by the gap's length.
  return withOffsetBefore;
}

/** Parses "YYYY-MM-DD" into whole days since 1970-01-01, or undefined if it is not a real date. */
export function parseLocalDate(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return ms / DAY_MS;
}

/** Day of the week of a local day number: 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(localDay: number): number {
  return (((localDay + 4) % 7) + 7) % 7;
}
