// Timers as pure functions: which actions (warnings, breaches, escalation ladder steps, signal
// escalations) a ticket's SLA state makes due by a given instant, each with a stable idempotency key,
// when a durable timer should next wake, and how a done action is recorded.

import { clockId, clockStatus, targetMs, thresholdReachedAt, warningThresholdMs, type SlaClock } from "./sla-clock.ts";
import { LADDER_EFFECT_TYPES, PRIORITIES, type ClockName, type LadderEffect, type LadderKind, type LadderTrigger, type Priority } from "./sla-policy.ts";
import { ladderKindOf, type SignalEscalation, type SlaState } from "./sla-state.ts";
import { MINUTE_MS } from "./zoned-time.ts";

/** What the adapter should do. None of these changes a ticket's owner. */
export type SlaEffect =
  | { readonly type: "slaWarning"; readonly clock: ClockName; readonly deadline: string }
  | { readonly type: "slaBreach"; readonly clock: ClockName; readonly deadline: string }
  | { readonly type: "notifyOwner"; readonly ownerId: string }
  | { readonly type: "raisePriority"; readonly from: Priority; readonly to: Priority }
  | { readonly type: "notifySupervisor" }
  | { readonly type: "addCollaborator"; readonly role: string }
  | { readonly type: "widenRouting"; readonly relaxSkills: boolean; readonly addGroups: readonly string[] };

/** "warning", "breach", or a ladder effect such as "owned.notifyOwner" / "waiting.widenRouting". */
export type ActionKind = "warning" | "breach" | `${LadderKind}.${LadderEffect["type"]}`;

export type DueAction = {
  /** `${ticketId}:${source}:${kind}:${level}:${policyVersion}`: record it once, act once. */
  readonly key: string;
  readonly ticketId: string;
  /** The clock ("resolution.1", "nextResponse.2") or customer signal ("answerDidNotHelp.1") behind it. */
  readonly source: string;
  readonly kind: ActionKind;
  /** Ladder level (1-based); 0 for warnings and breaches. */
  readonly level: number;
  readonly policyVersion: string;
  readonly dueAt: string;
  readonly effect: SlaEffect;
};

export const ACTION_KINDS: readonly ActionKind[] = [
  "warning",
  "breach",
  ...LADDER_EFFECT_TYPES.owned.map((type): ActionKind => `owned.${type}`),
  ...LADDER_EFFECT_TYPES.waiting.map((type): ActionKind => `waiting.${type}`),
];

export function actionKey(ticketId: string, source: string, kind: ActionKind, level: number, policyVersion: string): string {
  return `${ticketId}:${source}:${kind}:${level}:${policyVersion}`;
}

export type ParsedActionKey = {
  readonly ticketId: string;
  readonly source: string;
  readonly kind: ActionKind;
  readonly level: number;
  readonly policyVersion: string;
};

export class InvalidActionKeyError extends Error {
  readonly code = "INVALID_ACTION_KEY";
  constructor(key: string, reason: string) {
    super(`Action key "${key}" ${reason}`);
    this.name = "InvalidActionKeyError";
  }
}

/** Splits a key from the right, so ticket ids may themselves contain ":". */
export function parseActionKey(key: string): ParsedActionKey {
  const parts = key.split(":");
  if (parts.length < 5) throw new InvalidActionKeyError(key, "does not have the form ticketId:source:kind:level:policyVersion");
  const [source, kind, levelText, policyVersion] = parts.slice(-4) as [string, string, string, string];
  const ticketId = parts.slice(0, -4).join(":");
  const level = Number(levelText);
  if (ticketId === "" || source === "" || kind === "" || policyVersion === "" || !/^\d+$/.test(levelText)) {
    throw new InvalidActionKeyError(key, "does not have the form ticketId:source:kind:level:policyVersion");
  }
  if (!(ACTION_KINDS as readonly string[]).includes(kind)) throw new InvalidActionKeyError(key, `has unknown kind "${kind}"`);
  return { ticketId, source, kind: kind as ActionKind, level, policyVersion };
}

const doneMarker = (kind: string, level: number): string => `${kind}:${level}`;

function triggerThresholdMs(clock: SlaClock, trigger: LadderTrigger): number {
  return trigger.on === "warning" ? warningThresholdMs(clock.target) : targetMs(clock.target) + trigger.afterMinutes * MINUTE_MS;
}

function raisedPriority(priority: Priority): Priority | undefined {
  const index = PRIORITIES.indexOf(priority);
  return index > 0 ? PRIORITIES[index - 1] : undefined;
}

/** The concrete effect of a ladder effect on this ticket now; undefined when it has nothing to do. */
function concreteEffect(state: SlaState, effect: LadderEffect): SlaEffect | undefined {
  switch (effect.type) {
    case "notifyOwner":
      return state.ownerId === null ? undefined : { type: "notifyOwner", ownerId: state.ownerId };
    case "raisePriority": {
      const to = raisedPriority(state.priority);
      return to === undefined ? undefined : { type: "raisePriority", from: state.priority, to };
    }
    case "notifySupervisor":
      return { type: "notifySupervisor" };
    case "addCollaborator":
      return { type: "addCollaborator", role: effect.role };
    case "widenRouting":
      return { type: "widenRouting", relaxSkills: effect.relaxSkills, addGroups: effect.addGroups };
  }
}

function ladderActions(state: SlaState, source: string, ladder: LadderKind, level: number, dueAt: string, done: readonly string[]): DueAction[] {
  const step = state.rules.ladders[ladder][level - 1];
  if (step === undefined) return [];
  const actions: DueAction[] = [];
  for (const effect of step.effects) {
    const kind: ActionKind = `${ladder}.${effect.type}`;
    if (done.includes(doneMarker(kind, level))) continue;
    const concrete = concreteEffect(state, effect);
    if (concrete === undefined) continue;
    actions.push(action(state, source, kind, level, dueAt, concrete));
  }
  return actions;
}

function action(state: SlaState, source: string, kind: ActionKind, level: number, dueAt: string, effect: SlaEffect): DueAction {
  const policyVersion = state.rules.version;
  return { key: actionKey(state.ticketId, source, kind, level, policyVersion), ticketId: state.ticketId, source, kind, level, policyVersion, dueAt, effect };
}

function clockActions(state: SlaState, clock: SlaClock): DueAction[] {
  const source = clockId(clock);
  const actions: DueAction[] = [];
  // A breach is a fact worth recording even when the clock stopped before its timer fired.
  const breachMoment = clock.overdueSince ?? (clockStatus(clock) === "running" ? clock.deadline : null);
  if (breachMoment !== null && !clock.done.includes(doneMarker("breach", 0))) {
    actions.push(action(state, source, "breach", 0, breachMoment, { type: "slaBreach", clock: clock.name, deadline: breachMoment }));
  }
  // Warnings and ladder steps only matter while the clock runs: once it stops or waits on the
  // customer, nobody needs to be told it is at risk.
  if (state.status !== "open" || clockStatus(clock) !== "running" || clock.deadline === null) return actions;
  const warningAt = thresholdReachedAt(clock, state.calendar, triggerThresholdMs(clock, { on: "warning" }));
  // A warning only makes sense before the breach; a clock resumed or retargeted past its target
  // goes straight to the breach.
  const warnsBeforeBreach = warningAt !== null && Date.parse(warningAt) < Date.parse(clock.deadline);
  if (warningAt !== null && warnsBeforeBreach && !clock.done.includes(doneMarker("warning", 0))) {
    actions.push(action(state, source, "warning", 0, warningAt, { type: "slaWarning", clock: clock.name, deadline: clock.deadline }));
  }
  const ladder = ladderKindOf(state);
  state.rules.ladders[ladder].forEach((step, index) => {
    const dueAt = thresholdReachedAt(clock, state.calendar, triggerThresholdMs(clock, step.trigger));
    if (dueAt !== null) actions.push(...ladderActions(state, source, ladder, index + 1, dueAt, clock.done));
  });
  return actions;
}

function signalActions(state: SlaState, escalation: SignalEscalation): DueAction[] {
  if (state.status !== "open") return [];
  return ladderActions(state, escalation.id, escalation.ladder, escalation.level, escalation.at, escalation.done);
}

const KIND_ORDER = (kind: ActionKind): number => (kind === "warning" ? 0 : kind === "breach" ? 1 : 2);

/**
 * Every action the state will make due if nothing else happens, done ones excluded, in the order to
 * perform them: by due time, then warning before breach before ladder steps, then by level.
 */
export function pendingActions(state: SlaState): DueAction[] {
  const actions = [...state.clocks.flatMap((clock) => clockActions(state, clock)), ...state.signals.flatMap((s) => signalActions(state, s))];
  return actions.sort(
    (a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt) || KIND_ORDER(a.kind) - KIND_ORDER(b.kind) || a.level - b.level || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/** Actions due at `now` and not yet recorded as done. */
export function dueActions(state: SlaState, now: Date): DueAction[] {
  const nowMs = now.getTime();
  return pendingActions(state).filter((pending) => Date.parse(pending.dueAt) <= nowMs);
}

/**
 * When a durable timer should next call `dueActions`: the earliest pending action, which may be in
 * the past if one is already due. Null when nothing is pending; any transition may change it.
 */
export function nextWakeAt(state: SlaState): string | null {
  return pendingActions(state)[0]?.dueAt ?? null;
}

/**
 * Records an action as done so it is not due again. Recording twice is a no-op (same state returned).
 * A key from an older policy version still counts: the action happened. Throws InvalidActionKeyError
 * for a malformed key, another ticket's key, or an unknown source.
 */
export function markActionDone(state: SlaState, key: string): SlaState {
  const parsed = parseActionKey(key);
  if (parsed.ticketId !== state.ticketId) throw new InvalidActionKeyError(key, `belongs to ticket ${parsed.ticketId}, not ${state.ticketId}`);
  const marker = doneMarker(parsed.kind, parsed.level);
  const clockIndex = state.clocks.findIndex((clock) => clockId(clock) === parsed.source);
  if (clockIndex >= 0) {
    const clock = state.clocks[clockIndex]!;
    if (clock.done.includes(marker)) return state;
    const clocks = state.clocks.with(clockIndex, { ...clock, done: [...clock.done, marker] });
    return { ...state, clocks };
  }
  const signalIndex = state.signals.findIndex((escalation) => escalation.id === parsed.source);
  if (signalIndex >= 0) {
    const escalation = state.signals[signalIndex]!;
    if (escalation.done.includes(marker)) return state;
    return { ...state, signals: state.signals.with(signalIndex, { ...escalation, done: [...escalation.done, marker] }) };
  }
  throw new InvalidActionKeyError(key, `names no clock or signal of ticket ${state.ticketId}`);
}
