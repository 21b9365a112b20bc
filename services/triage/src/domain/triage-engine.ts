// Triage of one ticket: language, intent, priority and where it goes (group, required skills, SLA policy),
// with the reasons a supervisor can read. Pure: the engine is built once from a policy, a model and a
// language scorer; triageTicket is then a function of its input alone.

import { compileCueIndex, findCuesInFolded, foldForMatching, type CueIndex, type CueList, type CueMatch } from "./cue-matching.ts";
import { decideIntent, ruleCategory, type IntentDecision, type RuleOutcome } from "./intent-decision.ts";
import { compileIntentClassifier, conceptsFromCategories, intentInputText, scoreIntents, type IntentClassifier, type IntentModel, type IntentScore } from "./intent-model.ts";
import { detectLanguage, type LanguageDecision, type LanguageScorer, type LanguageSource } from "./language-detection.ts";
import {
  ANSWER_DID_NOT_HELP_CATEGORY,
  decidePriority,
  readCustomerSignals,
  TONE_CATEGORY,
  URGENCY_CATEGORY,
  type CustomerSignals,
  type PriorityRaise,
  type Tone,
} from "./priority.ts";
import { prepareCustomerText } from "@steward/text";
import { InvalidTriagePolicyError, type Channel, type Priority, type SkillRequirement, type TriagePolicy, type Urgency } from "./triage-policy.ts";

export interface TriageEngine {
  readonly policy: TriagePolicy;
  readonly classifier: IntentClassifier;
  readonly languageScorer: LanguageScorer;
  /** Lexicon concepts, keyword rules, urgency, tone and follow-up cues in one index: one scan per ticket. */
  readonly cueIndex: CueIndex;
}

export interface TriageEngineParts {
  readonly policy: TriagePolicy;
  readonly model: IntentModel;
  readonly languageScorer: LanguageScorer;
}

/**
 * Builds an engine. Throws InvalidTriagePolicyError when the policy cannot route an intent the model can
 * produce, so a policy/model mismatch fails at load time, not on the first ticket.
 */
export function createTriageEngine(parts: TriageEngineParts): TriageEngine {
  const missing = parts.model.labels.filter((intent) => parts.policy.intents[intent] === undefined);
  if (missing.length > 0) {
    throw new InvalidTriagePolicyError(missing.map((intent) => `intents.${intent}: missing, but model ${parts.model.modelVersion} can produce it`));
  }
  const classifier = compileIntentClassifier(parts.model);
  const { policy } = parts;
  const lists: CueList[] = [
    ...classifier.lexiconLists,
    ...policy.rules.map((rule, index) => ({
      category: ruleCategory(index),
      cues: rule.cues,
    })),
    { category: URGENCY_CATEGORY.critical, cues: policy.urgencyCues.critical },
    { category: URGENCY_CATEGORY.high, cues: policy.urgencyCues.high },
    { category: URGENCY_CATEGORY.low, cues: policy.urgencyCues.low },
    { category: TONE_CATEGORY.angry, cues: policy.toneCues.angry },
    { category: TONE_CATEGORY.frustrated, cues: policy.toneCues.frustrated },
    {
      category: ANSWER_DID_NOT_HELP_CATEGORY,
      cues: policy.answerDidNotHelpCues,
    },
  ];
  return {
    policy,
    classifier,
    languageScorer: parts.languageScorer,
    cueIndex: compileCueIndex(lists),
  };
}

export interface TicketForTriage {
  readonly subject?: string | undefined;
  /** The customer's message; quoted history and signature are removed here too (idempotent). */
  readonly body: string;
  readonly channel: Channel;
  readonly customer: {
    /** "standard", "vip", … */
    readonly tier?: string | undefined;
    /** ISO 639-1, when the CRM or channel knows it. */
    readonly language?: string | undefined;
  };
  /**
   * The same customer's earlier contacts in the last 7 days (this one excluded), counted by the intent
   * they were triaged as. The adapter reads them from its store; triage picks the count for the intent
   * it decides, since the intent is not known before.
   */
  readonly recentContactsByIntent?: Readonly<Record<string, number>> | undefined;
}

export interface TriageSummary {
  readonly language: string;
  readonly languageConfidence: number;
  readonly intent: string;
  readonly intentConfidence: number;
  readonly priority: Priority;
  /** Human-readable, in decision order. */
  readonly reasons: readonly string[];
}

export interface TriageAudit {
  readonly modelVersion: string;
  readonly languageSource: LanguageSource;
  readonly intentSource: IntentDecision["source"];
  readonly model: {
    readonly intent: string;
    readonly confidence: number;
    readonly alternatives: readonly IntentScore[];
  };
  readonly rules: readonly RuleOutcome[];
  readonly urgency: {
    readonly level: Urgency;
    readonly cues: readonly string[];
  };
  readonly tone: { readonly level: Tone; readonly cues: readonly string[] };
  readonly answerDidNotHelpCues: readonly string[];
  readonly priority: {
    readonly base: Priority;
    readonly raises: readonly PriorityRaise[];
    readonly keptFrom?: Priority | undefined;
  };
}

export interface TriageDecision {
  readonly triage: TriageSummary;
  readonly group: string;
  /** Where the router widens to when the group has no eligible agent. */
  readonly overflowGroup: string;
  readonly requiredSkills: readonly SkillRequirement[];
  readonly slaPolicy: string;
  readonly policyVersion: string;
  readonly repeatContact: {
    readonly count: number;
    readonly priorityRaise: number;
  };
  readonly answerDidNotHelp: boolean;
  /** Channel and tier the decision was made for (re-triage needs them; TicketTriaged carries them). */
  readonly channel: Channel;
  readonly customerTier: string;
  readonly audit: TriageAudit;
}

/** What the engine reads from one message; shared by triage and re-triage. */
export interface MessageAnalysis {
  readonly newText: string;
  readonly language: LanguageDecision;
  readonly intent: IntentDecision;
  readonly signals: CustomerSignals;
  readonly matches: readonly CueMatch[];
}

export function analyzeMessage(
  engine: TriageEngine,
  message: {
    readonly subject?: string | undefined;
    readonly body: string;
    readonly customerLanguage?: string | undefined;
  },
): MessageAnalysis {
  const { policy } = engine;
  const newText = prepareCustomerText(message.body).newText;
  const language = detectLanguage(
    {
      text: newText,
      subject: message.subject,
      customerLanguage: message.customerLanguage,
    },
    engine.languageScorer,
    {
      minConfidence: policy.language.minConfidence,
      supportedLanguages: policy.language.supportedLanguages,
      defaultLanguage: policy.language.defaultLanguage,
    },
  );
  const text = intentInputText(message.subject, newText);
  const folded = foldForMatching(text);
  const matches = findCuesInFolded(engine.cueIndex, folded);
  const concepts = conceptsFromCategories(matches.map((match) => match.category));
  const scores = scoreIntents(engine.classifier, folded, concepts);
  const intent = decideIntent(scores, matches, policy);
  const signals = readCustomerSignals(matches, text, policy.intents[intent.intent]?.defaultUrgency);
  return { newText, language, intent, signals, matches };
}

/** The skills, group and SLA policy for a decided language, intent and priority. */
export function routeTicket(
  policy: TriagePolicy,
  route: {
    readonly language: string;
    readonly languageConfidence: number;
    readonly intent: string;
    readonly lowIntentConfidence: boolean;
    readonly priority: Priority;
    readonly channel: Channel;
    readonly customerTier: string;
  },
): {
  group: string;
  requiredSkills: SkillRequirement[];
  slaPolicy: string;
  reasons: string[];
} {
  const reasons: string[] = [];
  const intentRoute = policy.intents[route.intent] ?? policy.intents[policy.intent.fallbackIntent];
  const group = route.lowIntentConfidence ? policy.generalTriageGroup : (intentRoute?.group ?? policy.generalTriageGroup);
  reasons.push(route.lowIntentConfidence ? `group ${group}: intent unsure, general triage` : `group ${group} for ${route.intent}`);

  const requiredSkills: SkillRequirement[] = [];
  if (intentRoute !== undefined)
    requiredSkills.push({
      name: intentRoute.skill,
      minLevel: intentRoute.minLevel,
      optional: false,
    });
  const languageOptional = route.languageConfidence < policy.language.optionalBelowConfidence;
  requiredSkills.push({
    name: `${policy.language.skillPrefix}${route.language}`,
    minLevel: policy.language.skillMinLevel,
    optional: languageOptional,
  });
  if (languageOptional) reasons.push(`language skill optional: language unsure (${route.languageConfidence})`);
  const tierSkill = policy.tierSkills[route.customerTier.toLowerCase()];
  if (tierSkill !== undefined) requiredSkills.push({ ...tierSkill });

  const slaRule = policy.sla.rules.find(
    (rule) =>
      (rule.when.priorities === undefined || rule.when.priorities.includes(route.priority)) &&
      (rule.when.tiers === undefined || rule.when.tiers.includes(route.customerTier.toLowerCase())) &&
      (rule.when.channels === undefined || rule.when.channels.includes(route.channel)),
  );
  const slaPolicy = slaRule?.slaPolicy ?? policy.sla.defaultPolicy;
  reasons.push(`SLA policy ${slaPolicy}${slaRule === undefined ? " (default)" : ""}`);
  return { group, requiredSkills, slaPolicy, reasons };
}

/**
 * What triageTicket reads from a new ticket's text. The intent does not depend on the customer's recent
 * contacts, so an adapter may analyse first, record the contact under that intent, and then decide.
 */
export function analyzeTicket(engine: TriageEngine, ticket: TicketForTriage): MessageAnalysis {
  return analyzeMessage(engine, {
    subject: ticket.subject,
    body: ticket.body,
    customerLanguage: ticket.customer.language,
  });
}

/** `analysis` must be analyzeTicket(engine, ticket) when given; it is computed otherwise. */
export function triageTicket(engine: TriageEngine, ticket: TicketForTriage, analysis: MessageAnalysis = analyzeTicket(engine, ticket)): TriageDecision {
  const { policy } = engine;
  const customerTier = ticket.customer.tier?.trim().toLowerCase() || "standard";
  const repeatContactCount = Math.max(0, Math.floor(ticket.recentContactsByIntent?.[analysis.intent.intent] ?? 0));
  const priority = decidePriority(
    {
      urgency: analysis.signals.urgency,
      tone: analysis.signals.tone,
      answerDidNotHelp: analysis.signals.answerDidNotHelp,
      customerTier,
      channel: ticket.channel,
      repeatContactCount,
    },
    policy.priority,
  );
  return assembleDecision(engine, analysis, {
    language: analysis.language,
    priority: priority.priority,
    priorityBase: priority.base,
    priorityRaises: priority.raises,
    priorityReasons: withCues(priority.reasons, analysis.signals),
    channel: ticket.channel,
    customerTier,
    repeatContact: {
      count: repeatContactCount,
      priorityRaise: priority.repeatRaise,
    },
    answerDidNotHelp: analysis.signals.answerDidNotHelp,
  });
}

/** Urgency and tone reasons name the words that triggered them. */
export function withCues(priorityReasons: readonly string[], signals: CustomerSignals): string[] {
  const reasons = [...priorityReasons];
  if (signals.urgencyCues.length > 0) reasons.unshift(`urgency ${signals.urgency} from "${signals.urgencyCues.slice(0, 3).join('", "')}"`);
  if (signals.toneCues.length > 0) reasons.unshift(`tone ${signals.tone} from "${signals.toneCues.slice(0, 3).join('", "')}"`);
  if (signals.answerDidNotHelp) reasons.unshift(`answer did not help: "${signals.answerDidNotHelpCues.slice(0, 3).join('", "')}"`);
  return reasons;
}

export interface DecisionParts {
  readonly language: {
    readonly language: string;
    readonly confidence: number;
    readonly source: LanguageSource;
    readonly reasons: readonly string[];
  };
  readonly intent?: IntentDecision;
  readonly priority: Priority;
  readonly priorityBase: Priority;
  readonly priorityRaises: readonly PriorityRaise[];
  readonly priorityReasons: readonly string[];
  readonly priorityKeptFrom?: Priority | undefined;
  readonly channel: Channel;
  readonly customerTier: string;
  readonly repeatContact: {
    readonly count: number;
    readonly priorityRaise: number;
  };
  readonly answerDidNotHelp: boolean;
  readonly extraReasons?: readonly string[];
}

export function assembleDecision(engine: TriageEngine, analysis: MessageAnalysis, parts: DecisionParts): TriageDecision {
  const { policy } = engine;
  const intent = parts.intent ?? analysis.intent;
  const route = routeTicket(policy, {
    language: parts.language.language,
    languageConfidence: parts.language.confidence,
    intent: intent.intent,
    lowIntentConfidence: intent.lowConfidence,
    priority: parts.priority,
    channel: parts.channel,
    customerTier: parts.customerTier,
  });
  const reasons = [...(parts.extraReasons ?? []), ...parts.language.reasons, ...intent.reasons, ...parts.priorityReasons, ...route.reasons];
  return {
    triage: {
      language: parts.language.language,
      languageConfidence: parts.language.confidence,
      intent: intent.intent,
      intentConfidence: intent.confidence,
      priority: parts.priority,
      reasons,
    },
    group: route.group,
    overflowGroup: policy.overflowGroup,
    requiredSkills: route.requiredSkills,
    slaPolicy: route.slaPolicy,
    policyVersion: policy.version,
    repeatContact: parts.repeatContact,
    answerDidNotHelp: parts.answerDidNotHelp,
    channel: parts.channel,
    customerTier: parts.customerTier,
    audit: {
      modelVersion: engine.classifier.model.modelVersion,
      languageSource: parts.language.source,
      intentSource: intent.source,
      model: intent.model,
      rules: intent.rules,
      urgency: {
        level: analysis.signals.urgency,
        cues: analysis.signals.urgencyCues,
      },
      tone: { level: analysis.signals.tone, cues: analysis.signals.toneCues },
      answerDidNotHelpCues: analysis.signals.answerDidNotHelpCues,
      priority: {
        base: parts.priorityBase,
        raises: parts.priorityRaises,
        keptFrom: parts.priorityKeptFrom,
      },
    },
  };
}
