import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileCueIndex, findCues } from "./cue-matching.ts";
import { ANSWER_DID_NOT_HELP_CATEGORY, decidePriority, priorityRank, readCustomerSignals, TONE_CATEGORY, URGENCY_CATEGORY, type PriorityInput } from "./priority.ts";
import { CHANNELS, URGENCIES, type TriagePolicy } from "./triage-policy.ts";

const PRIORITY_POLICY: TriagePolicy["priority"] = {
  byUrgency: { critical: "P1", high: "P2", normal: "P3", low: "P4" },
  raises: {
    vipTier: 1,
    angryTone: 1,
    frustratedTone: 0,
    answerDidNotHelp: 1,
    perRepeatContact: 1,
    maxRepeatRaise: 2,
    channels: { phone: 1, chat: 1, email: 0, web: 0, social: 0, api: 0 },
  },
  maxTotalRaise: 3,
};

const CALM_EMAIL: PriorityInput = {
  urgency: "normal",
  tone: "neutral",
  answerDidNotHelp: false,
  customerTier: "standard",
  channel: "email",
  repeatContactCount: 0,
};

describe("decidePriority", () => {
  it("maps urgency to a base priority", () => {
    expect(decidePriority({ ...CALM_EMAIL, urgency: "critical" }, PRIORITY_POLICY).priority).toBe("P1");
    expect(decidePriority({ ...CALM_EMAIL, urgency: "high" }, PRIORITY_POLICY).priority).toBe("P2");
    expect(decidePriority(CALM_EMAIL, PRIORITY_POLICY).priority).toBe("P3");
    expect(decidePriority({ ...CALM_EMAIL, urgency: "low" }, PRIORITY_POLICY).priority).toBe("P4");
  });

  it("raises a VIP customer one step", () => {
    const decision = decidePriority({ ...CALM_EMAIL, customerTier: "VIP" }, PRIORITY_POLICY);
    expect(decision.priority).toBe("P2");
    expect(decision.reasons).toContain("VIP customer → +1");
  });

  it("raises phone and chat over email, because the customer is waiting", () => {
    expect(decidePriority({ ...CALM_EMAIL, channel: "phone" }, PRIORITY_POLICY).priority).toBe("P2");
    expect(decidePriority({ ...CALM_EMAIL, channel: "chat" }, PRIORITY_POLICY).priority).toBe("P2");
    expect(decidePriority({ ...CALM_EMAIL, channel: "web" }, PRIORITY_POLICY).priority).toBe("P3");
  });

  it("raises an angry customer, not a frustrated one (by this policy)", () => {
    expect(decidePriority({ ...CALM_EMAIL, tone: "angry" }, PRIORITY_POLICY).priority).toBe("P2");
    expect(decidePriority({ ...CALM_EMAIL, tone: "frustrated" }, PRIORITY_POLICY).priority).toBe("P3");
  });

  it("raises one step per repeat contact, up to the repeat cap, and reports it", () => {
    const once = decidePriority({ ...CALM_EMAIL, urgency: "low", repeatContactCount: 1 }, PRIORITY_POLICY);
    expect(once.priority).toBe("P3");
    expect(once.repeatRaise).toBe(1);
    expect(once.reasons.some((reason) => reason.startsWith("repeat contact: 1 earlier contact"))).toBe(true);
    const many = decidePriority({ ...CALM_EMAIL, urgency: "low", repeatContactCount: 5 }, PRIORITY_POLICY);
    expect(many.priority).toBe("P2");
    expect(many.repeatRaise).toBe(2);
  });

  it("raises when an earlier answer did not help", () => {
    expect(decidePriority({ ...CALM_EMAIL, answerDidNotHelp: true }, PRIORITY_POLICY).priority).toBe("P2");
  });

  it("never goes past P1 and says why a raise had no effect", () => {
    const decision = decidePriority(
      {
        ...CALM_EMAIL,
        urgency: "critical",
        customerTier: "vip",
        channel: "phone",
      },
      PRIORITY_POLICY,
    );
    expect(decision.priority).toBe("P1");
    expect(decision.raises).toEqual([]);
    expect(decision.reasons).toContain("VIP customer (no raise: already P1)");
  });

  it("caps the raises together, keeping repeat contacts first", () => {
    const decision = decidePriority(
      {
        urgency: "low",
        tone: "angry",
        answerDidNotHelp: true,
        customerTier: "vip",
        channel: "chat",
        repeatContactCount: 2,
      },
      { ...PRIORITY_POLICY, maxTotalRaise: 2 },
    );
    expect(decision.priority).toBe("P2");
    expect(decision.repeatRaise).toBe(2);
    expect(decision.reasons).toContain("VIP customer (no raise: raise cap reached)");
  });

  it("never lowers priority below what urgency gives and never leaves P1..P4", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...URGENCIES),
        fc.constantFrom("neutral" as const, "frustrated" as const, "angry" as const),
        fc.boolean(),
        fc.constantFrom("standard", "vip", undefined),
        fc.constantFrom(...CHANNELS),
        fc.integer({ min: -3, max: 20 }),
        (urgency, tone, answerDidNotHelp, customerTier, channel, repeatContactCount) => {
          const decision = decidePriority(
            {
              urgency,
              tone,
              answerDidNotHelp,
              customerTier,
              channel,
              repeatContactCount,
            },
            PRIORITY_POLICY,
          );
          expect(priorityRank(decision.priority)).toBeLessThanOrEqual(priorityRank(decision.base));
          expect(priorityRank(decision.base) - priorityRank(decision.priority)).toBeLessThanOrEqual(PRIORITY_POLICY.maxTotalRaise);
          expect(["P1", "P2", "P3", "P4"]).toContain(decision.priority);
        },
      ),
    );
  });
});

describe("readCustomerSignals", () => {
  const index = compileCueIndex([
    {
      category: URGENCY_CATEGORY.critical,
      cues: ["outage", "ausfall", "宕机"],
    },
    {
      category: URGENCY_CATEGORY.high,
      cues: ["urgent", "cannot log in", "no puedo entrar"],
    },
    { category: URGENCY_CATEGORY.low, cues: ["no rush", "not urgent"] },
    { category: TONE_CATEGORY.angry, cues: ["unacceptable", "inaceptable"] },
    { category: TONE_CATEGORY.frustrated, cues: ["still"] },
    {
      category: ANSWER_DID_NOT_HELP_CATEGORY,
      cues: ["didn't help", "no ha servido"],
    },
  ]);
  const signals = (text: string) => readCustomerSignals(findCues(index, text), text);

  it("takes the most urgent cue", () => {
    expect(signals("Urgent: total outage since 9:00").urgency).toBe("critical");
    expect(signals("I cannot log in").urgency).toBe("high");
    expect(signals("No puedo entrar a mi cuenta").urgency).toBe("high");
    expect(signals("系统宕机了").urgency).toBe("critical");
    expect(signals("No rush, just a question").urgency).toBe("low");
    expect(signals("Where is my parcel?").urgency).toBe("normal");
  });

  it("reads 'not urgent' as low, not as urgent", () => {
    expect(signals("This is not urgent").urgency).toBe("low");
  });

  it("reads anger from words and from shouting in capitals", () => {
    expect(signals("This is unacceptable").tone).toBe("angry");
    expect(signals("WHERE IS MY MONEY").tone).toBe("angry");
    expect(signals("The VAT on the PDF is wrong").tone).toBe("neutral");
    expect(signals("It still fails").tone).toBe("frustrated");
  });

  it("flags follow-ups saying the answer did not help", () => {
    expect(signals("Your suggestion didn't help, same error").answerDidNotHelp).toBe(true);
    expect(signals("Lo que me dijisteis no ha servido").answerDidNotHelpCues).toEqual(["no ha servido"]);
    expect(signals("Thanks, that fixed it").answerDidNotHelp).toBe(false);
  });
});
