import { describe, expect, it } from "vitest";
import { readIntentModelFile, readTriagePolicyFile } from "../policy/triage-files.ts";
import { eldLanguageScorer } from "./eld-language-scorer.ts";
import { analyzeTicket, createTriageEngine, triageTicket, type TicketForTriage } from "./triage-engine.ts";
import { InvalidTriagePolicyError } from "./triage-policy.ts";

const policy = readTriagePolicyFile();
const model = readIntentModelFile();
const engine = createTriageEngine({
  policy,
  model,
  languageScorer: eldLanguageScorer,
});

const REFUND_EMAIL: TicketForTriage = {
  subject: "Refund for order #448120",
  body: "Hi, I returned the blender two weeks ago and the tracking says it was delivered to your warehouse. Still no refund on my card. When can I expect it?\n\nThanks,\nAnna",
  channel: "email",
  customer: { tier: "standard" },
};

describe("triageTicket", () => {
  it("returns the decision shape adapters publish", () => {
    const decision = triageTicket(engine, REFUND_EMAIL);
    expect(decision.triage).toMatchObject({ language: "en", intent: "refund" });
    expect(decision.triage.languageConfidence).toBeGreaterThan(0.5);
    expect(decision.triage.intentConfidence).toBeGreaterThan(0.35);
    expect(["P1", "P2", "P3", "P4"]).toContain(decision.triage.priority);
    expect(decision.triage.reasons.length).toBeGreaterThan(3);
    expect(decision.group).toBe(policy.intents.refund!.group);
    expect(decision.requiredSkills).toEqual([
      {
        name: policy.intents.refund!.skill,
        minLevel: policy.intents.refund!.minLevel,
        optional: false,
      },
      {
        name: "language:en",
        minLevel: policy.language.skillMinLevel,
        optional: false,
      },
    ]);
    expect(decision.policyVersion).toBe(policy.version);
    expect(decision.audit.modelVersion).toBe(model.modelVersion);
    expect(decision.audit.model.alternatives).toHaveLength(3);
    expect(decision.repeatContact).toEqual({ count: 0, priorityRaise: 0 });
    expect(decision.answerDidNotHelp).toBe(false);
  });

  it("judges only the new text: an old URGENT outage in quoted history does not count", () => {
    const decision = triageTicket(engine, {
      ...REFUND_EMAIL,
      body: `${REFUND_EMAIL.body}\n\n> On Mon, 2 Sep, Mark wrote:\n> URGENT outage, the whole team cannot log in!!!`,
    });
    expect(decision.audit.urgency.level).not.toBe("critical");
    expect(decision.triage.intent).toBe("refund");
  });

  it("raises priority for each repeat contact about the decided intent, and reports it", () => {
    const first = triageTicket(engine, REFUND_EMAIL);
    const repeat = triageTicket(engine, {
      ...REFUND_EMAIL,
      recentContactsByIntent: { refund: 1, billing: 4 },
    });
    expect(repeat.repeatContact).toEqual({ count: 1, priorityRaise: 1 });
    expect(Number(repeat.triage.priority.slice(1))).toBe(Number(first.triage.priority.slice(1)) - 1);
    expect(repeat.triage.reasons.some((reason) => reason.startsWith("repeat contact: 1 earlier contact"))).toBe(true);
  });

  it("ignores earlier contacts about other intents", () => {
    expect(
      triageTicket(engine, {
        ...REFUND_EMAIL,
        recentContactsByIntent: { billing: 3 },
      }).repeatContact.count,
    ).toBe(0);
  });

  it("adds the VIP skill and a faster SLA for a VIP customer", () => {
    const decision = triageTicket(engine, {
      ...REFUND_EMAIL,
      customer: { tier: "VIP" },
    });
    expect(decision.requiredSkills).toContainEqual(policy.tierSkills.vip);
    expect(decision.customerTier).toBe("vip");
    expect(decision.slaPolicy).not.toBe(triageTicket(engine, REFUND_EMAIL).slaPolicy);
  });

  it("lets a policy keyword rule override the model", () => {
    const decision = triageTicket(engine, {
      subject: "Help",
      body: "Someone changed my password and the e-mail on my account. I want a refund of my subscription too.",
      channel: "email",
      customer: {},
    });
    expect(decision.triage.intent).toBe("account_access");
    expect(decision.audit.intentSource).toBe("rule");
    expect(decision.audit.rules[0]).toMatchObject({
      id: "account-takeover",
      applied: true,
    });
  });

  it("sends an unsure intent to general triage as 'other' instead of guessing", () => {
    const strict = createTriageEngine({
      policy: { ...policy, intent: { ...policy.intent, minConfidence: 0.999 } },
      model,
      languageScorer: eldLanguageScorer,
    });
    const decision = triageTicket(strict, REFUND_EMAIL);
    expect(decision.triage.intent).toBe("other");
    expect(decision.group).toBe(policy.generalTriageGroup);
    expect(decision.audit.model.intent).toBe("refund");
  });

  it("falls back to the customer's language for a message too short to tell", () => {
    const decision = triageTicket(engine, {
      subject: "",
      body: "ok??",
      channel: "chat",
      customer: { language: "de" },
    });
    expect(decision.triage.language).toBe("de");
    expect(decision.audit.languageSource).toBe("customer");
  });

  it("makes the language skill optional when the language is a guess", () => {
    const decision = triageTicket(engine, {
      subject: "",
      body: "ok??",
      channel: "chat",
      customer: {},
    });
    expect(decision.requiredSkills.find((skill) => skill.name.startsWith("language:"))?.optional).toBe(true);
  });

  it("triages a critical multilingual outage as P1", () => {
    const decision = triageTicket(engine, {
      subject: "Ausfall",
      body: "Seit 7 Uhr startet unser Kassensystem in allen Filialen nicht mehr. Totalausfall, wir können nichts verkaufen!",
      channel: "email",
      customer: {},
    });
    expect(decision.triage).toMatchObject({
      language: "de",
      intent: "technical_issue",
      priority: "P1",
    });
  });

  it("refuses a policy that cannot route an intent the model produces", () => {
    const { billing: _billing, ...intents } = policy.intents;
    expect(() =>
      createTriageEngine({
        policy: { ...policy, intents },
        model,
        languageScorer: eldLanguageScorer,
      }),
    ).toThrow(InvalidTriagePolicyError);
  });
});

describe("analyzeTicket", () => {
  it("gives the intent before the recent contacts are known, and the same decision when passed on", () => {
    const analysis = analyzeTicket(engine, REFUND_EMAIL);
    const recentContactsByIntent = { [analysis.intent.intent]: 2 };
    const ticket = { ...REFUND_EMAIL, recentContactsByIntent };
    const decision = triageTicket(engine, ticket, analysis);
    expect(decision).toEqual(triageTicket(engine, ticket));
    expect(decision.triage.intent).toBe(analysis.intent.intent);
    expect(decision.repeatContact.count).toBe(2);
  });
});
