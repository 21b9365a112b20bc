import { describe, expect, it } from "vitest";
import { classifyText, compileIntentClassifier, InvalidIntentModelError, parseIntentModel, trainIntentModel, type TrainIntentModelInput } from "./intent-model.ts";
import { extractFeatures } from "./text-features.ts";

const INPUT: TrainIntentModelInput = {
  examples: [
    { text: "please refund my order", intent: "refund" },
    { text: "I want my money back", intent: "refund" },
    { text: "devuélvanme el dinero, quiero el reembolso", intent: "refund" },
    { text: "the invoice has the wrong VAT number", intent: "billing" },
    { text: "you charged me twice this month", intent: "billing" },
    { text: "la factura tiene un error", intent: "billing" },
  ],
  labels: ["refund", "billing"],
  lexicon: {
    refund: ["refund", "reembols", "退款"],
    billing: ["invoice", "factura", "发票"],
  },
  trainingOptions: {
    iterations: 60,
    learningRate: 0.1,
    l2: 0.0005,
    minDocumentFrequency: 1,
    pruneBelow: 0,
  },
  dataSha256: "test",
  versionOf: () => "intent-test",
};

describe("trainIntentModel", () => {
  it("is deterministic: the same input gives the same model", () => {
    expect(JSON.stringify(trainIntentModel(INPUT))).toBe(JSON.stringify(trainIntentModel(INPUT)));
  });

  it("learns its training examples and generalises across languages through lexicon concepts", () => {
    const classifier = compileIntentClassifier(trainIntentModel(INPUT));
    expect(classifyText(classifier, "please refund my order")[0]?.intent).toBe("refund");
    // Chinese never occurs in training; only the shared concept features carry the meaning over.
    expect(classifyText(classifier, "我要退款")[0]?.intent).toBe("refund");
    expect(classifyText(classifier, "发票错了")[0]?.intent).toBe("billing");
  });

  it("returns probabilities that sum to 1, best first", () => {
    const scores = classifyText(compileIntentClassifier(trainIntentModel(INPUT)), "anything at all");
    expect(scores.reduce((sum, score) => sum + score.probability, 0)).toBeCloseTo(1, 9);
    expect(scores[0]!.probability).toBeGreaterThanOrEqual(scores[1]!.probability);
  });

  it("rejects an example with an unknown intent", () => {
    expect(() =>
      trainIntentModel({
        ...INPUT,
        examples: [{ text: "x", intent: "astrology" }],
      }),
    ).toThrow(/unknown intent "astrology"/);
  });
});

describe("parseIntentModel", () => {
  it("accepts a trained model and rejects a corrupted one with named problems", () => {
    const model = trainIntentModel(INPUT);
    expect(parseIntentModel(JSON.parse(JSON.stringify(model))).modelVersion).toBe("intent-test");
    const broken = { ...model, bias: [0] };
    expect(() => parseIntentModel(broken)).toThrow(InvalidIntentModelError);
    expect(() => parseIntentModel(broken)).toThrow(/bias: has 1 values for 2 labels/);
  });
});

describe("extractFeatures", () => {
  it("makes character n-grams inside words and over unsegmented CJK runs", () => {
    const latin = extractFeatures("refund", []);
    expect(latin.has(" re")).toBe(true);
    expect(latin.has("fund")).toBe(true);
    expect(latin.has("w:refund")).toBe(true);
    const chinese = extractFeatures("我要退款", []);
    expect(chinese.has("退款")).toBe(true);
    expect([...chinese.keys()].some((key) => key.startsWith("w:"))).toBe(false);
  });

  it("adds one concept feature per lexicon hint, independent of language", () => {
    expect(extractFeatures("x", ["refund", "refund"]).has("k:refund")).toBe(true);
  });

  it("ignores URLs and e-mail addresses", () => {
    const features = extractFeatures("mail me at someone@example.com or see https://example.com/page", []);
    expect(features.has("w:example")).toBe(false);
  });
});
