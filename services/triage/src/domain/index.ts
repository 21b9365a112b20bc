// Steward triage domain: what a new ticket is about, in which language, how urgent, and where it goes.
// Pure functions over plain data; file loading and reloading live in ../policy/triage-files.ts.
//
// Typical use by an adapter (Kafka consumer of ticket.received / message.received):
//
//   import { createTriageEngine, triageTicket, retriageTicket, eldLanguageScorer } from "./domain/index.ts";
//   import { readIntentModelFile, watchTriagePolicy } from "./policy/triage-files.ts";
//
//   const model = readIntentModelFile();                 // services/triage/model/intent-model.json
//   const policies = watchTriagePolicy({ onReload: rebuild, onInvalid: (e) => log.warn({ issues: e.message }, "policy rejected") });
//   let engine = createTriageEngine({ policy: policies.current(), model, languageScorer: eldLanguageScorer });
//   function rebuild(policy) { engine = createTriageEngine({ policy, model, languageScorer: eldLanguageScorer }); }
//
//   // New ticket. recentContactsByIntent: this customer's contacts in the last 7 days (this one excluded),
//   // counted by the intent each was triaged as; triage picks the count for the intent it decides.
//   const decision = triageTicket(engine, {
//     subject, body, channel: "email",                       // "email" | "chat" | "phone" | "social" | "web" | "api"
//     customer: { tier: "vip", language: "de" },             // both optional
//     recentContactsByIntent: { billing: 1 },
//   });
//   decision.triage        // { language, languageConfidence, intent, intentConfidence, priority: "P1".."P4", reasons }
//   decision.group, decision.overflowGroup, decision.requiredSkills /* [{ name, minLevel, optional }] */,
//   decision.slaPolicy, decision.policyVersion, decision.repeatContact /* { count, priorityRaise } */,
//   decision.answerDidNotHelp, decision.audit /* model version & scores, rule outcomes, urgency/tone cues, raises */
//
//   // Customer follow-up: store the previous decision with the ticket and pass it back. The owner is not an
//   // input and never changes; priority never drops below the previous (or currentPriority, if escalated).
//   const { decision: next, changes, changed } = retriageTicket(engine, previous, { body, channel, currentPriority });
//
//   // Intake uses the text preparation on its own:
//   const { newText, quotedText, signature } = prepareCustomerText(rawBody);
//
// Errors: InvalidTriagePolicyError (code INVALID_TRIAGE_POLICY, `issues`: "path: message" lines) from
// parseTriagePolicy/createTriageEngine; InvalidIntentModelError (code INVALID_INTENT_MODEL) from parseIntentModel.
// triageTicket and retriageTicket are total: any text gives a decision.

export { prepareCustomerText, type PreparedText } from "@steward/text";
export { judgeLanguageByScript, profileScripts, type Script, type ScriptProfile, type ScriptVerdict } from "./script-detection.ts";
export {
  detectLanguage,
  guessLanguage,
  normalizeLanguageCode,
  type LanguageDecision,
  type LanguageDetectionInput,
  type LanguageDetectionOptions,
  type LanguageGuess,
  type LanguageScore,
  type LanguageScorer,
  type LanguageSource,
} from "./language-detection.ts";
export { eldLanguageScorer } from "./eld-language-scorer.ts";
export { compileCueIndex, findCues, foldForMatching, type CueIndex, type CueList, type CueMatch } from "./cue-matching.ts";
export {
  classifyText,
  compileIntentClassifier,
  DEFAULT_TRAINING_OPTIONS,
  intentInputText,
  InvalidIntentModelError,
  parseIntentModel,
  trainIntentModel,
  type IntentClassifier,
  type IntentModel,
  type IntentScore,
  type TrainingExample,
  type TrainingOptions,
} from "./intent-model.ts";
export { DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from "./text-features.ts";
export { decideIntent, type IntentDecision, type IntentSource, type RuleOutcome } from "./intent-decision.ts";
export {
  decidePriority,
  morePressing,
  priorityRank,
  readCustomerSignals,
  type CustomerSignals,
  type PriorityDecision,
  type PriorityInput,
  type PriorityRaise,
  type Tone,
} from "./priority.ts";
export {
  CHANNELS,
  InvalidTriagePolicyError,
  parseTriagePolicy,
  parseTriagePolicyText,
  PRIORITIES,
  URGENCIES,
  type Channel,
  type KeywordRule,
  type PolicyParseResult,
  type Priority,
  type SkillRequirement,
  type TriagePolicy,
  type Urgency,
} from "./triage-policy.ts";
export {
  analyzeTicket,
  createTriageEngine,
  routeTicket,
  triageTicket,
  type MessageAnalysis,
  type TicketForTriage,
  type TriageAudit,
  type TriageDecision,
  type TriageEngine,
  type TriageEngineParts,
  type TriageSummary,
} from "./triage-engine.ts";
export { isMorePressing, retriageTicket, type FollowUpForTriage, type RetriageChanges, type RetriageResult } from "./retriage.ts";
