import { describe, expect, it } from "vitest";
import { aTicket, anAgent, errorOf, unwrap } from "../../test-support/domain-fixtures.ts";
import { relaxationPolicyProblems, validateAgent, validateTicket } from "./validation.ts";

describe("input validation", () => {
  it("accepts well-formed agents and tickets", () => {
    expect(unwrap(validateAgent(anAgent({ id: "a", skills: { billing: 10, refunds: 1 } }))).id).toBe("a");
    expect(unwrap(validateTicket(aTicket({ id: "t", requiredSkills: [{ name: "billing", minLevel: 1 }] }))).id).toBe("t");
  });

  it("rejects skill levels outside 1..10, non ISO 639-1 languages, unknown channels and negative capacity", () => {
    const error = errorOf(validateAgent(anAgent({ id: "a", skills: { billing: 11, refunds: 0 }, languages: ["english"], capacity: { chat: -1, fax: 2 } as never })));
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.problems).toEqual([
      "skills.billing: level must be a whole number 1..10",
      "skills.refunds: level must be a whole number 1..10",
      'languages: "english" is not a lower-case ISO 639-1 code',
      "capacity.chat: expected a whole number >= 0",
      'capacity: unknown channel "fax"',
    ]);
    expect(errorOf(validateAgent(anAgent({ id: "a", groups: [] }))).problems).toContain("groups: an agent belongs to at least one group");
  });

  it("rejects tickets with bad priority, language, duplicate skills or levels", () => {
    const error = errorOf(
      validateTicket(
        aTicket({
          id: "t",
          priority: "P0" as never,
          language: "EN",
          requiredSkills: [
            { name: "x", minLevel: 0 },
            { name: "x", minLevel: 3 },
          ],
        }),
      ),
    );
    expect(error.problems).toEqual([
      '"EN" is not a lower-case ISO 639-1 code'.replace(/^/, "language: "),
      'priority: unknown value "P0"',
      "requiredSkills.x: minLevel must be a whole number 1..10",
      'requiredSkills: "x" listed twice',
    ]);
  });

  it("rejects a language threshold without allowLanguageRelaxation", () => {
    expect(relaxationPolicyProblems({ dropOptionalSkillsAfterMs: -1, addOverflowGroupAfterMs: null, allowLanguageRelaxation: false, dropLanguageAfterMs: 5 })).toEqual([
      "dropOptionalSkillsAfterMs: expected null or a duration >= 0 ms",
      "dropLanguageAfterMs is set but allowLanguageRelaxation is false",
    ]);
  });
});
