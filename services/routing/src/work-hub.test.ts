// What the owner hears on the live stream besides offers and assignments: SLA warnings and breaches,
// a ladder step for their ticket, and who came to help; nobody else hears them.
import { describe, expect, it } from "vitest";
import { newEnvelope } from "@steward/messaging";
import { EscalationAction, OfferMade, Priority } from "@steward/proto";
import { WorkHub, type WorkItem } from "./work-hub.ts";
import { toWorkResponse } from "./agent-desk-grpc.ts";

function listening(hub: WorkHub, agentId: string): WorkItem[] {
  const items: WorkItem[] = [];
  hub.listen(agentId, (i) => items.push(i));
  return items;
}

const action = (fields: Partial<EscalationAction>) => newEnvelope("escalationAction", "T-1", { ...EscalationAction.fromJSON({}), ...fields }, "escalation");

describe("owner notices", () => {
  it("tells the owner of SLA warnings, breaches and ladder steps, and ignores other actions", () => {
    const hub = new WorkHub();
    const ana = listening(hub, "ana");
    hub.onEvent(action({ action: "sla_warning", ownerId: "ana", reason: "first response due in 5 min", priority: Priority.P2 }));
    hub.onEvent(action({ action: "sla_breach", ownerId: "ana", reason: "first response overdue" }));
    hub.onEvent(action({ action: "notify_owner", ownerId: "ana", reason: "level 2" }));
    hub.onEvent(action({ action: "raise_priority", ownerId: "ana", reason: "breach" }));
    hub.onEvent(action({ action: "sla_warning", ownerId: "", reason: "nobody owns it" }));
    expect(ana).toEqual([
      { kind: "sla_warning", ticketId: "T-1", detail: "first response due in 5 min", priority: "P2" },
      { kind: "sla_breach", ticketId: "T-1", detail: "first response overdue" },
      { kind: "escalation", ticketId: "T-1", detail: "level 2" },
    ]);
  });

  it("reads the typed effect, not the legacy action name", () => {
    const hub = new WorkHub();
    const ana = listening(hub, "ana");
    hub.onEvent(action({ action: "", ownerId: "ana", reason: "level 2", effect: { $case: "notifyOwner", value: { ownerId: "ana" } } }));
    hub.onEvent(action({ action: "notify_owner", ownerId: "ana", reason: "a raise", effect: { $case: "raisePriority", value: { from: Priority.P3, to: Priority.P2 } } }));
    expect(ana).toEqual([{ kind: "escalation", ticketId: "T-1", detail: "level 2" }]);
  });

  it("tells the owner who came to help, and the helper that they were added", () => {
    const hub = new WorkHub();
    const ana = listening(hub, "ana");
    const sam = listening(hub, "sam");
    hub.onEvent(newEnvelope("collaboratorAdded", "T-1", { agentId: "sam", reason: "specialist for a breach", ownerId: "ana" }, "routing"));
    expect(ana).toEqual([{ kind: "collaborator_added", ticketId: "T-1", agentId: "sam", detail: "specialist for a breach" }]);
    expect(sam).toEqual([{ kind: "collaboration", ticketId: "T-1", detail: "specialist for a breach" }]);
    expect(toWorkResponse(ana[0] as WorkItem)).toMatchObject({ kind: "collaborator_added", agentId: "sam", ticketId: "T-1" });
  });
});

describe("replay after a reconnect (Last-Event-ID)", () => {
  const offer = (n: number) => newEnvelope("offerMade", `T-${n}`, { ...OfferMade.fromJSON({}), offerId: `o-${n}`, agentId: "ana", subject: `s${n}` }, "routing");

  it("gives ids in order and replays exactly what came after the last one seen, even while disconnected", () => {
    const hub = new WorkHub();
    const ids: string[] = [];
    const stop = hub.listen("ana", (_item, id) => ids.push(id));
    hub.onEvent(offer(1));
    hub.onEvent(offer(2));
    stop();
    hub.onEvent(offer(3)); // the stream is down: kept for the reconnect
    expect(ids).toHaveLength(2);
    const replay = hub.replaySince("ana", ids[0] as string);
    expect(replay?.map((s) => s.item.offerId)).toEqual(["o-2", "o-3"]);
    expect(hub.replaySince("ana", `${hub.epoch}-3`)).toEqual([]);
  });

  it("refuses ids it cannot answer for: another instance's, the future, or older than what is kept", () => {
    const hub = new WorkHub(2);
    const ids: string[] = [];
    hub.listen("ana", (_item, id) => ids.push(id));
    for (let n = 1; n <= 5; n += 1) hub.onEvent(offer(n));
    expect(hub.replaySince("ana", "other-1")).toBeNull();
    expect(hub.replaySince("ana", `${hub.epoch}-9`)).toBeNull();
    expect(hub.replaySince("ana", ids[0] as string)).toBeNull();
    expect(hub.replaySince("ana", ids[2] as string)?.map((s) => s.item.offerId)).toEqual(["o-4", "o-5"]);
  });
});

describe("events heard twice", () => {
  it("forwards an event once when the leader hands it over and Kafka brings it again", () => {
    const hub = new WorkHub();
    const ana = listening(hub, "ana");
    const offer = newEnvelope("offerMade", "T-2", { ...OfferMade.fromJSON({}), agentId: "ana", offerId: "o-1", subject: "Refund" }, "routing");
    hub.onEvent(offer); // from the leader, once its change is durable
    hub.onEvent(offer); // the same event back from steward.routing.events
    hub.onEvent(newEnvelope("offerMade", "T-3", { ...OfferMade.fromJSON({}), agentId: "ana", offerId: "o-2", subject: "Login" }, "routing"));
    expect(ana.map((i) => i.offerId)).toEqual(["o-1", "o-2"]);
  });
});
