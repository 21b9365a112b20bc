// A follow-up re-triages a waiting ticket without losing what escalation did; no-eligible is recorded when news.
import { describe, expect, it } from "vitest";
import { noEligibleIsNews, retriagedWaitingTicket, type Retriage } from "./retriage.ts";
import { DEFAULT_RELAXATION } from "./index.ts";

const input: Retriage = { priority: "P3", requiredSkills: [{ name: "refunds", minLevel: 3, optional: false }], language: "pt", group: "refunds", overflowGroup: "tier2" };

describe("retriagedWaitingTicket", () => {
  it("takes triage's new requirements", () => {
    expect(retriagedWaitingTicket({ escalatedPriority: null, overflowGroup: null, relaxation: null }, input)).toEqual({
      triagePriority: "P3",
      priority: "P3",
      requiredSkills: input.requiredSkills,
      language: "pt",
      group: "refunds",
      overflowGroup: "tier2",
    });
  });

  it("keeps a priority escalation raised, and an overflow group it added at once", () => {
    const widened = { ...DEFAULT_RELAXATION, addOverflowGroupAfterMs: 0 };
    expect(retriagedWaitingTicket({ escalatedPriority: "P1", overflowGroup: "escalated", relaxation: widened }, input)).toMatchObject({
      triagePriority: "P3",
      priority: "P1",
      overflowGroup: "escalated",
    });
  });
});

describe("noEligibleIsNews", () => {
  it("is news the first time and when the kinds of reason change, not when only counts do", () => {
    expect(noEligibleIsNews(null, ["2 agents are away"])).toBe(true);
    expect(noEligibleIsNews(["2 agents are away"], ["3 agents are away"])).toBe(false);
    expect(noEligibleIsNews(["2 agents are away"], ["1 agent lacks a skill"])).toBe(true);
  });
});
