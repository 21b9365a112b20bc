// Guards the shipped model and policy against regressions: runs them on the held-out test split and
// asserts the quality targets. Fails when the model or lexicon regresses (intended).
import { describe, expect, it } from "vitest";
import { eldLanguageScorer } from "../domain/eld-language-scorer.ts";
import { createTriageEngine } from "../domain/triage-engine.ts";
import { readIntentModelFile, readTriagePolicyFile } from "../policy/triage-files.ts";
import { readDataset } from "./dataset.ts";
import { evaluateSplit } from "./eval-triage.ts";

describe("shipped triage on the test split", () => {
  const engine = createTriageEngine({
    policy: readTriagePolicyFile(),
    model: readIntentModelFile(),
    languageScorer: eldLanguageScorer,
  });
  const test = readDataset().filter((message) => message.split === "test");
  const report = evaluateSplit(engine, test, "test");

  it("has a test split covering the 22 languages", () => {
    expect(new Set(test.map((message) => message.language)).size).toBeGreaterThanOrEqual(22);
  });

  it("detects the language of at least 97% of test messages", () => {
    expect(report.languageAccuracy).toBeGreaterThanOrEqual(0.97);
  });

  it("decides the intent of at least 85% of test messages", () => {
    expect(report.intentAccuracy).toBeGreaterThanOrEqual(0.85);
  });

  it("was trained on the train split only", () => {
    const model = readIntentModelFile();
    expect(model.training.examples).toBe(readDataset().filter((message) => message.split === "train").length);
  });
});
