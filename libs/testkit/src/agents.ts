// Sample agents whose groups and skills follow the shipped triage policy, for the demo and tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface AgentProfileInput {
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<string, number>;
}

interface PolicyShape {
  language: { skillPrefix: string };
  generalTriageGroup: string;
  overflowGroup: string;
  intents: Record<string, { skill: string; group: string }>;
}

const policyPath = fileURLToPath(new URL("../../../services/triage/policy/triage-policy.json", import.meta.url));

/** An agent in every group of the policy, with every intent skill, speaking the given languages. */
export function generalistAgent(
  name: string,
  languages: string[],
  capacity: Record<string, number> = { email: 5, chat: 3, phone: 1, social: 3, web: 5, api: 5 },
): AgentProfileInput {
  const policy = JSON.parse(readFileSync(policyPath, "utf8")) as PolicyShape;
  const intents = Object.values(policy.intents);
  const groups = [...new Set([...intents.map((i) => i.group), policy.generalTriageGroup, policy.overflowGroup])];
  const skills: Record<string, number> = Object.fromEntries(intents.map((i) => [i.skill, 7]));
  for (const l of languages) skills[`${policy.language.skillPrefix}${l}`] = 8;
  return { name, groups, skills, languages, capacity };
}
