// Quality report of the shipped triage (policy + model + language detection) on the labelled dataset:
// language accuracy per language, intent accuracy per language and per intent, an intent confusion
// matrix, and urgency agreement. Held-out test split by default; add --train for the train split too.
//   npm run eval:triage [-- --train]

import { eldLanguageScorer } from "../domain/eld-language-scorer.ts";
import { classifyText, intentInputText } from "../domain/intent-model.ts";
import { prepareCustomerText } from "@steward/text";
import { createTriageEngine, triageTicket, type TriageEngine } from "../domain/triage-engine.ts";
import { readIntentModelFile, readTriagePolicyFile } from "../policy/triage-files.ts";
import { readDataset, type LabelledMessage } from "./dataset.ts";

export interface SplitReport {
  readonly split: string;
  readonly messages: number;
  readonly languageAccuracy: number;
  readonly intentAccuracy: number;
  /** The model's own top intent, before rules and the low-confidence fallback. */
  readonly modelOnlyIntentAccuracy: number;
  readonly urgencyAccuracy: number;
  readonly languageByLanguage: ReadonlyMap<string, Tally>;
  readonly intentByLanguage: ReadonlyMap<string, Tally>;
  readonly intentByIntent: ReadonlyMap<string, Tally>;
  readonly confusion: ReadonlyMap<string, Map<string, number>>;
  readonly misses: readonly string[];
}

export interface Tally {
  correct: number;
  total: number;
}

function count(map: Map<string, Tally>, key: string, correct: boolean): void {
  const tally = map.get(key) ?? { correct: 0, total: 0 };
  tally.total++;
  if (correct) tally.correct++;
  map.set(key, tally);
}

export function evaluateSplit(engine: TriageEngine, messages: readonly LabelledMessage[], split: string): SplitReport {
  const languageByLanguage = new Map<string, Tally>();
  const intentByLanguage = new Map<string, Tally>();
  const intentByIntent = new Map<string, Tally>();
  const confusion = new Map<string, Map<string, number>>();
  const misses: string[] = [];
  let languageCorrect = 0;
  let intentCorrect = 0;
  let modelCorrect = 0;
  let urgencyCorrect = 0;
  for (const message of messages) {
    // No customer profile language: the text alone must tell.
    const decision = triageTicket(engine, {
      subject: message.subject,
      body: message.body,
      channel: "email",
      customer: {},
    });
    const languageOk = decision.triage.language === message.language;
    const intentOk = decision.triage.intent === message.intent;
    const modelTop = classifyText(engine.classifier, intentInputText(message.subject, prepareCustomerText(message.body).newText))[0]?.intent;
    if (languageOk) languageCorrect++;
    if (intentOk) intentCorrect++;
    if (modelTop === message.intent) modelCorrect++;
    if (decision.audit.urgency.level === message.urgency) urgencyCorrect++;
    count(languageByLanguage, message.language, languageOk);
    count(intentByLanguage, message.language, intentOk);
    count(intentByIntent, message.intent, intentOk);
    const row = confusion.get(message.intent) ?? new Map<string, number>();
    row.set(decision.triage.intent, (row.get(decision.triage.intent) ?? 0) + 1);
    confusion.set(message.intent, row);
    if (!languageOk) misses.push(`${message.id}: language ${decision.triage.language}, expected ${message.language}`);
    if (!intentOk) misses.push(`${message.id}: intent ${decision.triage.intent} (${decision.triage.intentConfidence}, ${decision.audit.intentSource}), expected ${message.intent}`);
  }
  const total = Math.max(1, messages.length);
  return {
    split,
    messages: messages.length,
    languageAccuracy: languageCorrect / total,
    intentAccuracy: intentCorrect / total,
    modelOnlyIntentAccuracy: modelCorrect / total,
    urgencyAccuracy: urgencyCorrect / total,
    languageByLanguage,
    intentByLanguage,
    intentByIntent,
    confusion,
    misses,
  };
}

const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
const tallyPercent = (tally: Tally | undefined): string => (tally === undefined ? "-" : `${percent(tally.correct / tally.total)} (${tally.correct}/${tally.total})`);

export function formatReport(report: SplitReport, labels: readonly string[]): string {
  const lines: string[] = [];
  lines.push(`== ${report.split} split: ${report.messages} messages`);
  lines.push(`language accuracy: ${percent(report.languageAccuracy)}   (target ≥ 97%)`);
  lines.push(`intent accuracy:   ${percent(report.intentAccuracy)}   (target ≥ 85%; model alone, before rules and fallback: ${percent(report.modelOnlyIntentAccuracy)})`);
  lines.push(`urgency agreement: ${percent(report.urgencyAccuracy)}   (informational: cue-based urgency vs. the labelled urgency)`);
  lines.push("");
  lines.push("language  language-accuracy     intent-accuracy");
  for (const language of [...report.languageByLanguage.keys()].sort()) {
    lines.push(`${language.padEnd(9)} ${tallyPercent(report.languageByLanguage.get(language)).padEnd(21)} ${tallyPercent(report.intentByLanguage.get(language))}`);
  }
  lines.push("");
  lines.push("intent            accuracy");
  for (const intent of labels) lines.push(`${intent.padEnd(17)} ${tallyPercent(report.intentByIntent.get(intent))}`);
  lines.push("");
  lines.push("confusion matrix (rows: expected, columns: decided)");
  const short = labels.map((label) => label.slice(0, 6));
  lines.push(`${"".padEnd(17)}${short.map((label) => label.padStart(7)).join("")}`);
  for (const expected of labels) {
    const row = report.confusion.get(expected);
    lines.push(`${expected.padEnd(17)}${labels.map((decided) => String(row?.get(decided) ?? 0).padStart(7)).join("")}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const policy = readTriagePolicyFile();
  const model = readIntentModelFile();
  const engine = createTriageEngine({
    policy,
    model,
    languageScorer: eldLanguageScorer,
  });
  const dataset = readDataset();
  console.log(`policy ${policy.version}, model ${model.modelVersion} (trained on ${model.training.examples} train messages)`);
  const splits = process.argv.includes("--train") ? (["test", "train"] as const) : (["test"] as const);
  for (const split of splits) {
    const report = evaluateSplit(
      engine,
      dataset.filter((message) => message.split === split),
      split,
    );
    console.log(`\n${formatReport(report, model.labels)}`);
    if (process.argv.includes("--misses")) console.log(`\nmisses:\n  ${report.misses.join("\n  ")}`);
  }
}
