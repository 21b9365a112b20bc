import { describe, expect, it } from "vitest";
import { T0, aTicket } from "../../test-support/domain-fixtures.ts";
import type { RelaxationPolicy } from "./model.ts";
import { effectiveRequirements, nextRelaxationAt, relaxationAt, relaxationSchedule, stageAfter } from "./relaxation.ts";

const POLICY: RelaxationPolicy = {
  dropOptionalSkillsAfterMs: 60_000,
  addOverflowGroupAfterMs: 120_000,
  allowLanguageRelaxation: true,
  dropLanguageAfterMs: 300_000,
};

const ticket = aTicket({
  id: "t1",
  group: "billing",
  overflowGroup: "general",
  language: "de",
  requiredSkills: [
    { name: "invoices", minLevel: 5 },
    { name: "sepa", minLevel: 3, optional: true },
  ],
});

describe("relaxation schedule", () => {
  it("orders steps by wait, optional skills before overflow before language on ties", () => {
    const tied: RelaxationPolicy = { dropOptionalSkillsAfterMs: 10, addOverflowGroupAfterMs: 10, allowLanguageRelaxation: true, dropLanguageAfterMs: 10 };
    expect(relaxationSchedule(tied).map((s) => s.step)).toEqual(["drop-optional-skills", "add-overflow-group", "drop-language"]);
    const reversed: RelaxationPolicy = { dropOptionalSkillsAfterMs: 30, addOverflowGroupAfterMs: 10, allowLanguageRelaxation: false, dropLanguageAfterMs: null };
    expect(relaxationSchedule(reversed).map((s) => s.step)).toEqual(["add-overflow-group", "drop-optional-skills"]);
  });

  it("never drops the language unless the policy allows it, even with a threshold", () => {
    const sneaky: RelaxationPolicy = { ...POLICY, allowLanguageRelaxation: false };
    expect(relaxationSchedule(sneaky).map((s) => s.step)).not.toContain("drop-language");
    expect(relaxationAt(ticket, sneaky, T0 + 10 * 3_600_000).languageDropped).toBe(false);
  });

  it("applies a step from its threshold on, inclusive", () => {
    const schedule = relaxationSchedule(POLICY);
    expect(stageAfter(schedule, 59_999)).toBe(0);
    expect(stageAfter(schedule, 60_000)).toBe(1);
    expect(stageAfter(schedule, 120_000)).toBe(2);
    expect(stageAfter(schedule, 300_000)).toBe(3);
    expect(stageAfter(schedule, -5)).toBe(0);
  });
});

describe("effective requirements over time", () => {
  it("starts strict: own group, language, every skill including optional ones", () => {
    const strict = effectiveRequirements(ticket, POLICY, T0);
    expect(strict.groups).toEqual(["billing"]);
    expect(strict.language).toBe("de");
    expect(strict.skills.map((s) => s.name)).toEqual(["invoices", "sepa"]);
    expect(strict.droppedSkills).toEqual([]);
  });

  it("drops optional skills first, then adds the overflow group, then drops the language", () => {
    const afterOptional = effectiveRequirements(ticket, POLICY, T0 + 60_000);
    expect(afterOptional.skills.map((s) => s.name)).toEqual(["invoices"]);
    expect(afterOptional.droppedSkills.map((s) => s.name)).toEqual(["sepa"]);
    expect(afterOptional.groups).toEqual(["billing"]);

    const afterOverflow = effectiveRequirements(ticket, POLICY, T0 + 120_000);
    expect(afterOverflow.groups).toEqual(["billing", "general"]);
    expect(afterOverflow.language).toBe("de");

    const afterLanguage = effectiveRequirements(ticket, POLICY, T0 + 300_000);
    expect(afterLanguage.language).toBeNull();
    expect(afterLanguage.skills.map((s) => s.name)).toEqual(["invoices"]);
  });

  it("never drops mandatory skills", () => {
    const forever = effectiveRequirements(ticket, POLICY, T0 + 365 * 86_400_000);
    expect(forever.skills).toEqual([{ name: "invoices", minLevel: 5 }]);
  });

  it("adds no group when the ticket has no overflow group, or it equals its own group", () => {
    const late = T0 + 3_600_000;
    expect(effectiveRequirements({ ...ticket, overflowGroup: undefined }, POLICY, late).groups).toEqual(["billing"]);
    expect(effectiveRequirements({ ...ticket, overflowGroup: "billing" }, POLICY, late).groups).toEqual(["billing"]);
  });

  it("tells when requirements next loosen, and null once nothing is left to relax", () => {
    expect(nextRelaxationAt(ticket, POLICY, T0)).toBe(T0 + 60_000);
    expect(nextRelaxationAt(ticket, POLICY, T0 + 60_000)).toBe(T0 + 120_000);
    expect(nextRelaxationAt(ticket, POLICY, T0 + 200_000)).toBe(T0 + 300_000);
    expect(nextRelaxationAt(ticket, POLICY, T0 + 300_000)).toBeNull();
    const none: RelaxationPolicy = { dropOptionalSkillsAfterMs: null, addOverflowGroupAfterMs: null, allowLanguageRelaxation: false, dropLanguageAfterMs: null };
    expect(nextRelaxationAt(ticket, none, T0)).toBeNull();
  });
});
