// The versioned triage policy (policy/triage-policy.json): where each intent goes, which skills it needs,
// how urgency, tone, tier, channel and repeat contacts set the priority, and which SLA policy applies.
// parseTriagePolicy validates it and reports every problem with its JSON path.

import { z } from "zod";
import { CHANNELS, PRIORITIES } from "@steward/proto/vocabulary";

// Channels and priorities are Steward's one vocabulary (the proto enums' names).
export { CHANNELS, PRIORITIES };
export type Priority = (typeof PRIORITIES)[number];

export const URGENCIES = ["low", "normal", "high", "critical"] as const;
export type Urgency = (typeof URGENCIES)[number];

export type Channel = (typeof CHANNELS)[number];

const languageCode = z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code such as "en"');
const cueList = z.array(z.string().trim().min(1, "cues must not be empty"));
const confidence = z.number().min(0).max(1);
const raise = z.number().int().min(0).max(3);

const skillRequirementSchema = z.object({
  name: z.string().min(1),
  minLevel: z.number().int().min(0),
  optional: z.boolean(),
});

const intentRouteSchema = z.object({
  /** The skill an agent needs for this intent. */
  skill: z.string().min(1),
  minLevel: z.number().int().min(0),
  group: z.string().min(1),
  /** Urgency when no cue in the text says otherwise (feedback is rarely urgent). */
  defaultUrgency: z.enum(URGENCIES).default("normal"),
});

const keywordRuleSchema = z.object({
  id: z.string().min(1),
  intent: z.string().min(1),
  cues: cueList.min(1, "a rule needs at least one cue"),
  /**
   * The rule wins over the model when the model's confidence is below this (1: always). Rules are tried in
   * order; the first that matches and may override decides.
   */
  overrideBelow: confidence,
  /** The intent confidence reported when this rule decides. */
  confidence: confidence.default(0.9),
});

const slaRuleSchema = z.object({
  when: z
    .object({
      priorities: z.array(z.enum(PRIORITIES)).optional(),
      tiers: z.array(z.string().min(1)).optional(),
      channels: z.array(z.enum(CHANNELS)).optional(),
    })
    .refine((when) => when.priorities !== undefined || when.tiers !== undefined || when.channels !== undefined, {
      message: "needs at least one of priorities, tiers, channels",
    }),
  slaPolicy: z.string().min(1),
});

export const triagePolicySchema = z
  .object({
    $comment: z.string().optional(),
    version: z.string().min(1, "version is required: every decision records it"),
    language: z.object({
      minConfidence: confidence,
      supportedLanguages: z.array(languageCode),
      defaultLanguage: languageCode,
      skillPrefix: z.string(),
      skillMinLevel: z.number().int().min(0),
      /** Below this language confidence the language skill is optional, so routing is not blocked by a guess. */
      optionalBelowConfidence: confidence,
    }),
    intent: z.object({
      minConfidence: confidence,
      fallbackIntent: z.string().min(1),
    }),
    generalTriageGroup: z.string().min(1),
    overflowGroup: z.string().min(1),
    intents: z.record(z.string(), intentRouteSchema),
    tierSkills: z.record(z.string(), skillRequirementSchema).default({}),
    rules: z.array(keywordRuleSchema).default([]),
    urgencyCues: z.object({ critical: cueList, high: cueList, low: cueList }),
    toneCues: z.object({ angry: cueList, frustrated: cueList }),
    answerDidNotHelpCues: cueList,
    priority: z.object({
      byUrgency: z.object({
        critical: z.enum(PRIORITIES),
        high: z.enum(PRIORITIES),
        normal: z.enum(PRIORITIES),
        low: z.enum(PRIORITIES),
      }),
      raises: z.object({
        vipTier: raise,
        angryTone: raise,
        frustratedTone: raise,
        answerDidNotHelp: raise,
        perRepeatContact: raise,
        maxRepeatRaise: raise,
        channels: z.object({
          email: raise,
          chat: raise,
          phone: raise,
          social: raise,
          web: raise,
          api: raise,
        }),
      }),
      /** The most a ticket's priority can be raised above its urgency by tier, channel, tone and repeats together. */
      maxTotalRaise: raise,
    }),
    sla: z.object({
      defaultPolicy: z.string().min(1),
      rules: z.array(slaRuleSchema),
    }),
  })
  .superRefine((policy, context) => {
    if (policy.intents[policy.intent.fallbackIntent] === undefined) {
      context.addIssue({
        code: "custom",
        path: ["intent", "fallbackIntent"],
        message: `"${policy.intent.fallbackIntent}" has no entry in intents`,
      });
    }
    policy.rules.forEach((rule, index) => {
      if (policy.intents[rule.intent] === undefined) {
        context.addIssue({
          code: "custom",
          path: ["rules", index, "intent"],
          message: `"${rule.intent}" has no entry in intents`,
        });
      }
    });
    const ruleIds = new Set<string>();
    policy.rules.forEach((rule, index) => {
      if (ruleIds.has(rule.id))
        context.addIssue({
          code: "custom",
          path: ["rules", index, "id"],
          message: `duplicate rule id "${rule.id}"`,
        });
      ruleIds.add(rule.id);
    });
    if (policy.language.supportedLanguages.length > 0 && !policy.language.supportedLanguages.includes(policy.language.defaultLanguage)) {
      context.addIssue({
        code: "custom",
        path: ["language", "defaultLanguage"],
        message: "must be one of supportedLanguages",
      });
    }
  });

export type TriagePolicy = z.infer<typeof triagePolicySchema>;
export type KeywordRule = z.infer<typeof keywordRuleSchema>;
export type SkillRequirement = z.infer<typeof skillRequirementSchema>;

export class InvalidTriagePolicyError extends Error {
  readonly code = "INVALID_TRIAGE_POLICY";
  /** One line per problem: "path.to.field: message". */
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`triage policy is invalid:\n  ${issues.join("\n  ")}`);
    this.name = "InvalidTriagePolicyError";
    this.issues = issues;
  }
}

export type PolicyParseResult = { readonly ok: true; readonly policy: TriagePolicy } | { readonly ok: false; readonly error: InvalidTriagePolicyError };

/** Validates an already JSON-parsed policy; never throws. */
export function parseTriagePolicy(json: unknown): PolicyParseResult {
  const result = triagePolicySchema.safeParse(json);
  if (result.success) return { ok: true, policy: result.data };
  const issues = result.error.issues.map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${issue.message}`);
  return { ok: false, error: new InvalidTriagePolicyError(issues) };
}

/** Parses policy file text (JSON); syntax errors are reported like schema errors. Never throws. */
export function parseTriagePolicyText(text: string): PolicyParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      error: new InvalidTriagePolicyError([`(root): not valid JSON (${(error as Error).message})`]),
    };
  }
  return parseTriagePolicy(json);
}
