// Settles the ticket's intent from the model's scores and the policy's keyword rules. A rule may override
// the model (always, or only when the model is unsure); a model that is unsure and not overridden yields
// the fallback intent ("other") so the ticket goes to general triage instead of a wrong specialist queue.

import type { CueMatch } from "./cue-matching.ts";
import type { IntentScore } from "./intent-model.ts";
import type { TriagePolicy } from "./triage-policy.ts";

export const RULE_CATEGORY_PREFIX = "rule:";

export type IntentSource = "model" | "rule" | "fallback";

export interface RuleOutcome {
  readonly id: string;
  readonly intent: string;
  readonly cues: readonly string[];
  /** Whether this rule decided the intent. */
  readonly applied: boolean;
  /** Why it did or did not decide. */
  readonly note: string;
}

export interface IntentDecision {
  readonly intent: string;
  readonly confidence: number;
  readonly source: IntentSource;
  /** The model's view, whatever decided: top intent, its probability, and the runners-up. */
  readonly model: {
    readonly intent: string;
    readonly confidence: number;
    readonly alternatives: readonly IntentScore[];
  };
  readonly rules: readonly RuleOutcome[];
  /** True when the model was unsure and no rule decided: the ticket should go to general triage. */
  readonly lowConfidence: boolean;
  readonly reasons: readonly string[];
}

/** Cue-index category of the policy rule at `index` (rule ids are free text, indexes are not). */
export function ruleCategory(index: number): string {
  return `${RULE_CATEGORY_PREFIX}${index}`;
}

const ALTERNATIVES_KEPT = 3;

export function decideIntent(scores: readonly IntentScore[], matches: readonly CueMatch[], policy: TriagePolicy): IntentDecision {
  const best = scores[0] ?? {
    intent: policy.intent.fallbackIntent,
    probability: 0,
  };
  const model = {
    intent: best.intent,
    confidence: round(best.probability),
    alternatives: scores.slice(1, 1 + ALTERNATIVES_KEPT).map((score) => ({
      intent: score.intent,
      probability: round(score.probability),
    })),
  };
  const modelSays = `model: ${best.intent} ${model.confidence}`;

  const rules: RuleOutcome[] = [];
  let decidingRule: RuleOutcome | undefined;
  policy.rules.forEach((rule, index) => {
    const category = ruleCategory(index);
    const cues: string[] = [];
    for (const match of matches) if (match.category === category && !cues.includes(match.cue)) cues.push(match.cue);
    if (cues.length === 0) return;
    let applied = false;
    let note: string;
    if (decidingRule !== undefined) note = `rule ${decidingRule.id} decided first`;
    else if (rule.overrideBelow < 1 && best.probability >= rule.overrideBelow) note = `model confident (${model.confidence} ≥ ${rule.overrideBelow})`;
    else {
      applied = true;
      note = rule.overrideBelow >= 1 ? "always overrides" : `model unsure (${model.confidence} < ${rule.overrideBelow})`;
    }
    const outcome: RuleOutcome = {
      id: rule.id,
      intent: rule.intent,
      cues,
      applied,
      note,
    };
    rules.push(outcome);
    if (applied) decidingRule = outcome;
  });

  const decided: RuleOutcome | undefined = decidingRule;
  if (decided !== undefined) {
    const rule = policy.rules.find((candidate) => candidate.id === decided.id);
    const confidence = round(Math.max(rule?.confidence ?? 0, best.intent === decided.intent ? best.probability : 0));
    const agreement = best.intent === decided.intent ? "agrees with" : "overrides";
    return {
      intent: decided.intent,
      confidence,
      source: "rule",
      model,
      rules,
      lowConfidence: false,
      reasons: [`intent ${decided.intent} by rule ${decided.id} (cues: ${decided.cues.join(", ")}), ${agreement} ${modelSays}`],
    };
  }
  if (best.probability < policy.intent.minConfidence) {
    return {
      intent: policy.intent.fallbackIntent,
      confidence: model.confidence,
      source: "fallback",
      model,
      rules,
      lowConfidence: true,
      reasons: [`intent unsure (${modelSays} < ${policy.intent.minConfidence}): ${policy.intent.fallbackIntent}, to general triage`],
    };
  }
  return {
    intent: best.intent,
    confidence: model.confidence,
    source: "model",
    model,
    rules,
    lowConfidence: false,
    reasons: [`intent ${best.intent} (${modelSays})`],
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
