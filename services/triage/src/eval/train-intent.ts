// Trains the intent model on the dataset's train split only and writes model/intent-model.json.
//   node services/triage/src/eval/train-intent.ts            train and write the model
//   node services/triage/src/eval/train-intent.ts --cv 5     k-fold cross-validation on train (for tuning; writes nothing)
// Deterministic: the same dataset and options produce the same file.

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { classifyText, compileIntentClassifier, intentInputText, trainIntentModel, type TrainingExample } from "../domain/intent-model.ts";
import { prepareCustomerText } from "@steward/text";
import { MODEL_PATH, readDataset, readLexicon, type LabelledMessage } from "./dataset.ts";

export const INTENT_LABELS = [
  "billing",
  "refund",
  "technical_issue",
  "account_access",
  "order_delivery",
  "cancellation",
  "complaint",
  "sales_question",
  "feedback",
  "other",
] as const;

export function toTrainingExample(message: LabelledMessage): TrainingExample {
  return {
    text: intentInputText(message.subject, prepareCustomerText(message.body).newText),
    intent: message.intent,
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function train(messages: readonly LabelledMessage[], lexicon: Record<string, string[]>) {
  return trainIntentModel({
    examples: messages.map(toTrainingExample),
    labels: INTENT_LABELS,
    lexicon,
    dataSha256: sha256(messages.map((message) => `${message.id}\t${message.intent}\t${message.subject}\t${message.body}`).join("\n")),
    versionOf: (model) => `intent-${sha256(JSON.stringify(model)).slice(0, 12)}`,
  });
}

function crossValidate(messages: readonly LabelledMessage[], lexicon: Record<string, string[]>, folds: number): void {
  // Folds by a hash of the id, so they are stable as the dataset grows.
  const foldOf = (message: LabelledMessage) => Number.parseInt(sha256(message.id).slice(0, 8), 16) % folds;
  let correct = 0;
  for (let fold = 0; fold < folds; fold++) {
    const classifier = compileIntentClassifier(
      train(
        messages.filter((message) => foldOf(message) !== fold),
        lexicon,
      ),
    );
    const held = messages.filter((message) => foldOf(message) === fold);
    for (const message of held) {
      if (classifyText(classifier, toTrainingExample(message).text)[0]?.intent === message.intent) correct++;
    }
  }
  console.log(`${folds}-fold cross-validation on train: ${((100 * correct) / messages.length).toFixed(1)}% (${correct}/${messages.length})`);
}

if (import.meta.main) {
  const trainSplit = readDataset().filter((message) => message.split === "train");
  const lexicon = readLexicon();
  const cvIndex = process.argv.indexOf("--cv");
  if (cvIndex !== -1) {
    crossValidate(trainSplit, lexicon, Number(process.argv[cvIndex + 1] ?? 5));
  } else {
    const started = performance.now();
    const model = train(trainSplit, lexicon);
    writeFileSync(MODEL_PATH, `${JSON.stringify(model)}\n`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`trained ${model.modelVersion} on ${trainSplit.length} train messages in ${seconds}s: ${Object.keys(model.weights).length} features → ${MODEL_PATH}`);
  }
}
