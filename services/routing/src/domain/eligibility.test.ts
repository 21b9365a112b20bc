import { describe, expect, it } from "vitest";
import { checkEligibility, compareCandidates, decidingRankCriterion, loadRatio, rankCandidate, skillFit, type RankedCandidate } from "./eligibility.ts";
import { T0, aTicket, anAgentState } from "../../test-support/domain-fixtures.ts";
import type { RelaxationPolicy } from "./model.ts";
import { effectiveRequirements, requirementsUnder, STRICT } from "./relaxation.ts";

const ticket = aTicket({
  id: "t1",
  group: "billing",
  overflowGroup: "general",
  channel: "chat",
  language: "fr",
  requiredSkills: [
    { name: "invoices", minLevel: 5 },
    { name: "sepa", minLevel: 4, optional: true },
  ],
});
const strict = requirementsUnder(ticket, STRICT);
const qualified = anAgentState({ id: "ok", groups: ["billing"], languages: ["fr", "en"], skills: { invoices: 5, sepa: 4 } });

describe("eligibility", () => {
  it("accepts an available agent of the group who speaks the language, has every skill at level and a free slot", () => {
    expect(checkEligibility(qualified, strict, "chat")).toEqual({ eligible: true });
  });

  it("rejects an agent outside the ticket's group", () => {
    expect(checkEligibility({ ...qualified, groups: ["sales"] }, strict, "chat")).toEqual({ eligible: false, reason: "not-in-group" });
  });

  it("rejects agents who are away or offline", () => {
    expect(checkEligibility({ ...qualified, presence: "away" }, strict, "chat")).toEqual({ eligible: false, reason: "not-available" });
    expect(checkEligibility({ ...qualified, presence: "offline" }, strict, "chat")).toEqual({ eligible: false, reason: "not-available" });
  });

  it("rejects an agent who does not speak the customer's language", () => {
    expect(checkEligibility({ ...qualified, languages: ["en"] }, strict, "chat")).toEqual({ eligible: false, reason: "language" });
  });

  it("rejects an agent without a free slot on the ticket's channel, counting pending offers as taken", () => {
    expect(checkEligibility({ ...qualified, load: { chat: 3 } }, strict, "chat")).toEqual({ eligible: false, reason: "no-capacity" });
    expect(checkEligibility({ ...qualified, load: { chat: 2 }, reserved: { chat: 1 } }, strict, "chat")).toEqual({ eligible: false, reason: "no-capacity" });
    expect(checkEligibility({ ...qualified, capacity: { email: 5 } }, strict, "chat")).toEqual({ eligible: false, reason: "no-capacity" });
    // A full email inbox does not block chat.
    expect(checkEligibility({ ...qualified, load: { email: 5 } }, strict, "chat")).toEqual({ eligible: true });
  });

  it("names the missing skill and the level gap", () => {
    expect(checkEligibility({ ...qualified, skills: { invoices: 4, sepa: 9 } }, strict, "chat")).toEqual({
      eligible: false,
      reason: "missing-skill",
      missingSkill: { name: "invoices", minLevel: 5, actualLevel: 4 },
    });
    expect(checkEligibility({ ...qualified, skills: { invoices: 9 } }, strict, "chat")).toEqual({
      eligible: false,
      reason: "missing-skill",
      missingSkill: { name: "sepa", minLevel: 4, actualLevel: 0 },
    });
  });

  it("reports the first failing reason in a fixed order: group, presence, language, capacity, skill", () => {
    const hopeless = { ...qualified, groups: ["sales"], presence: "away" as const, languages: ["de"], load: { chat: 3 }, skills: {} };
    expect(checkEligibility(hopeless, strict, "chat")).toMatchObject({ reason: "not-in-group" });
    expect(checkEligibility({ ...hopeless, groups: ["billing"] }, strict, "chat")).toMatchObject({ reason: "not-available" });
    expect(checkEligibility({ ...hopeless, groups: ["billing"], presence: "available" }, strict, "chat")).toMatchObject({ reason: "language" });
    expect(checkEligibility({ ...hopeless, groups: ["billing"], presence: "available", languages: ["fr"] }, strict, "chat")).toMatchObject({
      reason: "no-capacity",
    });
  });

  it("after relaxation: optional skills no longer required, overflow group admitted, language only if allowed", () => {
    const policy: RelaxationPolicy = { dropOptionalSkillsAfterMs: 10, addOverflowGroupAfterMs: 20, allowLanguageRelaxation: true, dropLanguageAfterMs: 30 };
    const noSepa = { ...qualified, skills: { invoices: 6 } };
    expect(checkEligibility(noSepa, effectiveRequirements(ticket, policy, T0 + 9), "chat").eligible).toBe(false);
    expect(checkEligibility(noSepa, effectiveRequirements(ticket, policy, T0 + 10), "chat").eligible).toBe(true);
    const overflowAgent = { ...noSepa, groups: ["general"] };
    expect(checkEligibility(overflowAgent, effectiveRequirements(ticket, policy, T0 + 19), "chat")).toMatchObject({ reason: "not-in-group" });
    expect(checkEligibility(overflowAgent, effectiveRequirements(ticket, policy, T0 + 20), "chat").eligible).toBe(true);
    const english = { ...overflowAgent, languages: ["en"] };
    expect(checkEligibility(english, effectiveRequirements(ticket, policy, T0 + 29), "chat")).toMatchObject({ reason: "language" });
    expect(checkEligibility(english, effectiveRequirements(ticket, policy, T0 + 30), "chat").eligible).toBe(true);
    const noLanguageRelaxation = { ...policy, allowLanguageRelaxation: false, dropLanguageAfterMs: null };
    expect(checkEligibility(english, effectiveRequirements(ticket, noLanguageRelaxation, T0 + 1e9), "chat")).toMatchObject({ reason: "language" });
  });
});

describe("skill fit", () => {
  it("prefers the closest sufficient agent: least surplus over the required levels", () => {
    expect(skillFit({ invoices: 5, sepa: 4 }, strict)).toEqual({ droppedSkillsMet: 0, surplus: 0 });
    expect(
      skillFit(
        new Map([
          ["invoices", 9],
          ["sepa", 6],
        ]),
        strict,
      ),
    ).toEqual({ droppedSkillsMet: 0, surplus: 6 });
  });

  it("after optional skills are dropped, still counts who meets them", () => {
    const relaxed = requirementsUnder(ticket, { ...STRICT, optionalSkillsDropped: true });
    expect(skillFit({ invoices: 5, sepa: 4 }, relaxed)).toEqual({ droppedSkillsMet: 1, surplus: 0 });
    expect(
      skillFit(
        new Map([
          ["invoices", 5],
          ["sepa", 3],
        ]),
        relaxed,
      ),
    ).toEqual({ droppedSkillsMet: 0, surplus: 0 });
  });
});

describe("ranking eligible agents", () => {
  const base: RankedCandidate = { agentId: "m", lastPassedAt: null, fit: { droppedSkillsMet: 0, surplus: 2 }, loadRatio: 0.5, idleSince: 100 };
  const cases: [string, RankedCandidate, RankedCandidate, string][] = [
    [
      "never offered beats already passed",
      { ...base, agentId: "z" },
      { ...base, agentId: "a", lastPassedAt: 5, fit: { droppedSkillsMet: 3, surplus: 0 } },
      "not-previously-offered",
    ],
    ["among those who passed, the longest ago first", { ...base, agentId: "z", lastPassedAt: 1 }, { ...base, agentId: "a", lastPassedAt: 2 }, "least-recently-offered"],
    ["more relaxed skills met", { ...base, agentId: "z", fit: { droppedSkillsMet: 1, surplus: 9 } }, { ...base, agentId: "a" }, "skill-fit"],
    ["smaller surplus", { ...base, agentId: "z", fit: { droppedSkillsMet: 0, surplus: 1 } }, { ...base, agentId: "a" }, "skill-fit"],
    ["lower load ratio", { ...base, agentId: "z", loadRatio: 0.2 }, { ...base, agentId: "a" }, "load-ratio"],
    ["longest idle", { ...base, agentId: "z", idleSince: 50 }, { ...base, agentId: "a" }, "idle-time"],
    ["agent id as the final tie-breaker", { ...base, agentId: "a" }, { ...base, agentId: "b" }, "agent-id"],
  ];
  for (const [name, better, worse, criterion] of cases) {
    it(`ranks by ${name}`, () => {
      expect(compareCandidates(better, worse)).toBeLessThan(0);
      expect(compareCandidates(worse, better)).toBeGreaterThan(0);
      expect(decidingRankCriterion(better, worse)).toBe(criterion);
    });
  }

  it("computes the load ratio on the ticket's channel, pending offers included", () => {
    const agent = anAgentState({ id: "a", capacity: { chat: 4, email: 5 }, load: { chat: 1, email: 5 }, reserved: { chat: 1 } });
    expect(loadRatio(agent, "chat")).toBe(0.5);
    expect(rankCandidate(agent, strict, "chat", null).loadRatio).toBe(0.5);
    expect(loadRatio(agent, "phone")).toBe(1);
  });
});
