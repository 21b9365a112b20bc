// The ticket view's write-behind and its order-independence over the real store and broker (ADR 0015):
// a triage that reaches the projector before the ticket's view is parked and acknowledged once the view
// exists; a ticket.received whose view intake never wrote is completed from the delivery record; one
// ticket's events gathered in one flush land in one write; and a projector killed while events wait in
// its buffer loses none of them (their offsets were not committed).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { Channel, Envelope, OfferMade, Priority, TicketAssigned, TicketQueued, TicketTriaged, Topics } from "@steward/proto";
import { isolatedEnv, uniqueName, waitFor } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { projectBatch, startProjector } from "./projector.ts";
import { emptyProjection } from "./domain/ticket-view.ts";
import { deliveryKey } from "./domain/submission.ts";
import { ticketReference } from "./domain/acknowledgement.ts";
import { referenceThreadKey } from "./domain/customer-identity.ts";
import { EventLog, sleep, ticketReceivedEvent as received } from "../test-support/test-support.ts";

const t = isolatedEnv("intake-write-behind");
let conn: Store;
let store: TicketStore;
let bus: EventBus;
let log: EventLog;
const running: Subscription[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "write-behind-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  log = await EventLog.start(bus, "write-behind-reader", [Topics.outbound]);
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const s of running) await s.stop();
  await bus?.close();
  await conn?.close();
});

const triaged = (ticketId: string, language = "de") =>
  newEnvelope(
    "ticketTriaged",
    ticketId,
    { ...TicketTriaged.fromJSON({}), language, intent: "billing", priority: Priority.P3, group: "billing", retriage: false, channel: Channel.EMAIL, customerId: "c" },
    "triage",
  );

async function newView(id: string) {
  const now = new Date();
  await store.createTicket({
    _id: id,
    channel: "email",
    customer: { id: "c", email: "c@example.com" },
    subject: null,
    topic: null,
    ...emptyProjection(),
    metadata: {},
    channelRefs: {},
    messageCount: 1,
    messages: [],
    history: [],
    createdAt: now,
    updatedAt: now,
  });
}

const acksOf = (ticketId: string) =>
  log.ofTicket(ticketId, Topics.outbound).filter((e) => e.envelope.payload?.$case === "notification" && e.envelope.payload.value.kind === "acknowledgement");

describe("ticket view write-behind", () => {
  it("parks a triage that comes before the view, and acknowledges once the view exists", async () => {
    const id = uniqueName("wb-early");
    await projectBatch(store, [triaged(id)], bus);
    // Readers see no ticket yet; nothing could be acknowledged without the channel and customer.
    expect(await store.get(id)).toBeNull();
    expect(acksOf(id)).toHaveLength(0);
    // Intake writes the view late; the ticket.received that follows it is what sends the acknowledgement.
    const first = received(id, uniqueName("wb-early-ext"));
    await store.createTicket({
      _id: id,
      channel: "email",
      customer: { id: "c-wb", email: "wb@example.com", tier: "standard" },
      subject: "Charged twice",
      topic: "charged twice",
      ...emptyProjection(),
      metadata: {},
      channelRefs: {},
      messageCount: 1,
      messages: [],
      history: [{ eventId: first.eventId, type: first.type, at: new Date() }],
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await projectBatch(store, [first], bus);
    const doc = await store.get(id);
    expect(doc?.status).toBe("triaged");
    expect(doc?.language).toBe("de");
    expect(doc?.customer.email).toBe("wb@example.com");
    expect(doc?.history.map((h) => h.type)).toEqual(["ticket.received", "ticket.triaged", "notification"]);
    const ack = await waitFor(() => acksOf(id)[0], { timeoutMs: 60_000, what: "acknowledgement" });
    expect(ack.envelope.payload?.$case === "notification" ? ack.envelope.payload.value.language : undefined).toBe("de");
  }, 120_000);

  it("completes the view of a published ticket whose view intake never wrote, from its delivery record", async () => {
    const id = uniqueName("wb-orphan");
    const externalId = uniqueName("wb-orphan-ext");
    const event = received(id, externalId);
    // What intake records before it publishes; then it "dies": no thread links, no customer keys, no view.
    await store.recordDelivery({
      _id: deliveryKey("dev", externalId),
      ticketId: id,
      messageId: `${id}-m1`,
      kind: "ticket",
      envelope: Buffer.from(Envelope.encode(event).finish()),
      threadLinks: [referenceThreadKey(ticketReference(id))],
      customerId: "cus-orphan",
      customerKeys: [],
      createdAt: new Date(),
    });
    await projectBatch(store, [triaged(id, "fr"), event], bus);
    const doc = await store.get(id);
    expect(doc).toMatchObject({ status: "triaged", customerId: "cus-orphan", integrationId: "dev", subject: "Charged twice" });
    expect(doc?.messages.map((m) => m.body)).toEqual(["My card was charged twice."]);
    expect((await store.findByReference(ticketReference(id)))?._id).toBe(id);
    await waitFor(() => acksOf(id)[0], { timeoutMs: 60_000, what: "acknowledgement" });
  }, 120_000);

  it("writes one ticket's events gathered in one flush with one write", async () => {
    const id = uniqueName("wb-flush");
    await newView(id);
    await bus.publish([
      { topic: Topics.triaged, envelope: triaged(id) },
      { topic: Topics.routing, envelope: newEnvelope("ticketQueued", id, TicketQueued.fromJSON({ group: "billing", reason: "no agent free" }), "routing") },
      { topic: Topics.routing, envelope: newEnvelope("offerMade", id, OfferMade.fromJSON({ agentId: "ana", offerId: "o1" }), "routing") },
      { topic: Topics.routing, envelope: newEnvelope("ticketAssigned", id, TicketAssigned.fromJSON({ agentId: "ana", offerId: "o1", channel: 1 }), "routing") },
    ]);
    // Published before the group joins, so the first fetch holds them all, well inside one flush interval.
    const projector = await startProjector(bus, store, uniqueName("wb-flush-group"), { flushMs: 10_000 });
    const doc = await waitFor(async () => ((await store.get(id))?.status === "assigned" ? store.get(id) : undefined), { timeoutMs: 60_000, what: "assigned view" });
    await projector.stop();
    expect(doc?.ownerId).toBe("ana");
    // Kafka orders events within a partition only: triage's topic may be folded before or after routing's
    // (a late triage does not move an assigned ticket back), so the history is compared as a set.
    expect(doc?.history.map((h) => h.type).sort()).toEqual(["notification", "offer.made", "ticket.assigned", "ticket.queued", "ticket.triaged"]);
    expect(doc?.viewRevision).toBe(1);
  }, 120_000);

  it("loses nothing when the projector dies with events in its buffer", async () => {
    const id = uniqueName("wb-crash");
    const group = uniqueName("wb-crash-group");
    await newView(id);
    const child = spawn(process.execPath, [fileURLToPath(new URL("../test-support/projector-process.ts", import.meta.url))], {
      env: { ...process.env, ...t.env, PROJECTOR_GROUP: group, PROJECTOR_FLUSH_MS: "600000" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    await waitFor(() => (child.stdout?.read() as Buffer | null)?.toString().includes("ready") || undefined, { timeoutMs: 60_000, what: "projector process" });
    await bus.publish({ topic: Topics.triaged, envelope: triaged(id) });
    // It consumes the triage and holds it for its (ten-minute) flush: the view does not show it.
    await sleep(5_000);
    expect((await store.get(id))?.status).toBe("new");
    child.kill("SIGKILL");
    await once(child, "exit");
    // A new projector in the same group gets the uncommitted event again.
    running.push(await startProjector(bus, store, group, { flushMs: 100 }));
    const doc = await waitFor(async () => ((await store.get(id))?.status === "triaged" ? store.get(id) : undefined), { timeoutMs: 90_000, what: "triaged view" });
    expect(doc?.history.map((h) => h.type)).toEqual(["ticket.triaged", "notification"]);
  }, 150_000);
});
