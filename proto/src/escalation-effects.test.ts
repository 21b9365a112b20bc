// escalationEffectOf: the typed oneof wins; records from before it existed map from their legacy fields.
import { describe, expect, it } from "vitest";
import { EscalationAction } from "./gen/steward/v1/events.ts";
import { Priority } from "./gen/steward/v1/common.ts";
import { escalationActionName, escalationActionNames, escalationEffectOf, type EscalationEffect } from "./escalation-effects.ts";

const base = (fields: Partial<EscalationAction>): EscalationAction => ({ ...EscalationAction.fromJSON({}), ...fields });

describe("escalationEffectOf", () => {
  it("returns the oneof when it is set, whatever the legacy name says", () => {
    const effect: EscalationEffect = { $case: "widenRouting", value: { relaxSkills: true, addGroups: ["overflow"] } };
    expect(escalationEffectOf(base({ action: "sla_warning", effect }))).toEqual(effect);
  });

  it("rebuilds each effect from a record written before the oneof existed", () => {
    expect(escalationEffectOf(base({ action: "raise_priority", priority: Priority.P1, previousPriority: Priority.P3 }))).toEqual({
      $case: "raisePriority",
      value: { from: Priority.P3, to: Priority.P1 },
    });
    expect(escalationEffectOf(base({ action: "add_collaborator", role: "specialist" }))).toEqual({ $case: "addCollaborator", value: { role: "specialist" } });
    expect(escalationEffectOf(base({ action: "widen_routing", relaxSkills: true, addGroups: ["b"] }))).toEqual({
      $case: "widenRouting",
      value: { relaxSkills: true, addGroups: ["b"] },
    });
    expect(escalationEffectOf(base({ action: "notify_owner", ownerId: "ana" }))).toEqual({ $case: "notifyOwner", value: { ownerId: "ana" } });
    expect(escalationEffectOf(base({ action: "notify_supervisor", group: "" }))).toEqual({ $case: "notifySupervisor", value: { recipient: "supervisor:default" } });
    expect(escalationEffectOf(base({ action: "sla_breach" }))?.$case).toBe("slaBreach");
  });

  it("names no effect for an unknown legacy action", () => {
    expect(escalationEffectOf(base({ action: "page_the_cto" }))).toBeUndefined();
    expect(escalationEffectOf(base({}))).toBeUndefined();
  });

  it("survives the wire: encode then decode keeps the oneof", () => {
    const a = base({ action: "add_collaborator", key: "k", effect: { $case: "addCollaborator", value: { role: "specialist" } } });
    const decoded = EscalationAction.decode(EscalationAction.encode(a).finish());
    expect(escalationEffectOf(decoded)).toEqual({ $case: "addCollaborator", value: { role: "specialist" } });
  });

  it("maps every legacy name back to its own case", () => {
    for (const [c, name] of Object.entries(escalationActionNames)) {
      const effect = escalationEffectOf(base({ action: name }));
      expect(effect?.$case).toBe(c);
      expect(escalationActionName(effect!)).toBe(name);
    }
  });
});
