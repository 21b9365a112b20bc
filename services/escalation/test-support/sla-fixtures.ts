// Small, explicit policies and calendars for the SLA domain's tests (not part of the public API).

import { businessCalendarSchema, type BusinessCalendar } from "../src/domain/business-calendar.ts";
import { CHANNELS, PRIORITIES, parseSlaPolicy, type Priority, type SlaPolicy } from "../src/domain/sla-policy.ts";

/** Paris office: 09:00-12:00 and 13:00-17:00 on weekdays (7 business hours a day), closed on Christmas. */
export const parisCalendar: BusinessCalendar = businessCalendarSchema.parse({
  id: "default",
  timeZone: "Europe/Paris",
  weeklyHours: {
    mon: [
      { start: "09:00", end: "12:00" },
      { start: "13:00", end: "17:00" },
    ],
    tue: [
      { start: "09:00", end: "12:00" },
      { start: "13:00", end: "17:00" },
    ],
    wed: [
      { start: "09:00", end: "12:00" },
      { start: "13:00", end: "17:00" },
    ],
    thu: [
      { start: "09:00", end: "12:00" },
      { start: "13:00", end: "17:00" },
    ],
    fri: [
      { start: "09:00", end: "12:00" },
      { start: "13:00", end: "17:00" },
    ],
  },
  holidays: ["2026-12-25"],
});

/** Minutes per priority: first response, next response, resolution. P1 runs 24x7. */
export const TEST_TARGET_MINUTES: Record<Priority, readonly [number, number, number]> = {
  P1: [15, 30, 120],
  P2: [30, 60, 240],
  P3: [60, 120, 480],
  P4: [120, 240, 960],
};

export function testPolicyDocument(version = "v1", minutes = TEST_TARGET_MINUTES): Record<string, unknown> {
  const targets = Object.fromEntries(
    PRIORITIES.map((priority) => {
      const [first, next, resolution] = minutes[priority];
      const businessHours = priority !== "P1";
      const byChannel = Object.fromEntries(
        CHANNELS.map((channel) => [
          channel,
          {
            firstResponse: { minutes: first, businessHours },
            nextResponse: { minutes: next, businessHours },
            resolution: { minutes: resolution, businessHours },
          },
        ]),
      );
      return [priority, byChannel];
    }),
  );
  return {
    version,
    targets,
    ladders: {
      owned: [
        { trigger: { on: "warning" }, effects: [{ type: "notifyOwner" }] },
        { trigger: { on: "breach" }, effects: [{ type: "raisePriority" }] },
        {
          trigger: { on: "breach", afterMinutes: 30 },
          effects: [{ type: "notifySupervisor" }, { type: "addCollaborator", role: "specialist" }],
        },
      ],
      waiting: [
        { trigger: { on: "warning" }, effects: [{ type: "raisePriority" }] },
        { trigger: { on: "breach" }, effects: [{ type: "widenRouting", relaxSkills: true, addGroups: ["overflow"] }] },
        { trigger: { on: "breach", afterMinutes: 30 }, effects: [{ type: "notifySupervisor" }] },
      ],
    },
    signals: { answerDidNotHelp: { level: 2 }, repeatContact: { level: 3 } },
    calendars: { default: parisCalendar },
  };
}

export function testPolicy(version = "v1", minutes = TEST_TARGET_MINUTES): SlaPolicy {
  return parseSlaPolicy(testPolicyDocument(version, minutes));
}

/** An instant from an ISO string with offset, e.g. at("2026-12-24T16:00+01:00"). */
export const at = (isoWithOffset: string): Date => new Date(isoWithOffset);
