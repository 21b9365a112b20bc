import { describe, expect, it } from "vitest";
import { Channel, Priority, Topics } from "@steward/proto";
import { applySlaInput, dueActions, emptySlaRecord, parseSlaPolicy, slaView, type SlaInput, type SlaRecord } from "./domain/index.ts";
import { testPolicyDocument } from "../test-support/sla-fixtures.ts";
import { actionEvents, slaUpdatedEvent } from "./sla-events.ts";

// The test policy's P1 runs 24x7: first response 15 minutes (warning at 11:15), resolution 120.
const policy = parseSlaPolicy(testPolicyDocument());
const T0 = "2026-11-24T10:00:00.000Z";
const plus = (minutes: number): Date => new Date(Date.parse(T0) + minutes * 60_000);

function record(...inputs: SlaInput[]): SlaRecord {
  const triaged: SlaInput = { type: "triaged", priority: "P2", channel: "email", group: "billing", policyName: "standard", answerDidNotHelp: false, repeatContactCount: 0 };
  return [triaged, ...inputs].reduce((r, input) => applySlaInput(r, { at: T0, input }, policy), emptySlaRecord("T-9"));
}

function eventsAt(r: SlaRecord, minutes: number) {
  return dueActions(r.state!, plus(minutes)).flatMap((a) => actionEvents(r, r.state!, a, plus(minutes)));
}

describe("sla.updated", () => {
  it("carries the view with the policy name, version, revision and priority", () => {
    const r = record();
    const { topic, envelope } = slaUpdatedEvent(r, slaView(r.state!, plus(1)), 7, plus(1));
    expect(topic).toBe(Topics.escalation);
    expect(envelope.eventId).toBe("T-9/sla/7");
    expect(envelope.payload?.$case).toBe("slaUpdated");
    const value = envelope.payload?.$case === "slaUpdated" ? envelope.payload.value : undefined;
    expect(value).toMatchObject({ policy: "standard", policyVersion: "v1", revision: 7, priority: Priority.P2, paused: false, level: 0, warnings: [], breaches: [] });
    expect(value?.firstResponseDue?.toISOString()).toBe(r.state!.clocks[0]!.deadline);
    expect(value?.nextResponseDue).toBeUndefined();
  });
});

describe("escalation actions", () => {
  it("tells routing to raise the priority of a waiting ticket, with both priorities", () => {
    // P2 first response: 30 business minutes from Tuesday 11:00 Paris; warning at 75%.
    const events = eventsAt(record(), 23);
    const actions = events.flatMap((e) => (e.envelope.payload?.$case === "escalationAction" ? [e.envelope.payload.value] : []));
    expect(actions.map((a) => a.effect?.$case)).toEqual(["slaWarning", "raisePriority"]);
    // The legacy name is still written for readers built before the oneof.
    expect(actions.map((a) => a.action)).toEqual(["sla_warning", "raise_priority"]);
    expect(actions[1]).toMatchObject({
      priority: Priority.P1,
      previousPriority: Priority.P2,
      level: 1,
      clock: "firstResponse",
      source: "firstResponse.1",
      group: "billing",
      ownerId: "",
      policyVersion: "v1",
    });
    expect(actions[1]?.effect).toEqual({ $case: "raisePriority", value: { from: Priority.P2, to: Priority.P1 } });
    expect(events.map((e) => e.envelope.eventId)).toEqual(actions.map((a) => `${a.key}/action`));
  });

  it("notifies the owner at the warning and the supervisor at the breach, and asks for a specialist", () => {
    const owned = record({ type: "assigned", ownerId: "agent-7" });
    const warning = eventsAt(owned, 23);
    const ownerNotice = warning.find((e) => e.envelope.payload?.$case === "notification");
    expect(ownerNotice?.topic).toBe(Topics.outbound);
    expect(ownerNotice?.envelope.payload?.value).toMatchObject({ kind: "sla_warning", recipient: "agent-7", channel: Channel.UNSPECIFIED });

    const breach = eventsAt(owned, 60 * 24 * 3);
    const notices = breach.flatMap((e) => (e.envelope.payload?.$case === "notification" ? [e.envelope.payload.value] : []));
    expect(notices.map((n) => [n.kind, n.recipient])).toContainEqual(["escalation", "supervisor:billing"]);
    const collaborator = breach
      .flatMap((e) => (e.envelope.payload?.$case === "escalationAction" ? [e.envelope.payload.value] : []))
      .find((a) => a.effect?.$case === "addCollaborator");
    expect(collaborator).toMatchObject({ role: "specialist", ownerId: "agent-7", level: 3, effect: { $case: "addCollaborator", value: { role: "specialist" } } });
    const supervisor = breach
      .flatMap((e) => (e.envelope.payload?.$case === "escalationAction" ? [e.envelope.payload.value] : []))
      .find((a) => a.effect?.$case === "notifySupervisor");
    expect(supervisor?.effect).toEqual({ $case: "notifySupervisor", value: { recipient: "supervisor:billing" } });
    // Notices name the ticket and the clock, never customer data.
    for (const n of notices) expect(n.text).toMatch(/^Ticket T-9: the (first response|resolution) /);
  });

  it("widens routing for a waiting ticket with the groups and skill relaxation of the policy", () => {
    const breach = eventsAt(record(), 60 * 24 * 3);
    const widen = breach.flatMap((e) => (e.envelope.payload?.$case === "escalationAction" ? [e.envelope.payload.value] : [])).find((a) => a.effect?.$case === "widenRouting");
    expect(widen).toMatchObject({ relaxSkills: true, addGroups: ["overflow"], level: 2, effect: { $case: "widenRouting", value: { relaxSkills: true, addGroups: ["overflow"] } } });
  });
});
