// The languages simulated agents speak: every language of triage's data set, so no ticket of the load
// generator waits for a speaker (the bench and the fault campaign measure routing, not staffing).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export async function agentLanguages(): Promise<string[]> {
  try {
    const text = await readFile(join(root, "services/triage/data/messages.jsonl"), "utf8");
    const langs = new Set<string>();
    for (const line of text.split("\n")) if (line) langs.add((JSON.parse(line) as { language: string }).language);
    return [...langs].filter((l) => /^[a-z]{2}$/.test(l)).sort();
  } catch {
    return ["en"];
  }
}
