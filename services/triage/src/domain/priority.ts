// Urgency, tone and "the answer did not help" from the customer's words, and the priority P1..P4 they
// lead to together with the customer's tier, the channel and repeat contacts. Every raise is reported.

import type { CueMatch } from "./cue-matching.ts";
import { PRIORITIES, type Channel, type Priority, type TriagePolicy, type Urgency } from "./triage-policy.ts";

export type Tone = "angry" | "frustrated" | "neutral";

export const URGENCY_CATEGORY = {
  critical: "urgency:critical",
  high: "urgency:high",
  low: "urgency:low",
} as const;
export const TONE_CATEGORY = {
  angry: "tone:angry",
  frustrated: "tone:frustrated",
} as const;
export const ANSWER_DID_NOT_HELP_CATEGORY = "followup:did-not-help";

export interface CustomerSignals {
  readonly urgency: Urgency;
  readonly urgencyCues: readonly string[];
  readonly tone: Tone;
  readonly toneCues: readonly string[];
  readonly answerDidNotHelp: boolean;
  readonly answerDidNotHelpCues: readonly string[];
}

/** Words written in capitals this long count as shouting ("STILL", "NOW"); shorter ones are usually acronyms. */
const SHOUTED_WORD = /(?<![\p{L}\p{N}])\p{Lu}{4,}(?![\p{L}\p{N}])/gu;
const SHOUTED_WORDS_FOR_ANGER = 2;

function cuesOf(matches: readonly CueMatch[], category: string): string[] {
  const cues: string[] = [];
  for (const match of matches) if (match.category === category && !cues.includes(match.cue)) cues.push(match.cue);
  return cues;
}

/**
 * Reads urgency (the most urgent cue wins; "low" cues count only without urgent ones; without any cue,
 * the decided intent's default urgency), tone and
 * did-not-help cues from matches in the customer's new text and subject. `originalText` (not folded)
 * is checked for shouting in capitals, which counts as anger.
 */
export function readCustomerSignals(matches: readonly CueMatch[], originalText: string, defaultUrgency: Urgency = "normal"): CustomerSignals {
  const critical = cuesOf(matches, URGENCY_CATEGORY.critical);
  const high = cuesOf(matches, URGENCY_CATEGORY.high);
  const low = cuesOf(matches, URGENCY_CATEGORY.low);
  const urgency: Urgency = critical.length > 0 ? "critical" : high.length > 0 ? "high" : low.length > 0 ? "low" : defaultUrgency;
  const urgencyCues = urgency === "critical" ? critical : urgency === "high" ? high : urgency === "low" ? low : [];

  const angry = cuesOf(matches, TONE_CATEGORY.angry);
  const shouted = originalText.match(SHOUTED_WORD) ?? [];
  if (shouted.length >= SHOUTED_WORDS_FOR_ANGER) angry.push(`capitals: ${shouted.slice(0, 3).join(" ")}`);
  const frustrated = cuesOf(matches, TONE_CATEGORY.frustrated);
  const tone: Tone = angry.length > 0 ? "angry" : frustrated.length > 0 ? "frustrated" : "neutral";

  const didNotHelp = cuesOf(matches, ANSWER_DID_NOT_HELP_CATEGORY);
  return {
    urgency,
    urgencyCues,
    tone,
    toneCues: tone === "angry" ? angry : tone === "frustrated" ? frustrated : [],
    answerDidNotHelp: didNotHelp.length > 0,
    answerDidNotHelpCues: didNotHelp,
  };
}

export interface PriorityInput {
  readonly urgency: Urgency;
  readonly tone: Tone;
  readonly answerDidNotHelp: boolean;
  /** "standard", "vip", or another tier name from the CRM. */
  readonly customerTier: string | undefined;
  readonly channel: Channel;
  /** Earlier contacts by the same customer about the same intent within 7 days (this one excluded). */
  readonly repeatContactCount: number;
}

export interface PriorityRaise {
  readonly reason: string;
  readonly steps: number;
}

export interface PriorityDecision {
  readonly priority: Priority;
  /** The priority urgency alone gives. */
  readonly base: Priority;
  /** The raises applied, in order, after the maxTotalRaise cap. */
  readonly raises: readonly PriorityRaise[];
  /** Steps the repeat contacts contributed (after caps), 0 when none. */
  readonly repeatRaise: number;
  readonly reasons: readonly string[];
}

export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority) + 1;
}

export function priorityFromRank(rank: number): Priority {
  const clamped = Math.min(PRIORITIES.length, Math.max(1, Math.round(rank)));
  return PRIORITIES[clamped - 1] ?? "P4";
}

/** The more urgent of two priorities. */
export function morePressing(a: Priority, b: Priority): Priority {
  return priorityRank(a) <= priorityRank(b) ? a : b;
}

/**
 * Priority from urgency, then raised (never past P1) for repeat contacts (one step each, up to maxRepeatRaise),
 * an answer that did not help, a VIP customer, an angry (or frustrated) tone and a live channel. The raises together
 * are capped by the policy's maxTotalRaise so that these signals alone cannot make everything P1.
 */
export function decidePriority(input: PriorityInput, policy: TriagePolicy["priority"]): PriorityDecision {
  const base = policy.byUrgency[input.urgency];
  const reasons: string[] = [`urgency ${input.urgency} → ${base}`];
  const candidates: PriorityRaise[] = [];
  const { raises } = policy;
  // Repeat contacts and failed answers come first: they are service failures, and when the cap bites they keep their raise.
  const repeats = Math.max(0, Math.floor(input.repeatContactCount));
  const repeatSteps = Math.min(repeats * raises.perRepeatContact, raises.maxRepeatRaise);
  if (repeatSteps > 0) {
    candidates.push({
      reason: `repeat contact: ${repeats} earlier contact${repeats === 1 ? "" : "s"} about this within 7 days`,
      steps: repeatSteps,
    });
  }
  if (input.answerDidNotHelp && raises.answerDidNotHelp > 0)
    candidates.push({
      reason: "our earlier answer did not help",
      steps: raises.answerDidNotHelp,
    });
  if (input.customerTier?.toLowerCase() === "vip" && raises.vipTier > 0) candidates.push({ reason: "VIP customer", steps: raises.vipTier });
  if (input.tone === "angry" && raises.angryTone > 0) candidates.push({ reason: "angry customer", steps: raises.angryTone });
  if (input.tone === "frustrated" && raises.frustratedTone > 0)
    candidates.push({
      reason: "frustrated customer",
      steps: raises.frustratedTone,
    });
  const channelRaise = raises.channels[input.channel];
  if (channelRaise > 0)
    candidates.push({
      reason: `${input.channel} expects a faster answer than email`,
      steps: channelRaise,
    });

  const applied: PriorityRaise[] = [];
  let rank = priorityRank(base);
  let budget = policy.maxTotalRaise;
  let repeatRaise = 0;
  for (const candidate of candidates) {
    const steps = Math.min(candidate.steps, budget, rank - 1);
    if (steps <= 0) {
      reasons.push(`${candidate.reason} (no raise: ${rank === 1 ? "already P1" : "raise cap reached"})`);
      continue;
    }
    applied.push({ reason: candidate.reason, steps });
    if (candidate.reason.startsWith("repeat contact")) repeatRaise = steps;
    budget -= steps;
    rank -= steps;
    reasons.push(`${candidate.reason} → +${steps}`);
  }
  const priority = priorityFromRank(rank);
  reasons.push(`priority ${priority}`);
  return { priority, base, raises: applied, repeatRaise, reasons };
}
