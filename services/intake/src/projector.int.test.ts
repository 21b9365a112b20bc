// The ticket view over the real store and broker: out-of-order SLA views from two escalation instances
// end with the newest revision shown, a replayed event changes nothing twice, one ticket's events in a
// batch land in one write, concurrent batches for one ticket lose nothing, and a batch acknowledges once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Priority, TicketTriaged, Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { project, projectBatch } from "./projector.ts";
import { EventLog, sleep } from "../test-support/test-support.ts";

const t = isolatedEnv("projector");
let conn: Store;
let store: TicketStore;
let bus: EventBus;
let log: EventLog;

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  await store.init();
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "projector-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  log = await EventLog.start(bus, "projector-test-reader", [Topics.outbound]);
});

afterAll(async () => {
  await bus?.close();
  await conn?.close();
});

async function newTicket(id: string, language?: string) {
  const now = new Date();
  await store.createTicket({
    _id: id,
    status: "new",
    channel: "email",
    customer: { id: "c", email: "c@example.com", ...(language ? { language } : {}) },
    subject: null,
    topic: null,
    language: null,
    intent: null,
    priority: null,
    group: null,
    requiredSkills: [],
    ownerId: null,
    lastOwnerId: null,
    collaborators: [],
    triage: null,
    sla: null,
    metadata: {},
    channelRefs: {},
    messageCount: 1,
    messages: [],
    history: [],
    createdAt: now,
    updatedAt: now,
  });
}

const slaView = (ticketId: string, revision: number, level: number) =>
  newEnvelope(
    "slaUpdated",
    ticketId,
    {
      policy: "default",
      policyVersion: "v1",
      firstResponseDue: new Date(),
      nextResponseDue: undefined,
      resolutionDue: new Date(),
      paused: false,
      warnings: [],
      breaches: [],
      level,
      revision,
      priority: 3,
    },
    "escalation",
    { eventId: `${ticketId}/sla/${revision}` },
  );

describe("ticket view projector", () => {
  it("keeps the newest SLA revision when views arrive out of order", async () => {
    await newTicket("p-1");
    await project(store, slaView("p-1", 1, 0));
    await project(store, slaView("p-1", 3, 2));
    await project(store, slaView("p-1", 2, 1));
    const doc = await store.get("p-1");
    expect(doc?.sla?.["revision"]).toBe(3);
    expect(doc?.sla?.["level"]).toBe(2);
  });

  it("applies a replayed event once", async () => {
    await newTicket("p-2");
    const assigned = newEnvelope("ticketAssigned", "p-2", { agentId: "ana", offerId: "o1", channel: 1 }, "routing");
    await project(store, assigned);
    await project(store, assigned);
    const doc = await store.get("p-2");
    expect(doc?.ownerId).toBe("ana");
    expect(doc?.history.filter((h) => h.eventId === assigned.eventId)).toHaveLength(1);
  });

  it("applies one ticket's events of a batch in order with one write", async () => {
    await newTicket("p-3");
    await newTicket("p-4");
    const batch = [
      routingEvent("ticketQueued", "p-3", { group: "billing", reason: "no agent free" }),
      routingEvent("offerMade", "p-4", { agentId: "bo", offerId: "o4" }),
      routingEvent("offerMade", "p-3", { agentId: "ana", offerId: "o3" }),
      routingEvent("offerClosed", "p-3", { agentId: "ana", offerId: "o3", outcome: "declined" }),
      routingEvent("offerMade", "p-3", { agentId: "cy", offerId: "o3b" }),
      routingEvent("ticketAssigned", "p-3", { agentId: "cy", offerId: "o3b" }),
    ];
    await projectBatch(store, batch);
    const p3 = await store.get("p-3");
    expect(p3?.status).toBe("assigned");
    expect(p3?.ownerId).toBe("cy");
    expect(p3?.history.map((h) => h.type)).toEqual(["ticket.queued", "offer.made", "offer.closed", "offer.made", "ticket.assigned"]);
    // One guarded write per ticket, not one per event.
    expect(p3?.viewRevision).toBe(1);
    expect((await store.get("p-4"))?.status).toBe("offered");
    // The whole batch again (a retry after a failure elsewhere): nothing changes, nothing is written.
    await projectBatch(store, batch);
    expect(await store.get("p-3")).toEqual(p3);
  });

  it("loses no event when batches of one ticket are written at the same time", async () => {
    await newTicket("p-5");
    const agents = Array.from({ length: 12 }, (_, i) => `agent-${i}`);
    const added = agents.map((agentId) => newEnvelope("collaboratorAdded", "p-5", { agentId, reason: "help", ownerId: "" }, "escalation"));
    // Twelve single-event batches racing each other, like partitions of different topics.
    await Promise.all(added.map((e) => projectBatch(store, [e])));
    const doc = await store.get("p-5");
    expect([...(doc?.collaborators ?? [])].sort()).toEqual([...agents].sort());
    expect(doc?.history).toHaveLength(12);
  });

  it("acknowledges once, in the triaged language, when a batch holds the triage twice", async () => {
    await newTicket("p-6", "fr");
    const triaged = (eventId: string, retriage: boolean) =>
      newEnvelope(
        "ticketTriaged",
        "p-6",
        { ...TicketTriaged.fromJSON({}), language: "de", intent: "billing", priority: Priority.P3, group: "billing", retriage, channel: Channel.EMAIL, customerId: "c" },
        "triage",
        { eventId },
      );
    const first = triaged("22222222-0000-4000-8000-000000000001", false);
    await projectBatch(store, [first, first, triaged("22222222-0000-4000-8000-000000000002", true)], bus);
    await projectBatch(store, [first], bus);
    const ack = await waitFor(() => log.ofTicket("p-6", Topics.outbound)[0], { timeoutMs: 60_000, what: "acknowledgement" });
    expect(ack.envelope.payload?.$case === "notification" ? ack.envelope.payload.value.language : undefined).toBe("de");
    const doc = await store.get("p-6");
    expect(doc?.status).toBe("triaged");
    expect(doc?.history.map((h) => h.type)).toEqual(["ticket.triaged", "ticket.triaged", "notification"]);
    // Triage and acknowledgement went into the same write.
    expect(doc?.viewRevision).toBe(1);
    await sleep(1000);
    expect(log.ofTicket("p-6", Topics.outbound)).toHaveLength(1);
  }, 120_000);
});

function routingEvent(type: "ticketQueued" | "offerMade" | "offerClosed" | "ticketAssigned", ticketId: string, value: Record<string, unknown>) {
  return newEnvelope(type, ticketId, value as never, "routing");
}
