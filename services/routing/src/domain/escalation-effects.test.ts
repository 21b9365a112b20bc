// Escalation's effects on a routing ticket: raised priorities, widened routing, and input kept before triage.
import { describe, expect, it } from "vitest";
import { hintWith, keepKeys, moreUrgent, raisePriority, ticketWithHint, widenRouting, widenedRelaxation, type EscalatedTicket, type EscalationHint } from "./escalation-effects.ts";
import { DEFAULT_RELAXATION } from "./index.ts";

const waiting = (fields: Partial<EscalatedTicket> = {}): EscalatedTicket => ({
  status: "waiting",
  group: "billing",
  overflowGroup: null,
  triagePriority: "P3",
  escalatedPriority: null,
  priority: "P3",
  pendingOffers: [],
  relaxation: null,
  ...fields,
});

const emptyHint: EscalationHint = { slaDeadline: null, slaRevision: 0, escalatedPriority: null, widen: null, appliedActionKeys: [] };

describe("priorities", () => {
  it("keeps the more urgent priority", () => {
    expect(moreUrgent("P3", "P1")).toBe("P1");
    expect(moreUrgent("P2", "P4")).toBe("P2");
    expect(moreUrgent("P3", null)).toBe("P3");
  });

  it("requeues a waiting ticket with no offer out when its priority rises", () => {
    expect(raisePriority(waiting(), "P1")).toEqual({ escalatedPriority: "P1", priority: "P1", requeue: true });
  });

  it("does not requeue a ticket with an offer out, an owned ticket, or a raise below triage's priority", () => {
    expect(raisePriority(waiting({ pendingOffers: [{}] }), "P1").requeue).toBe(false);
    expect(raisePriority(waiting({ status: "owned" }), "P1")).toMatchObject({ priority: "P1", requeue: false });
    expect(raisePriority(waiting({ triagePriority: "P1", priority: "P1" }), "P2")).toEqual({ escalatedPriority: "P2", priority: "P1", requeue: false });
  });

  it("never lowers a priority escalation raised before", () => {
    expect(raisePriority(waiting({ escalatedPriority: "P1", priority: "P1" }), "P2")).toMatchObject({ escalatedPriority: "P1", priority: "P1" });
  });
});

describe("widened routing", () => {
  it("widens only the named steps, at once", () => {
    expect(widenedRelaxation(DEFAULT_RELAXATION, true, false)).toEqual({ ...DEFAULT_RELAXATION, dropOptionalSkillsAfterMs: 0 });
    expect(widenedRelaxation(DEFAULT_RELAXATION, false, true)).toEqual({ ...DEFAULT_RELAXATION, addOverflowGroupAfterMs: 0 });
  });

  it("takes the first added group that is not the ticket's own as its overflow group", () => {
    expect(widenRouting(waiting(), { relaxSkills: true, addGroups: ["billing", "overflow"] }, DEFAULT_RELAXATION)).toEqual({
      overflowGroup: "overflow",
      relaxation: { ...DEFAULT_RELAXATION, dropOptionalSkillsAfterMs: 0, addOverflowGroupAfterMs: 0 },
    });
  });

  it("keeps the ticket's overflow group and relaxation schedule when nothing new is asked", () => {
    expect(widenRouting(waiting(), { relaxSkills: false, addGroups: [] }, DEFAULT_RELAXATION)).toEqual({ overflowGroup: null, relaxation: DEFAULT_RELAXATION });
    const own = { ...DEFAULT_RELAXATION, dropOptionalSkillsAfterMs: 5 };
    expect(widenRouting(waiting({ overflowGroup: "tier2", relaxation: own }), { relaxSkills: false, addGroups: [] }, DEFAULT_RELAXATION)).toEqual({
      overflowGroup: "tier2",
      relaxation: { ...own, addOverflowGroupAfterMs: 0 },
    });
  });
});

describe("escalation before triage", () => {
  it("remembers raises and widenings once per action key, and folds them into the new ticket", () => {
    let hint = hintWith(emptyHint, "k1", { kind: "raisePriority", to: "P2" });
    hint = hintWith(hint, "k1", { kind: "raisePriority", to: "P1" });
    hint = hintWith(hint, "k2", { kind: "widenRouting", relaxSkills: true, addGroups: ["overflow"] });
    expect(hint).toEqual({ ...emptyHint, escalatedPriority: "P2", widen: { relaxSkills: true, addGroups: ["overflow"] }, appliedActionKeys: ["k1", "k2"] });

    expect(ticketWithHint({ group: "billing", overflowGroup: null, triagePriority: "P3", priority: "P3", relaxation: null }, hint, DEFAULT_RELAXATION)).toEqual({
      slaDeadline: null,
      slaRevision: 0,
      escalatedPriority: "P2",
      priority: "P2",
      overflowGroup: "overflow",
      relaxation: { ...DEFAULT_RELAXATION, dropOptionalSkillsAfterMs: 0, addOverflowGroupAfterMs: 0 },
      appliedActionKeys: ["k1", "k2"],
    });
  });

  it("needs a ticket for a collaborator: nothing is remembered", () => {
    expect(hintWith(emptyHint, "k", { kind: "addCollaborator", role: "specialist" })).toBe(emptyHint);
  });

  it("keeps the most recent applied keys only", () => {
    let keys: string[] = [];
    for (let i = 0; i < 60; i++) keys = keepKeys(keys, `k${i}`);
    expect(keys).toHaveLength(50);
    expect(keys[0]).toBe("k10");
    expect(keepKeys(["a", "b"], "a")).toEqual(["b", "a"]);
  });
});
