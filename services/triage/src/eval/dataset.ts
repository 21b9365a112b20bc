// Reads the labelled message dataset (services/triage/data/messages.jsonl) for training, evaluation and
// benchmarks. Malformed lines are reported with their line number rather than skipped silently.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const DATASET_PATH = fileURLToPath(new URL("../../data/messages.jsonl", import.meta.url));
export const MODEL_PATH = fileURLToPath(new URL("../../model/intent-model.json", import.meta.url));
export const LEXICON_PATH = fileURLToPath(new URL("../../model/intent-lexicon.json", import.meta.url));
export const POLICY_PATH = fileURLToPath(new URL("../../policy/triage-policy.json", import.meta.url));

const messageSchema = z.object({
  id: z.string(),
  language: z.string(),
  intent: z.string(),
  urgency: z.enum(["low", "normal", "high", "critical"]),
  customerTone: z.string(),
  subject: z.string(),
  body: z.string(),
  split: z.enum(["train", "test"]),
});

export type LabelledMessage = z.infer<typeof messageSchema>;

export function readDataset(path: string = DATASET_PATH): LabelledMessage[] {
  const messages: LabelledMessage[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path}:${index + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = messageSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${index + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
    messages.push(parsed.data);
  });
  return messages;
}

/** intent → every cue of every language, from model/intent-lexicon.json. */
export function readLexicon(path: string = LEXICON_PATH): Record<string, string[]> {
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const lexicon: Record<string, string[]> = {};
  for (const [intent, byLanguage] of Object.entries(raw)) {
    if (intent.startsWith("$")) continue;
    lexicon[intent] = Object.values(byLanguage as Record<string, string[]>).flat();
  }
  return lexicon;
}
