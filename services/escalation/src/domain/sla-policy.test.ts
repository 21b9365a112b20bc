import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHANNELS, InvalidSlaPolicyError, PRIORITIES, calendarForGroup, parseSlaPolicy, safeParseSlaPolicy } from "./sla-policy.ts";
import { testPolicyDocument } from "../../test-support/sla-fixtures.ts";

const defaultPolicyDocument = (): Record<string, unknown> => JSON.parse(readFileSync(new URL("../../policy/sla-policy.json", import.meta.url), "utf8")) as Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at the document freely
function issuesAfter(change: (doc: any) => void): string[] {
  const doc = testPolicyDocument();
  change(doc);
  const result = safeParseSlaPolicy(doc);
  return result.ok ? [] : result.issues;
}

describe("the default policy file", () => {
  const policy = parseSlaPolicy(defaultPolicyDocument());

  it("is valid and versioned", () => {
    expect(policy.version).toMatch(/\S/);
    expect(policy.warningShare).toBe(0.75);
  });

  it("answers live channels in minutes and written ones in hours", () => {
    for (const priority of PRIORITIES) {
      const targets = policy.targets[priority];
      expect(targets.chat.firstResponse.minutes).toBeLessThanOrEqual(5);
      expect(targets.phone.firstResponse.minutes).toBeLessThanOrEqual(15);
      expect(targets.chat.firstResponse.minutes).toBeLessThan(targets.email.firstResponse.minutes);
      expect(targets.social.firstResponse.minutes).toBeLessThan(targets.email.firstResponse.minutes);
    }
  });

  it("makes each priority at least as tight as the next one, and P1 run around the clock", () => {
    for (const channel of CHANNELS) {
      for (const clock of ["firstResponse", "nextResponse", "resolution"] as const) {
        const minutes = PRIORITIES.map((priority) => policy.targets[priority][channel][clock].minutes);
        expect([...minutes].sort((a, b) => a - b)).toEqual(minutes);
        expect(policy.targets.P1[channel][clock].businessHours).toBe(false);
      }
      expect(policy.targets.P1[channel].firstResponse.minutes * 3).toBeLessThanOrEqual(policy.targets.P3[channel].firstResponse.minutes);
    }
  });

  it("has a default calendar", () => {
    expect(calendarForGroup(policy, "no-such-group").id).toBe("default");
  });
});

describe("parseSlaPolicy", () => {
  it("fills in defaults", () => {
    const policy = parseSlaPolicy(testPolicyDocument());
    expect(policy.businessHours).toBe(true);
    expect(policy.warningShare).toBe(0.75);
    expect(policy.ladders.owned[1]!.trigger).toEqual({ on: "breach", afterMinutes: 0 });
  });

  it("throws a named error listing every issue", () => {
    const doc = testPolicyDocument("v 1");
    delete (doc["signals"] as Record<string, unknown>)["repeatContact"];
    try {
      parseSlaPolicy(doc);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidSlaPolicyError);
      const invalid = error as InvalidSlaPolicyError;
      expect(invalid.code).toBe("INVALID_SLA_POLICY");
      expect(invalid.issues).toEqual([
        'version: must be 1-64 characters of letters, digits, ".", "_" or "-" (it is part of action keys)',
        "signals.repeatContact: is required (expected object)",
      ]);
      expect(invalid.message).toContain("signals.repeatContact: is required");
    }
  });

  it("requires every channel of every priority", () => {
    expect(issuesAfter((doc) => delete doc.targets.P2.social)).toEqual(["targets.P2.social: is required (expected object)"]);
    expect(issuesAfter((doc) => delete doc.targets.P4)).toEqual(["targets.P4: is required (expected object)"]);
  });

  it("rejects targets that are not positive whole minutes", () => {
    expect(issuesAfter((doc) => (doc.targets.P1.chat.firstResponse.minutes = 0))).toEqual(["targets.P1.chat.firstResponse.minutes: must be a positive number of minutes"]);
    expect(issuesAfter((doc) => (doc.targets.P1.chat.firstResponse.minutes = 1.5))).toEqual(["targets.P1.chat.firstResponse.minutes: must be a whole number of minutes"]);
  });

  it("accepts a target in seconds, as a fraction of a minute, but not both units or neither", () => {
    const doc = testPolicyDocument() as { targets: Record<string, Record<string, Record<string, object>>> };
    doc.targets["P1"]!["chat"]!["firstResponse"] = { seconds: 4, businessHours: false };
    const policy = parseSlaPolicy(doc);
    expect(policy.targets.P1.chat.firstResponse.minutes * 60).toBeCloseTo(4, 9);
    expect(issuesAfter((d) => (d.targets.P1.chat.firstResponse = { minutes: 1, seconds: 4 }))).toEqual([
      'targets.P1.chat.firstResponse: must give the target in either "minutes" or "seconds"',
    ]);
    expect(issuesAfter((d) => (d.targets.P1.chat.firstResponse = { businessHours: false }))).toEqual([
      'targets.P1.chat.firstResponse: must give the target in either "minutes" or "seconds"',
    ]);
    expect(issuesAfter((d) => (d.targets.P1.chat.firstResponse = { seconds: 0.5 }))).toEqual(["targets.P1.chat.firstResponse.seconds: must be a whole number of seconds"]);
  });

  it("rejects a warning share outside (0, 1)", () => {
    expect(issuesAfter((doc) => (doc.warningShare = 1))).toEqual(["warningShare: must be a share of the target below 1 (0.75 warns at 75%)"]);
  });

  it("rejects unknown fields, catching typos", () => {
    expect(issuesAfter((doc) => (doc.targets.P3.email.firstResponse.busnessHours = true))).toEqual(['targets.P3.email.firstResponse: Unrecognized key: "busnessHours"']);
  });

  it("keeps ladder effects to what each kind of ticket allows", () => {
    expect(issuesAfter((doc) => doc.ladders.waiting[0].effects.push({ type: "notifyOwner" }))).toEqual([
      "ladders.waiting.0.effects.1.type: waiting tickets accept raisePriority, widenRouting or notifySupervisor",
    ]);
    expect(issuesAfter((doc) => doc.ladders.owned[0].effects.push({ type: "reassignOwner" }))).toEqual([
      "ladders.owned.0.effects.1.type: owned tickets accept notifyOwner, raisePriority, notifySupervisor or addCollaborator",
    ]);
    expect(issuesAfter((doc) => doc.ladders.owned[0].effects.push({ type: "notifyOwner" }))).toEqual(["ladders.owned.0.effects: a step may list each effect type once"]);
  });

  it("requires ladder steps in trigger order", () => {
    expect(issuesAfter((doc) => doc.ladders.owned.reverse())).toEqual(["ladders.owned: steps must be in trigger order: warning, then breach, then later afterMinutes"]);
  });

  it("requires signal levels that exist in both ladders", () => {
    expect(issuesAfter((doc) => (doc.signals.repeatContact.level = 4))).toEqual([
      "signals.repeatContact.level: level 4 does not exist in the owned ladder (3 steps)",
      "signals.repeatContact.level: level 4 does not exist in the waiting ladder (3 steps)",
    ]);
  });

  it("requires a default calendar whose id matches its key", () => {
    expect(issuesAfter((doc) => (doc.calendars = { emea: { ...doc.calendars.default } }))).toEqual([
      'calendars: must include a "default" calendar',
      'calendars.emea.id: must equal its key "emea"',
    ]);
  });
});

describe("calendarForGroup", () => {
  it("prefers the group's own calendar", () => {
    const doc = testPolicyDocument();
    const calendars = doc["calendars"] as Record<string, { id: string; timeZone: string }>;
    calendars["apac"] = { ...calendars["default"]!, id: "apac", timeZone: "Asia/Tokyo" };
    const policy = parseSlaPolicy(doc);
    expect(calendarForGroup(policy, "apac").timeZone).toBe("Asia/Tokyo");
    expect(calendarForGroup(policy, "emea").timeZone).toBe("Europe/Paris");
    expect(calendarForGroup(policy, null).id).toBe("default");
  });
});
