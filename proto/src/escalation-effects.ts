// What an escalation step asks for, as one typed union for every reader: EscalationAction's `effect`
// oneof, or for records written before it existed, the same effect rebuilt from the legacy flat fields.
import type { EscalationAction } from "./gen/steward/v1/events.ts";

/** The `effect` oneof: `switch (effect.$case)` is exhaustively checked by the compiler. */
export type EscalationEffect = NonNullable<EscalationAction["effect"]>;
export type EscalationEffectCase = EscalationEffect["$case"];

/**
 * The legacy `action` name of each effect. Written next to `effect` for old and JSON readers, and shown
 * in ticket history; no consumer branches on it.
 */
export const escalationActionNames: Readonly<Record<EscalationEffectCase, string>> = {
  slaWarning: "sla_warning",
  slaBreach: "sla_breach",
  notifyOwner: "notify_owner",
  raisePriority: "raise_priority",
  notifySupervisor: "notify_supervisor",
  addCollaborator: "add_collaborator",
  widenRouting: "widen_routing",
};

/** The legacy action name for an effect (e.g. "raise_priority"). */
export function escalationActionName(effect: EscalationEffect): string {
  return escalationActionNames[effect.$case];
}

/**
 * The effect an EscalationAction asks for; undefined when it names none this build knows (a newer
 * producer's effect, or an unknown legacy name), which readers ignore.
 */
export function escalationEffectOf(a: EscalationAction): EscalationEffect | undefined {
  if (a.effect !== undefined) return a.effect;
  switch (a.action) {
    case "sla_warning":
      return { $case: "slaWarning", value: {} };
    case "sla_breach":
      return { $case: "slaBreach", value: {} };
    case "notify_owner":
      return { $case: "notifyOwner", value: { ownerId: a.ownerId } };
    case "raise_priority":
      return { $case: "raisePriority", value: { from: a.previousPriority, to: a.priority } };
    case "notify_supervisor":
      return { $case: "notifySupervisor", value: { recipient: `supervisor:${a.group !== "" ? a.group : "default"}` } };
    case "add_collaborator":
      return { $case: "addCollaborator", value: { role: a.role } };
    case "widen_routing":
      return { $case: "widenRouting", value: { relaxSkills: a.relaxSkills, addGroups: [...a.addGroups] } };
    default:
      return undefined;
  }
}
