import { describe, expect, it } from "vitest";
import { readIntentModelFile, readTriagePolicyFile } from "../policy/triage-files.ts";
import { eldLanguageScorer } from "./eld-language-scorer.ts";
import { retriageTicket } from "./retriage.ts";
import { createTriageEngine, triageTicket } from "./triage-engine.ts";

const policy = readTriagePolicyFile();
const engine = createTriageEngine({
  policy,
  model: readIntentModelFile(),
  languageScorer: eldLanguageScorer,
});

const billingQuestion = triageTicket(engine, {
  subject: "Question about my invoice",
  body: "Hello, my last invoice shows a VAT amount I do not understand. Could you explain the charge?",
  channel: "email",
  customer: { tier: "standard" },
});
const outage = triageTicket(engine, {
  subject: "URGENT: dashboard down for entire team",
  body: "Our whole team is getting a 502 error when opening the dashboard. Nobody can answer tickets. This is an outage.",
  channel: "email",
  customer: {},
});

describe("retriageTicket", () => {
  it("starts from the expected decisions", () => {
    expect(billingQuestion.triage).toMatchObject({
      intent: "billing",
      priority: "P3",
    });
    expect(outage.triage).toMatchObject({
      intent: "technical_issue",
      priority: "P1",
    });
  });

  it("updates intent, skills and group when the follow-up is clearly about something else", () => {
    const { decision, changes, changed } = retriageTicket(engine, billingQuestion, {
      body: "Actually, forget it. Please cancel my subscription at the end of this month, we are moving to another tool.",
    });
    expect(decision.triage.intent).toBe("cancellation");
    expect(changes.intent).toEqual({ from: "billing", to: "cancellation" });
    expect(changes.skillsChanged).toBe(true);
    expect(decision.requiredSkills[0]?.name).toBe(policy.intents.cancellation!.skill);
    expect(decision.group).toBe(policy.intents.cancellation!.group);
    expect(changed).toBe(true);
  });

  it("keeps the intent when the follow-up is vague", () => {
    const { decision, changed } = retriageTicket(engine, billingQuestion, {
      body: "Any news?",
    });
    expect(decision.triage.intent).toBe("billing");
    expect(changed).toBe(false);
  });

  it("raises priority when the follow-up is more urgent", () => {
    const { decision, changes } = retriageTicket(engine, billingQuestion, {
      body: "This is urgent, you charged me twice and I need the money today, please answer immediately.",
    });
    expect(changes.priority?.from).toBe("P3");
    expect(Number(decision.triage.priority.slice(1))).toBeLessThan(3);
  });

  it("never lowers priority: a calm follow-up keeps the P1", () => {
    const { decision, changes } = retriageTicket(engine, outage, {
      body: "Thanks, any update on this?",
    });
    expect(decision.triage.priority).toBe("P1");
    expect(changes.priority).toBeUndefined();
  });

  it("never drops below a priority an escalation set since the last decision", () => {
    const { decision } = retriageTicket(engine, billingQuestion, {
      body: "Any news?",
      currentPriority: "P1",
    });
    expect(decision.triage.priority).toBe("P1");
    expect(decision.audit.priority.keptFrom).toBe("P1");
    expect(decision.triage.reasons.some((reason) => reason.includes("re-triage never lowers priority"))).toBe(true);
  });

  it("flags a follow-up saying the answer did not help, and raises priority", () => {
    const { decision } = retriageTicket(engine, billingQuestion, {
      body: "Your answer didn't help, the invoice is still wrong.",
    });
    expect(decision.answerDidNotHelp).toBe(true);
    expect(decision.triage.priority).toBe("P2");
  });

  it("switches language only when the follow-up is confidently in another one", () => {
    const switched = retriageTicket(engine, billingQuestion, {
      body: "Hola, sigo sin entender por qué la factura tiene ese importe de IVA.",
    });
    expect(switched.decision.triage.language).toBe("es");
    expect(switched.changes.language).toEqual({ from: "en", to: "es" });
    const kept = retriageTicket(engine, billingQuestion, { body: "ok" });
    expect(kept.decision.triage.language).toBe("en");
  });

  it("keeps the repeat-contact count and the original channel", () => {
    const { decision } = retriageTicket(engine, billingQuestion, {
      body: "Any news?",
    });
    expect(decision.repeatContact).toEqual(billingQuestion.repeatContact);
    expect(decision.channel).toBe("email");
  });
});
