// The SLA policy: response and resolution targets per priority and channel, the escalation ladders
// for owned and waiting tickets, and the business calendars, as one versioned document validated by
// a zod schema whose errors name the offending field.

import { z } from "zod";
import { CHANNELS, PRIORITIES } from "@steward/proto/vocabulary";
import { businessCalendarSchema, type BusinessCalendar } from "./business-calendar.ts";

// Channels and priorities are Steward's one vocabulary (the proto enums' names).
export { CHANNELS, PRIORITIES };
export type Priority = (typeof PRIORITIES)[number];

export type Channel = (typeof CHANNELS)[number];

export const CLOCK_NAMES = ["firstResponse", "nextResponse", "resolution"] as const;
export type ClockName = (typeof CLOCK_NAMES)[number];

export const CUSTOMER_SIGNALS = ["answerDidNotHelp", "repeatContact"] as const;
export type CustomerSignal = (typeof CUSTOMER_SIGNALS)[number];

const warningShareSchema = z
  .number()
  .gt(0, { error: "must be a share of the target above 0 (0.75 warns at 75%)" })
  .lt(1, { error: "must be a share of the target below 1 (0.75 warns at 75%)" });

const targetSchema = z
  .strictObject({
    minutes: z.number().int({ error: "must be a whole number of minutes" }).positive({ error: "must be a positive number of minutes" }).optional(),
    /** Instead of `minutes`, for targets shorter than a minute (demos, tests of the durable timers). */
    seconds: z.number().int({ error: "must be a whole number of seconds" }).positive({ error: "must be a positive number of seconds" }).optional(),
    /** Count only business time; defaults to the policy's `businessHours`. */
    businessHours: z.boolean().optional(),
    /** Share of the target after which the clock warns; defaults to the policy's `warningShare`. */
    warningShare: warningShareSchema.optional(),
  })
  .refine((target) => (target.minutes === undefined) !== (target.seconds === undefined), {
    error: 'must give the target in either "minutes" or "seconds"',
  })
  // Downstream code reads minutes only; a seconds target becomes a fraction of a minute.
  .transform(({ minutes, seconds, ...rest }) => ({ ...rest, minutes: minutes ?? (seconds ?? 0) / 60 }));

const channelTargetsSchema = z.strictObject({
  firstResponse: targetSchema,
  nextResponse: targetSchema,
  resolution: targetSchema,
});

const priorityTargetsSchema = z.strictObject(Object.fromEntries(CHANNELS.map((channel) => [channel, channelTargetsSchema])) as Record<Channel, typeof channelTargetsSchema>);

const targetsSchema = z.strictObject(Object.fromEntries(PRIORITIES.map((priority) => [priority, priorityTargetsSchema])) as Record<Priority, typeof priorityTargetsSchema>);

/** When a ladder step fires, relative to one SLA clock. */
const triggerSchema = z.union(
  [
    z.strictObject({ on: z.literal("warning") }),
    z.strictObject({
      on: z.literal("breach"),
      /** Clock time (business time if the target counts business hours) after the breach. */
      afterMinutes: z.number().int({ error: "must be a whole number of minutes" }).min(0, { error: "must not be negative" }).default(0),
    }),
  ],
  { error: 'must be {"on":"warning"} or {"on":"breach","afterMinutes":N}' },
);
export type LadderTrigger = z.output<typeof triggerSchema>;

const notifySupervisor = z.strictObject({ type: z.literal("notifySupervisor") });
const raisePriority = z.strictObject({ type: z.literal("raisePriority") });

// Owned tickets keep their owner: no effect can reassign them; help is added around the owner.
const ownedEffectSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("notifyOwner") }),
    raisePriority,
    notifySupervisor,
    z.strictObject({ type: z.literal("addCollaborator"), role: z.string().min(1, { error: "must name the collaborator's role" }) }),
  ],
  { error: "owned tickets accept notifyOwner, raisePriority, notifySupervisor or addCollaborator" },
);

const waitingEffectSchema = z.discriminatedUnion(
  "type",
  [
    raisePriority,
    notifySupervisor,
    z.strictObject({
      type: z.literal("widenRouting"),
      relaxSkills: z.boolean(),
      addGroups: z.array(z.string().min(1)).default([]),
    }),
  ],
  { error: "waiting tickets accept raisePriority, widenRouting or notifySupervisor" },
);

export type OwnedLadderEffect = z.output<typeof ownedEffectSchema>;
export type WaitingLadderEffect = z.output<typeof waitingEffectSchema>;
export type LadderEffect = OwnedLadderEffect | WaitingLadderEffect;

/** Which effect types each ladder may use, read from the schema so the two cannot drift apart. */
export const LADDER_EFFECT_TYPES: { readonly owned: readonly OwnedLadderEffect["type"][]; readonly waiting: readonly WaitingLadderEffect["type"][] } = {
  owned: ownedEffectSchema.options.map((option) => option.shape.type.value),
  waiting: waitingEffectSchema.options.map((option) => option.shape.type.value),
};

function stepSchema<Effect extends z.ZodType<{ type: string }>>(effect: Effect) {
  return z
    .strictObject({ trigger: triggerSchema, effects: z.array(effect).min(1, { error: "a step needs at least one effect" }) })
    .refine((step) => new Set(step.effects.map((e) => e.type)).size === step.effects.length, {
      error: "a step may list each effect type once",
      path: ["effects"],
    });
}

/** Orders triggers along a clock's life: the warning first, then the breach and later breach steps. */
export function triggerOrder(trigger: LadderTrigger): number {
  return trigger.on === "warning" ? -1 : trigger.afterMinutes;
}

function ladderSchema<Effect extends z.ZodType<{ type: string }>>(effect: Effect) {
  return z
    .array(stepSchema(effect))
    .min(1, { error: "a ladder needs at least one step" })
    .refine((steps) => steps.every((step, i) => i === 0 || triggerOrder(steps[i - 1]!.trigger) <= triggerOrder(step.trigger)), {
      error: "steps must be in trigger order: warning, then breach, then later afterMinutes",
    });
}

const ownedLadderSchema = ladderSchema(ownedEffectSchema);
const waitingLadderSchema = ladderSchema(waitingEffectSchema);
export type OwnedLadderStep = z.output<typeof ownedLadderSchema>[number];
export type WaitingLadderStep = z.output<typeof waitingLadderSchema>[number];

export const LADDER_KINDS = ["owned", "waiting"] as const;
export type LadderKind = (typeof LADDER_KINDS)[number];

const signalSchema = z.strictObject({
  /** Ladder level (1-based) the signal escalates to at least; repeated signals climb further. */
  level: z.number().int({ error: "must be a whole ladder level" }).min(1, { error: "ladder levels start at 1" }),
});

export const slaPolicySchema = z
  .strictObject({
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 characters of letters, digits, ".", "_" or "-" (it is part of action keys)' }),
    description: z.string().optional(),
    /** Default for targets that do not say: count business time only. */
    businessHours: z.boolean().default(true),
    /** Default share of a target after which its clock warns. */
    warningShare: warningShareSchema.default(0.75),
    targets: targetsSchema,
    ladders: z.strictObject({ owned: ownedLadderSchema, waiting: waitingLadderSchema }),
    signals: z.strictObject({ answerDidNotHelp: signalSchema, repeatContact: signalSchema }),
    /** Calendars by group id; "default" serves groups without their own. */
    calendars: z.record(z.string(), businessCalendarSchema).refine((calendars) => "default" in calendars, {
      error: 'must include a "default" calendar',
    }),
  })
  .superRefine((policy, ctx) => {
    for (const signal of CUSTOMER_SIGNALS) {
      const { level } = policy.signals[signal];
      for (const kind of LADDER_KINDS) {
        if (level > policy.ladders[kind].length) {
          ctx.addIssue({
            code: "custom",
            path: ["signals", signal, "level"],
            message: `level ${level} does not exist in the ${kind} ladder (${policy.ladders[kind].length} steps)`,
          });
        }
      }
    }
    for (const [groupId, calendar] of Object.entries(policy.calendars)) {
      if (calendar.id !== groupId) {
        ctx.addIssue({ code: "custom", path: ["calendars", groupId, "id"], message: `must equal its key "${groupId}"` });
      }
    }
  });

export type SlaPolicy = z.output<typeof slaPolicySchema>;
export type SlaTarget = z.output<typeof targetSchema>;
export type ChannelTargets = z.output<typeof channelTargetsSchema>;
export type SlaLadders = SlaPolicy["ladders"];

export class InvalidSlaPolicyError extends Error {
  readonly code = "INVALID_SLA_POLICY";
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid SLA policy:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "InvalidSlaPolicyError";
    this.issues = issues;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? "(policy)" : issue.path.map(String).join(".");
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  return `${where}: ${missing ? `is required (expected ${issue.expected})` : issue.message}`;
}

export type SlaPolicyParseResult = { ok: true; policy: SlaPolicy } | { ok: false; issues: string[] };

/** Validates a policy document; each issue reads "path.to.field: what is wrong". */
export function safeParseSlaPolicy(input: unknown): SlaPolicyParseResult {
  const result = slaPolicySchema.safeParse(input);
  return result.success ? { ok: true, policy: result.data } : { ok: false, issues: result.error.issues.map(describeIssue) };
}

/** Validates a policy document or throws InvalidSlaPolicyError listing every issue. */
export function parseSlaPolicy(input: unknown): SlaPolicy {
  const result = safeParseSlaPolicy(input);
  if (!result.ok) throw new InvalidSlaPolicyError(result.issues);
  return result.policy;
}

/** The calendar a group's tickets are measured against. */
export function calendarForGroup(policy: SlaPolicy, groupId: string | null | undefined): BusinessCalendar {
  const own = groupId === null || groupId === undefined ? undefined : policy.calendars[groupId];
  // The schema guarantees "default" exists.
  return own ?? policy.calendars["default"]!;
}
