// Re-triage when the customer follows up: the intent, language, skills and priority may change; the owner
// never does (it is not even an input: who owns the ticket is routing's business, and an owner keeps the
// ticket until it is resolved).
//
// Decision on priority: re-triage never lowers it. The new priority is the more pressing of what the
// follow-up warrants and the ticket's current priority (the previous decision's, or a higher one that an
// escalation set since). A calm "any news?" must not undo an escalation or an earlier P1, and lowering is
// left to a person; when the floor holds, a reason says so.

import type { IntentDecision } from "./intent-decision.ts";
import { decidePriority, morePressing, priorityRank } from "./priority.ts";
import { analyzeMessage, assembleDecision, withCues, type TriageDecision, type TriageEngine } from "./triage-engine.ts";
import { URGENCIES, type Channel, type Priority, type Urgency } from "./triage-policy.ts";

export interface FollowUpForTriage {
  /** The follow-up message; quoted history and signature are removed here. */
  readonly body: string;
  /** The follow-up's channel; the ticket's original channel when omitted. */
  readonly channel?: Channel | undefined;
  readonly customerTier?: string | undefined;
  /** The ticket's priority now, if an escalation raised it after the previous decision. */
  readonly currentPriority?: Priority | undefined;
}

export interface RetriageChanges {
  readonly intent?: { readonly from: string; readonly to: string } | undefined;
  readonly language?: { readonly from: string; readonly to: string } | undefined;
  readonly priority?: { readonly from: Priority; readonly to: Priority } | undefined;
  readonly group?: { readonly from: string; readonly to: string } | undefined;
  readonly skillsChanged: boolean;
}

export interface RetriageResult {
  readonly decision: TriageDecision;
  readonly changes: RetriageChanges;
  /** True when anything a router cares about changed (intent, language, priority, group or skills). */
  readonly changed: boolean;
}

function moreUrgent(a: Urgency, b: Urgency): Urgency {
  return URGENCIES.indexOf(a) >= URGENCIES.indexOf(b) ? a : b;
}

export function retriageTicket(engine: TriageEngine, previous: TriageDecision, followUp: FollowUpForTriage): RetriageResult {
  const { policy } = engine;
  const analysis = analyzeMessage(engine, {
    body: followUp.body,
    customerLanguage: previous.triage.language,
  });
  const reasons: string[] = ["re-triage after a customer follow-up"];

  // Language: switch only when the follow-up itself clearly is in another language.
  const followUpLanguage = analysis.language;
  const languageSwitched =
    followUpLanguage.source === "text" && followUpLanguage.confidence >= policy.language.minConfidence && followUpLanguage.language !== previous.triage.language;
  const language = languageSwitched
    ? {
        language: followUpLanguage.language,
        confidence: followUpLanguage.confidence,
        source: followUpLanguage.source,
        reasons: [`customer now writes in ${followUpLanguage.language} (${followUpLanguage.confidence})`],
      }
    : {
        language: previous.triage.language,
        confidence: previous.triage.languageConfidence,
        source: previous.audit.languageSource,
        reasons: [`language ${previous.triage.language} kept from the previous decision`],
      };

  // Intent: a confident new intent (or a rule) replaces the old one; a vague follow-up keeps it.
  const proposed = analysis.intent;
  const intentChanges = !proposed.lowConfidence && proposed.intent !== previous.triage.intent && proposed.intent !== policy.intent.fallbackIntent;
  const intent: IntentDecision = intentChanges
    ? {
        ...proposed,
        reasons: [`intent changed ${previous.triage.intent} → ${proposed.intent}: ${proposed.reasons.join("; ")}`],
      }
    : {
        intent: previous.triage.intent,
        confidence: previous.triage.intentConfidence,
        source: previous.audit.intentSource,
        model: proposed.model,
        rules: proposed.rules,
        lowConfidence: previous.audit.intentSource === "fallback",
        reasons: [
          `intent ${previous.triage.intent} kept (follow-up ${proposed.lowConfidence ? "unclear" : `also reads as ${proposed.intent}`}: ${proposed.model.intent} ${proposed.model.confidence})`,
        ],
      };

  const urgency = moreUrgent(previous.audit.urgency.level, analysis.signals.urgency);
  const answerDidNotHelp = analysis.signals.answerDidNotHelp || previous.answerDidNotHelp;
  const channel = followUp.channel ?? previous.channel;
  const customerTier = followUp.customerTier?.trim().toLowerCase() || previous.customerTier;
  const computed = decidePriority(
    {
      urgency,
      tone: analysis.signals.tone,
      answerDidNotHelp,
      customerTier,
      channel,
      repeatContactCount: previous.repeatContact.count,
    },
    policy.priority,
  );
  const floor = followUp.currentPriority === undefined ? previous.triage.priority : morePressing(previous.triage.priority, followUp.currentPriority);
  const priority = morePressing(computed.priority, floor);
  const priorityReasons = withCues(computed.reasons, analysis.signals);
  const keptFrom = priority !== computed.priority ? floor : undefined;
  if (keptFrom !== undefined) priorityReasons.push(`priority kept at ${floor}: re-triage never lowers priority (follow-up alone gives ${computed.priority})`);

  const decision = assembleDecision(engine, analysis, {
    language,
    intent,
    priority,
    priorityBase: computed.base,
    priorityRaises: computed.raises,
    priorityReasons,
    priorityKeptFrom: keptFrom,
    channel,
    customerTier,
    repeatContact: previous.repeatContact,
    answerDidNotHelp,
    extraReasons: reasons,
  });

  const skillsChanged = JSON.stringify(decision.requiredSkills) !== JSON.stringify(previous.requiredSkills);
  const changes: RetriageChanges = {
    intent: decision.triage.intent !== previous.triage.intent ? { from: previous.triage.intent, to: decision.triage.intent } : undefined,
    language: decision.triage.language !== previous.triage.language ? { from: previous.triage.language, to: decision.triage.language } : undefined,
    priority: decision.triage.priority !== previous.triage.priority ? { from: previous.triage.priority, to: decision.triage.priority } : undefined,
    group: decision.group !== previous.group ? { from: previous.group, to: decision.group } : undefined,
    skillsChanged,
  };
  const changed = changes.intent !== undefined || changes.language !== undefined || changes.priority !== undefined || changes.group !== undefined || skillsChanged;
  return { decision, changes, changed };
}

/** For callers comparing priorities: true when `a` is more pressing than `b`. */
export function isMorePressing(a: Priority, b: Priority): boolean {
  return priorityRank(a) < priorityRank(b);
}
