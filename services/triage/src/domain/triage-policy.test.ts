import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseTriagePolicy, parseTriagePolicyText } from "./triage-policy.ts";

const SHIPPED = JSON.parse(readFileSync(new URL("../../policy/triage-policy.json", import.meta.url), "utf8")) as Record<string, unknown>;

/** A copy of the shipped policy with the values at the given paths replaced. */
function shippedWith(...changes: [path: readonly (string | number)[], value: unknown][]): unknown {
  const copy = structuredClone<Record<string, unknown>>(SHIPPED);
  for (const [path, value] of changes) {
    let node = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path.at(-1)!] = value;
  }
  return copy;
}

function issuesOf(json: unknown): readonly string[] {
  const result = parseTriagePolicy(json);
  return result.ok ? [] : result.error.issues;
}

describe("parseTriagePolicy", () => {
  it("accepts the shipped policy", () => {
    const result = parseTriagePolicy(SHIPPED);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.policy.version).toMatch(/\S/);
  });

  it("requires a version", () => {
    const { version: _version, ...withoutVersion } = SHIPPED;
    expect(issuesOf(withoutVersion).some((issue) => issue.startsWith("version:"))).toBe(true);
  });

  it("names the path of each invalid field", () => {
    const broken = shippedWith([["priority", "byUrgency", "high"], "P0"], [["language", "minConfidence"], 1.5], [["intents", "billing", "minLevel"], -1]);
    const issues = issuesOf(broken);
    expect(issues.some((issue) => issue.startsWith("priority.byUrgency.high:"))).toBe(true);
    expect(issues.some((issue) => issue.startsWith("language.minConfidence:"))).toBe(true);
    expect(issues.some((issue) => issue.startsWith("intents.billing.minLevel:"))).toBe(true);
  });

  it("rejects a rule or fallback naming an intent the policy cannot route", () => {
    const broken = shippedWith(
      [
        ["rules"],
        [
          {
            id: "x",
            intent: "astrology",
            cues: ["horoscope"],
            overrideBelow: 1,
          },
        ],
      ],
      [["intent", "fallbackIntent"], "nowhere"],
    );
    const issues = issuesOf(broken);
    expect(issues).toContain('rules.0.intent: "astrology" has no entry in intents');
    expect(issues).toContain('intent.fallbackIntent: "nowhere" has no entry in intents');
  });

  it("rejects duplicate rule ids and empty cues", () => {
    const broken = shippedWith([
      ["rules"],
      [
        { id: "same", intent: "billing", cues: ["invoice"], overrideBelow: 1 },
        { id: "same", intent: "billing", cues: [" "], overrideBelow: 1 },
      ],
    ]);
    const issues = issuesOf(broken);
    expect(issues).toContain('rules.1.id: duplicate rule id "same"');
    expect(issues.some((issue) => issue.startsWith("rules.1.cues.0:"))).toBe(true);
  });

  it("rejects an SLA rule with no condition", () => {
    const broken = shippedWith([["sla", "rules"], [{ when: {}, slaPolicy: "always" }]]);
    expect(issuesOf(broken).some((issue) => issue.startsWith("sla.rules.0.when:"))).toBe(true);
  });

  it("reports invalid JSON text as an issue instead of throwing", () => {
    const result = parseTriagePolicyText("{ not json");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("INVALID_TRIAGE_POLICY");
      expect(result.error.issues[0]).toMatch(/^\(root\): not valid JSON/);
    }
  });
});
