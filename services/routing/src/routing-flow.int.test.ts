// Routing's promises end to end over the real broker and store, one routing instance: offer -> accept ->
// follow-up to the owner -> resolve -> reopen to the last owner; declines and timeouts move on without
// asking the same agent again; agents cannot transfer, supervisors reassign with a reason; escalation
// raises priority, widens routing and adds helpers; a ticket nobody can take waits, visibly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Channel, Priority, type Envelope } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { bearer, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { RoutingEventLog, agentIn, escalationAction, http, publishEscalation, publishSla, publishTriaged } from "../test-support/routing-test-support.ts";

// Chat and phone offers time out after 2 s here; email offers keep the default 120 s.
const t = isolatedEnv("routing-flow", { ROUTING_OFFER_TIMEOUT_REALTIME_S: "2", ROUTING_TICK_MS: "200" });
let routing: RunningRouting;
let bus: EventBus;
let log: RoutingEventLog;
let api: ReturnType<typeof http>;
const streams: SseReader[] = [];

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  api = http(routing.httpUrl);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "routing-flow-test", topicPrefix: t.topicPrefix });
  log = await RoutingEventLog.start(bus);
});

afterAll(async () => {
  for (const s of streams) s.close();
  await log?.stop();
  await routing?.close();
  await bus?.close();
});

async function online(id: string, groups: string[], capacity?: Record<string, number>, skills?: Record<string, number>): Promise<void> {
  expect((await api.putAgent(id, agentIn(groups, capacity, skills))).status).toBe(200);
  expect((await api.presence(id, "available")).status).toBe(200);
}

const payload = <C extends NonNullable<Envelope["payload"]>["$case"]>(e: Envelope, c: C) => {
  if (e.payload?.$case !== c) throw new Error(`expected ${c}, got ${e.payload?.$case}`);
  return e.payload.value as Extract<NonNullable<Envelope["payload"]>, { $case: C }>["value"];
};

describe("routing", () => {
  it("offers, assigns, keeps follow-ups with the owner, lets only the owner resolve, and reopens to the last owner", async () => {
    await online("ana", ["life"]);
    const work = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await bearer(tokens.agent("ana")));
    streams.push(work);
    await publishTriaged(bus, "life-1", { group: "life", skills: [{ name: "billing", minLevel: 2 }], subject: "Invoice" });

    const offerEvent = await work.next((e) => e.event === "offer" && (JSON.parse(e.data) as { ticketId: string }).ticketId === "life-1");
    const offer = JSON.parse(offerEvent.data) as { offerId: string };
    const view = await api.routing("life-1");
    expect(view.body["status"]).toBe("waiting");
    const offers = view.body["offers"] as Array<{
      offerId: string;
      agentId: string;
      outcome: string;
      explanation: { summary: string; candidatesConsidered: number; tieBreaker: string };
    }>;
    expect(offers).toHaveLength(1);
    expect(offers[0]).toMatchObject({ offerId: offer.offerId, agentId: "ana", outcome: "pending" });
    expect(offers[0]?.explanation.candidatesConsidered).toBe(1);
    expect(offers[0]?.explanation.tieBreaker).toBe("only-candidate");
    expect(offers[0]?.explanation.summary).toMatch(/ana chosen/);

    expect((await api.accept(offer.offerId, "ana")).body).toEqual({ ticketId: "life-1" });
    await work.next((e) => e.event === "assignment" && e.data.includes("life-1"));
    expect((await api.routing("life-1")).body).toMatchObject({ status: "owned", ownerId: "ana", lastOwnerId: "ana" });
    expect((await api.agent("ana")).body).toMatchObject({ owned: ["life-1"], free: { email: 0 } });

    // A follow-up goes to the owner, never back to a queue.
    await publishTriaged(bus, "life-1", { group: "life", retriage: true });
    await work.next((e) => e.event === "follow_up" && e.data.includes("life-1"));
    expect((await api.routing("life-1")).body).toMatchObject({ status: "owned", ownerId: "ana" });

    const stranger = await api.resolve("life-1", "bob");
    expect(stranger.status).toBe(403);
    expect(stranger.body.error?.code).toBe("FORBIDDEN");
    expect((await api.resolve("life-1", "ana")).status).toBe(200);
    expect((await api.routing("life-1")).body).toMatchObject({ status: "resolved", ownerId: null, lastOwnerId: "ana" });
    expect((await api.agent("ana")).body).toMatchObject({ owned: [], free: { email: 1 } });

    // The customer writes again within the reopen window: back to the last owner, into her load.
    const reopenEventId = await publishTriaged(bus, "life-1", { group: "life", retriage: true });
    const reopened = await log.waitFor("ticket.reopened", (e) => e.ticketId === "life-1" && e.type === "ticket.reopened");
    expect(payload(reopened, "ticketReopened")).toMatchObject({ ownerId: "ana", heldForOwner: false });
    await work.next((e) => e.event === "assignment" && e.data.includes("reopened"));
    expect((await api.routing("life-1")).body).toMatchObject({ status: "owned", ownerId: "ana" });
    expect((await api.agent("ana")).body).toMatchObject({ owned: ["life-1"] });

    // The same follow-up delivered again changes nothing.
    await publishTriaged(bus, "life-1", { group: "life", retriage: true }, reopenEventId);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(log.of("life-1", "ticket.reopened")).toHaveLength(1);
    const types = log
      .distinct()
      .filter((e) => e.ticketId === "life-1")
      .map((e) => e.type);
    expect(types).toEqual(["ticket.queued", "offer.made", "ticket.assigned", "follow.up.routed", "ticket.resolved", "ticket.reopened"]);
  });

  it("moves a declined offer to the next agent and does not ask the decliner again while another is eligible", async () => {
    await online("dee", ["decline"]);
    await online("dan", ["decline"]);
    await publishTriaged(bus, "decline-1", { group: "decline" });
    const first = await log.offer("decline-1", 0);
    expect((await api.decline(first.offerId, first.agentId, "in a meeting")).status).toBe(200);
    const second = await log.offer("decline-1", 1);
    expect(second.agentId).not.toBe(first.agentId);
    const closed = await log.waitFor("offer closed", (e) => e.type === "offer.closed" && e.ticketId === "decline-1");
    expect(payload(closed, "offerClosed")).toMatchObject({ agentId: first.agentId, outcome: "declined", reason: "in a meeting" });

    // Both passed: the one who passed first is asked again (nobody else is eligible), never the last one.
    expect((await api.decline(second.offerId, second.agentId)).status).toBe(200);
    const third = await log.offer("decline-1", 2);
    expect(third.agentId).toBe(first.agentId);
    expect(payload(third.envelope, "offerMade").explanation?.summary).toMatch(/offered again because nobody else is eligible/);
    const view = await api.routing("decline-1");
    expect((view.body["passedBy"] as Array<{ agentId: string }>).map((p) => p.agentId).sort()).toEqual(["dan", "dee"]);
  });

  it("moves an unanswered offer on when it times out (2 s)", async () => {
    await online("tim", ["timeout"]);
    await online("tom", ["timeout"]);
    await publishTriaged(bus, "timeout-1", { group: "timeout", channel: Channel.CHAT });
    const first = await log.offer("timeout-1", 0);
    const expired = await log.waitFor("offer expired", (e) => e.type === "offer.closed" && e.ticketId === "timeout-1", 15_000);
    expect(payload(expired, "offerClosed")).toMatchObject({ agentId: first.agentId, outcome: "expired" });
    const second = await log.offer("timeout-1", 1, 15_000);
    expect(second.agentId).not.toBe(first.agentId);
    // A late accept of the expired offer is refused.
    const late = await api.accept(first.offerId, first.agentId);
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe("OFFER_CLOSED");
    expect((await api.accept(second.offerId, second.agentId)).status).toBe(200);
  });

  it("refuses a transfer between agents and lets a supervisor reassign, with the reason recorded", async () => {
    await online("olga", ["owner"]);
    await publishTriaged(bus, "owner-1", { group: "owner" });
    const offer = await log.offer("owner-1");
    expect(offer.agentId).toBe("olga");
    expect((await api.accept(offer.offerId, "olga")).status).toBe(200);
    await online("omar", ["owner"]);

    const transfer = await api.call("POST", "/v1/tickets/owner-1/transfer", { toAgentId: "omar" }, { agent: "olga" });
    expect(transfer.status).toBe(409);
    expect(transfer.body.error?.code).toBe("OWNERSHIP_CONFLICT");
    expect(transfer.body.error?.message).toMatch(/only a supervisor can reassign/);

    // An agent cannot reassign, not even its own ticket; a supervisor of another group cannot either.
    expect((await api.call("POST", "/v1/tickets/owner-1/reassign", { toAgentId: "omar", reason: "mine" }, { agent: "olga" })).body.error?.code).toBe("FORBIDDEN");
    expect((await api.call("POST", "/v1/tickets/owner-1/reassign", { toAgentId: "omar", reason: "x" }, { supervisor: "sue", groups: ["billing"] })).body.error?.code).toBe(
      "FORBIDDEN",
    );

    const noReason = await api.call("POST", "/v1/tickets/owner-1/reassign", { toAgentId: "omar" }, { supervisor: "sue", groups: ["owner"] });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error?.code).toBe("REASON_REQUIRED");

    const moved = await api.call("POST", "/v1/tickets/owner-1/reassign", { toAgentId: "omar", reason: "Olga is on leave" }, { supervisor: "sue", groups: ["owner"] });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ ownerId: "omar", heldForOwner: false });
    const event = await log.waitFor("owner reassigned", (e) => e.type === "owner.reassigned" && e.ticketId === "owner-1");
    expect(payload(event, "ownerReassigned")).toMatchObject({ fromAgentId: "olga", toAgentId: "omar", supervisorId: "sue", reason: "Olga is on leave" });
    const view = await api.routing("owner-1");
    expect(view.body).toMatchObject({ ownerId: "omar", lastReassignment: { supervisorId: "sue", fromAgentId: "olga", toAgentId: "omar", reason: "Olga is on leave" } });
    expect((view.body["history"] as Array<{ type: string; actor: string }>).some((h) => h.type === "owner.reassigned" && h.actor === "sue")).toBe(true);
    // The capacity moved with the ticket.
    expect((await api.agent("olga")).body).toMatchObject({ owned: [], free: { email: 1 } });
    expect((await api.agent("omar")).body).toMatchObject({ owned: ["owner-1"], free: { email: 0 } });
    expect((await api.resolve("owner-1", "olga")).body.error?.code).toBe("FORBIDDEN");
  });

  it("offers the ticket whose priority escalation raised first when capacity frees", async () => {
    await online("pia", ["prio"]);
    await publishTriaged(bus, "prio-busy", { group: "prio" });
    const busy = await log.offer("prio-busy");
    expect((await api.accept(busy.offerId, "pia")).status).toBe(200);
    await publishTriaged(bus, "prio-older", { group: "prio" });
    await log.waitFor("older waits", (e) => e.type === "no.eligible.agent" && e.ticketId === "prio-older");
    await publishTriaged(bus, "prio-raised", { group: "prio" });
    await log.waitFor("raised waits", (e) => e.type === "no.eligible.agent" && e.ticketId === "prio-raised");
    await publishEscalation(
      bus,
      "prio-raised",
      escalationAction({ action: "raise_priority", key: "prio-raised:firstResponse.1:raise:1:test", priority: Priority.P1, previousPriority: Priority.P3 }),
    );
    await waitFor(async () => ((await api.routing("prio-raised")).body["priority"] === "P1" ? true : undefined), { what: "priority raised" });

    expect((await api.resolve("prio-busy", "pia")).status).toBe(200);
    const next = await log.offer("prio-raised", 0, 15_000);
    expect(next.agentId).toBe("pia");
    expect(log.of("prio-older", "offer.made")).toHaveLength(0);
  });

  it("orders waiting tickets of equal priority by their SLA deadline", async () => {
    await online("sly", ["sla"]);
    await publishTriaged(bus, "sla-busy", { group: "sla" });
    const busy = await log.offer("sla-busy");
    expect((await api.accept(busy.offerId, "sly")).status).toBe(200);
    await publishTriaged(bus, "sla-later", { group: "sla" });
    await log.waitFor("later waits", (e) => e.type === "no.eligible.agent" && e.ticketId === "sla-later");
    await publishTriaged(bus, "sla-sooner", { group: "sla" });
    await log.waitFor("sooner waits", (e) => e.type === "no.eligible.agent" && e.ticketId === "sla-sooner");
    const now = Date.now();
    await publishSla(bus, "sla-later", now + 3_600_000, 1);
    await publishSla(bus, "sla-sooner", now + 600_000, 1);
    await waitFor(async () => ((await api.routing("sla-sooner")).body["slaDeadline"] !== null && (await api.routing("sla-later")).body["slaDeadline"] !== null) || undefined, {
      what: "deadlines stored",
    });

    expect((await api.resolve("sla-busy", "sly")).status).toBe(200);
    expect((await log.offer("sla-sooner", 0, 15_000)).agentId).toBe("sly");
    expect(log.of("sla-later", "offer.made")).toHaveLength(0);
  });

  it("holds a ticket reopened while its owner is away for her, and delivers it when she is back", async () => {
    await online("hana", ["held"]);
    await publishTriaged(bus, "held-1", { group: "held" });
    const offer = await log.offer("held-1");
    expect((await api.accept(offer.offerId, "hana")).status).toBe(200);
    expect((await api.resolve("held-1", "hana")).status).toBe(200);
    expect((await api.presence("hana", "away")).status).toBe(200);
    await online("hugo", ["held"]);

    await publishTriaged(bus, "held-1", { group: "held", retriage: true });
    const reopened = await log.waitFor("reopened", (e) => e.type === "ticket.reopened" && e.ticketId === "held-1");
    expect(payload(reopened, "ticketReopened")).toMatchObject({ ownerId: "hana", heldForOwner: true });
    expect((await api.routing("held-1")).body).toMatchObject({ status: "owned", ownerId: "hana", heldForOwner: true });
    expect((await api.agent("hana")).body).toMatchObject({ owned: [], free: { email: 1 } });

    expect((await api.presence("hana", "available")).status).toBe(200);
    const delivered = await log.waitFor("delivered", (e) => e.type === "owned.work.delivered" && e.ticketId === "held-1", 15_000);
    expect(payload(delivered, "ownedWorkDelivered").agentId).toBe("hana");
    expect((await api.routing("held-1")).body).toMatchObject({ ownerId: "hana", heldForOwner: false });
    expect((await api.agent("hana")).body).toMatchObject({ owned: ["held-1"], free: { email: 0 } });
    expect(log.of("held-1", "offer.made")).toHaveLength(1); // hugo was never offered it
  });

  it("widens routing to the overflow group on escalation", async () => {
    await online("ove", ["overflow-team"], { email: 2 }, { billing: 5 });
    await publishTriaged(bus, "widen-1", {
      group: "narrow",
      skills: [
        { name: "billing", minLevel: 3 },
        { name: "vip-care", minLevel: 5, optional: true },
      ],
    });
    const waiting = await log.waitFor("nobody eligible", (e) => e.type === "no.eligible.agent" && e.ticketId === "widen-1");
    expect(payload(waiting, "noEligibleAgent").reasons.join(" ")).toMatch(/no agent in narrow/);
    await publishEscalation(
      bus,
      "widen-1",
      escalationAction({ action: "widen_routing", key: "widen-1:firstResponse.1:widen:1:test", relaxSkills: true, addGroups: ["overflow-team"] }),
    );
    const offer = await log.offer("widen-1", 0, 15_000);
    expect(offer.agentId).toBe("ove");
    const why = payload(offer.envelope, "offerMade").explanation;
    expect(why?.relaxationLevel).toBe(2);
    expect(why?.summary).toMatch(/narrow \+ overflow-team/);
  });

  it("keeps a ticket nobody can take waiting, visibly, until an eligible agent comes online", async () => {
    expect((await api.putAgent("walt", agentIn(["wait"]))).status).toBe(200); // offline
    await publishTriaged(bus, "wait-1", { group: "wait" });
    const none = await log.waitFor("nobody eligible", (e) => e.type === "no.eligible.agent" && e.ticketId === "wait-1");
    expect(payload(none, "noEligibleAgent").reasons).toContain("1 agent(s): not-available");
    const view = await api.routing("wait-1");
    expect(view.body).toMatchObject({ status: "waiting", ownerId: null, noEligibleAgent: { reasons: expect.arrayContaining(["1 agent(s): not-available"]) as unknown } });

    expect((await api.presence("walt", "available")).status).toBe(200);
    const offer = await log.offer("wait-1", 0, 15_000);
    expect(offer.agentId).toBe("walt");
  });

  it("adds a collaborator with the requested role, once one is available, and never changes the owner", async () => {
    await online("cora", ["collab"]);
    await publishTriaged(bus, "collab-1", { group: "collab" });
    const offer = await log.offer("collab-1");
    expect((await api.accept(offer.offerId, "cora")).status).toBe(200);
    await publishEscalation(bus, "collab-1", escalationAction({ action: "add_collaborator", key: "collab-1:resolution.1:collab:3:test", role: "specialist", ownerId: "cora" }));
    // Nobody with the role is available yet: the request waits on the ticket.
    await waitFor(async () => ((await api.routing("collab-1")).body["history"] as Array<{ type: string }>).some((h) => h.type === "collaborator.requested") || undefined, {
      what: "request recorded",
    });

    await online("sam", ["collab"], { email: 1 }, { billing: 5, specialist: 8 });
    const added = await log.waitFor("collaborator added", (e) => e.type === "collaborator.added" && e.ticketId === "collab-1", 15_000);
    expect(payload(added, "collaboratorAdded").agentId).toBe("sam");
    expect((await api.routing("collab-1")).body).toMatchObject({ ownerId: "cora", collaborators: ["sam"] });
    expect(log.of("collab-1", "owner.reassigned")).toHaveLength(0);
  });

  it("answers bad requests with a stable code", async () => {
    expect((await api.routing("no-such-ticket")).body.error?.code).toBe("TICKET_NOT_FOUND");
    const bad = await api.putAgent("bad", { name: "x", groups: [], skills: {}, languages: ["en"], capacity: {} });
    expect(bad.status).toBe(400);
    expect((await api.accept("no-such-offer", "ana")).body.error?.code).toBe("OFFER_NOT_FOUND");
    expect((await api.call("POST", "/v1/tickets/life-1/reassign", { toAgentId: "omar", reason: "x" }, "anonymous")).body.error?.code).toBe("UNAUTHENTICATED");
    expect((await api.call("POST", "/v1/tickets/life-1/reassign", { toAgentId: "nobody", reason: "x" }, { supervisor: "sue", groups: ["life"] })).body.error?.code).toBe(
      "AGENT_NOT_FOUND",
    );
  });
});
