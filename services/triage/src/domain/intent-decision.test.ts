import { describe, expect, it } from "vitest";
import { compileCueIndex, findCues } from "./cue-matching.ts";
import { decideIntent, ruleCategory } from "./intent-decision.ts";
import type { IntentScore } from "./intent-model.ts";
import { readTriagePolicyFile } from "../policy/triage-files.ts";
import type { TriagePolicy } from "./triage-policy.ts";

const POLICY: TriagePolicy = {
  ...readTriagePolicyFile(),
  intent: { minConfidence: 0.4, fallbackIntent: "other" },
  rules: [
    {
      id: "hacked",
      intent: "account_access",
      cues: ["hacked"],
      overrideBelow: 1,
      confidence: 0.95,
    },
    {
      id: "chargeback",
      intent: "billing",
      cues: ["chargeback"],
      overrideBelow: 0.6,
      confidence: 0.8,
    },
  ],
};
const index = compileCueIndex(
  POLICY.rules.map((rule, position) => ({
    category: ruleCategory(position),
    cues: rule.cues,
  })),
);

function scores(intent: string, probability: number): IntentScore[] {
  return [
    { intent, probability },
    { intent: "other", probability: (1 - probability) / 2 },
    { intent: "complaint", probability: (1 - probability) / 2 },
  ];
}

describe("decideIntent", () => {
  it("takes the model's intent when it is confident and no rule matches", () => {
    const decision = decideIntent(scores("refund", 0.9), findCues(index, "where is my refund"), POLICY);
    expect(decision).toMatchObject({
      intent: "refund",
      confidence: 0.9,
      source: "model",
      lowConfidence: false,
    });
  });

  it("lets an always-override rule win over a confident model", () => {
    const decision = decideIntent(scores("refund", 0.95), findCues(index, "my account was hacked, refund me"), POLICY);
    expect(decision).toMatchObject({
      intent: "account_access",
      source: "rule",
      confidence: 0.95,
    });
    expect(decision.model.intent).toBe("refund");
    expect(decision.rules).toEqual([
      {
        id: "hacked",
        intent: "account_access",
        cues: ["hacked"],
        applied: true,
        note: "always overrides",
      },
    ]);
    expect(decision.reasons[0]).toContain("overrides model: refund 0.95");
  });

  it("lets a when-unsure rule win only while the model is below its threshold", () => {
    const unsure = decideIntent(scores("complaint", 0.5), findCues(index, "I will file a chargeback"), POLICY);
    expect(unsure).toMatchObject({ intent: "billing", source: "rule" });
    const confident = decideIntent(scores("refund", 0.7), findCues(index, "I will file a chargeback"), POLICY);
    expect(confident).toMatchObject({ intent: "refund", source: "model" });
    expect(confident.rules[0]).toMatchObject({
      id: "chargeback",
      applied: false,
      note: "model confident (0.7 ≥ 0.6)",
    });
  });

  it("applies the first matching rule in policy order and records the others", () => {
    const decision = decideIntent(scores("refund", 0.3), findCues(index, "hacked and a chargeback"), POLICY);
    expect(decision.intent).toBe("account_access");
    expect(decision.rules.map((rule) => [rule.id, rule.applied])).toEqual([
      ["hacked", true],
      ["chargeback", false],
    ]);
  });

  it("falls back to 'other' (general triage) when the model is unsure and no rule decides", () => {
    const decision = decideIntent(scores("billing", 0.3), [], POLICY);
    expect(decision).toMatchObject({
      intent: "other",
      source: "fallback",
      lowConfidence: true,
      confidence: 0.3,
    });
    expect(decision.model.intent).toBe("billing");
    expect(decision.reasons[0]).toContain("to general triage");
  });
});
