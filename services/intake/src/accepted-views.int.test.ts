// A new ticket's view written behind (ADR 0015), over the real broker and store: intake answers once the
// event is on Kafka, and the view, its thread links and the customer's keys reach the store with the next
// flush. Until then the instance that accepted the ticket answers for it from memory: reads by id,
// follow-ups by id, thread and topic, the same customer's next ticket, a re-delivery. The events that
// came for the ticket meanwhile go into the same insert. Another instance finds a ticket named by id once
// the first has flushed.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "@steward/telemetry";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Priority, TicketTriaged, Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { TicketStore, type TicketDoc } from "./ticket-store.ts";
import { TicketViews } from "./ticket-views.ts";
import { CustomerStore } from "./customer-store.ts";
import { projectBatch, ViewWriter } from "./projector.ts";
import { acceptedTicketDoc } from "./accepted-view.ts";
import { channelThreadKey } from "./domain/submission.ts";
import { EventLog, postJson, ticketReceivedEvent } from "../test-support/test-support.ts";

const t = isolatedEnv("intake-accepted-views");
let conn: Store;
let bus: EventBus;
let log: EventLog;
const running: RunningIntake[] = [];

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "accepted-views-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  log = await EventLog.start(bus, "accepted-views-reader", [Topics.received]);
});

afterAll(async () => {
  for (const r of running) await r.close().catch(() => undefined); // those a failed test left running
  await bus?.close();
  await conn?.close();
});

async function intake(flushMs: number): Promise<RunningIntake> {
  const r = await startIntake(loadIntakeConfig({ ...t.env, INTAKE_VIEW_FLUSH_MS: String(flushMs) }));
  running.push(r);
  return r;
}

/** Stops an instance (a clean stop writes what waits) and forgets it. */
async function stop(...instances: RunningIntake[]): Promise<void> {
  for (const r of instances) running.splice(running.indexOf(r), 1);
  await Promise.all(instances.map((r) => r.close()));
}

const storedView = (id: string) => conn.db.collection<TicketDoc>("intake_tickets").findOne({ _id: id });

describe("a new ticket's view written behind", () => {
  // A flush interval far longer than the test: nothing is written unless something asks for it.
  const HOLD_MS = 120_000;

  it("answers before the view is stored, serves it from memory, and writes it before a follow-up changes it", async () => {
    const a = await intake(HOLD_MS);
    const res = await postJson(a.httpUrl, "/v1/tickets", {
      channel: "chat",
      externalId: "av-1",
      threadId: "chat-session-77",
      customer: { id: "c-av1", email: "av1@example.com" },
      subject: "Cannot log in",
      body: "The app logs me out every minute.",
    });
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };
    await waitFor(() => log.on(Topics.received).some((e) => e.envelope.ticketId === ticketId) || undefined, { what: "the ticket's event" });
    // On Kafka, not in the store yet; the instance answers for it.
    expect(await storedView(ticketId)).toBeNull();
    const got = await fetch(`${a.httpUrl}/v1/tickets/${ticketId}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { subject: string }).subject).toBe("Cannot log in");

    // The same customer writes again on the chat thread: it joins the ticket (found through the link
    // that is not stored yet), and the view is written first so the message lands in it.
    const again = await postJson(a.httpUrl, "/v1/tickets", {
      channel: "chat",
      externalId: "av-2",
      threadId: "chat-session-77",
      customer: { id: "c-av1", email: "av1@example.com" },
      body: "Still happening.",
    });
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ ticketId, followUp: true });
    const view = await storedView(ticketId);
    expect(view?.messages.map((m) => m.body)).toEqual(["The app logs me out every minute.", "Still happening."]);
    expect(await conn.db.collection<{ _id: string; ticketId: string }>("intake_threads").findOne({ _id: channelThreadKey("chat", "chat-session-77") })).toMatchObject({ ticketId });
    // A member holding batches for a long flush would slow the next test's group join: leave now.
    await stop(a);
  });

  it("gives the same customer's next ticket the same customer record, and answers a re-delivery with the original ticket", async () => {
    const a = await intake(HOLD_MS);
    const first = (await (
      await postJson(a.httpUrl, "/v1/tickets", {
        channel: "email",
        externalId: "av-3",
        customer: { id: "c-av3", email: "same@example.com" },
        subject: "Invoice",
        body: "Where is my invoice?",
      })
    ).json()) as { ticketId: string };
    const secondRes = await postJson(a.httpUrl, "/v1/tickets", {
      channel: "chat",
      externalId: "av-4",
      customer: { id: "c-av3-chat", email: "same@example.com" },
      subject: "Delivery",
      body: "Where is my parcel?",
    });
    expect(secondRes.status).toBe(202);
    const second = (await secondRes.json()) as { ticketId: string; followUp: boolean };
    expect(second).toMatchObject({ followUp: false });
    expect(second.ticketId).not.toBe(first.ticketId);
    const redelivered = await postJson(a.httpUrl, "/v1/tickets", {
      channel: "email",
      externalId: "av-3",
      customer: { id: "c-av3", email: "same@example.com" },
      subject: "Invoice",
      body: "Where is my invoice?",
    });
    expect(await redelivered.json()).toMatchObject({ ticketId: first.ticketId, duplicate: true });
    await stop(a); // a clean stop writes what waits
    const [one, two] = await Promise.all([storedView(first.ticketId), storedView(second.ticketId)]);
    expect(one?.customerId).toBeDefined();
    expect(two?.customerId).toBe(one?.customerId);
    expect(log.on(Topics.received).filter((e) => e.envelope.payload?.$case === "ticketReceived" && e.envelope.payload.value.externalId === "av-3")).toHaveLength(1);
  });

  it("inserts the view with the events that came for it in the same flush, without a second write", async () => {
    // The writer itself, on its own store connection whose commands are counted.
    const registry = createMetricsRegistry("accepted-fold-test");
    const counted = await connectStore(t.mongoUri, t.database, { metrics: registry });
    try {
      const store = new TicketStore(counted.db);
      const views = new TicketViews(store);
      const writer = new ViewWriter({ store, views, customers: new CustomerStore(counted.db), bus }, { flushMs: HOLD_MS });
      const ticketId = randomUUID();
      const received = ticketReceivedEvent(ticketId, "av-5");
      const doc = acceptedTicketDoc(received, "cus-av5", new Date());
      if (!doc) throw new Error("no view for a ticket.received");
      writer.accepted({ doc, threadLinks: [`ref:${ticketId}`], customer: { customerId: "cus-av5", keys: [{ key: `id:${ticketId}`, kind: "id" }] } }, (err) => {
        throw err;
      });
      const triaged = newEnvelope(
        "ticketTriaged",
        ticketId,
        { ...TicketTriaged.fromJSON({}), language: "en", intent: "billing", priority: Priority.P3, group: "billing", retriage: false, channel: Channel.API, customerId: "c-wb" },
        "triage",
      );
      // The projector's events of this ticket, in hand before the flush.
      const projected = writer.project([received, triaged]);
      expect(await storedView(ticketId)).toBeNull();
      await writer.close();
      await projected;
      const view = await storedView(ticketId);
      expect(view?.status).toBe("triaged");
      expect(view?.history.map((h) => h.type)).toEqual(["ticket.received", "ticket.triaged", "notification"]);
      const commands = (await registry.getSingleMetric("steward_store_command_duration_seconds")?.get())?.values ?? [];
      const count = (command: string) =>
        commands
          .filter((v) => (v as { metricName?: string }).metricName?.endsWith("_count") && v.labels["command"] === command && v.labels["outcome"] === "ok")
          .reduce((a, v) => a + v.value, 0);
      // Threads, customer keys, the customer and the view: four inserts, no update.
      expect(count("insert")).toBe(4);
      expect(count("update")).toBe(0);
      // The same commands by collection, with the documents each carried.
      const statements = (await registry.getSingleMetric("steward_store_statements_total")?.get())?.values ?? [];
      const inserted = Object.fromEntries(statements.filter((v) => v.labels["command"] === "insert").map((v) => [v.labels["collection"], v.value]));
      expect(inserted).toEqual({ intake_threads: 1, intake_customer_keys: 1, intake_customers: 1, intake_tickets: 1 });
      const timedInserts = commands.filter((v) => (v as { metricName?: string }).metricName?.endsWith("_count") && v.labels["command"] === "insert");
      expect(timedInserts.map((v) => v.labels["collection"]).sort()).toEqual(["intake_customer_keys", "intake_customers", "intake_threads", "intake_tickets"]);
    } finally {
      await counted.close();
    }
  });

  it("holds a new view back until it is one flush interval old, so the events that come meanwhile go into its insert", async () => {
    const registry = createMetricsRegistry("accepted-wait-test");
    const counted = await connectStore(t.mongoUri, t.database, { metrics: registry });
    const count = async (command: string) =>
      ((await registry.getSingleMetric("steward_store_command_duration_seconds")?.get())?.values ?? [])
        .filter((v) => (v as { metricName?: string }).metricName?.endsWith("_count") && v.labels["command"] === command && v.labels["outcome"] === "ok")
        .reduce((a, v) => a + v.value, 0);
    try {
      const store = new TicketStore(counted.db);
      const views = new TicketViews(store);
      const writer = new ViewWriter({ store, views, customers: new CustomerStore(counted.db), bus }, { flushMs: 300 });
      const accept = (ticketId: string, externalId: string) => {
        const received = ticketReceivedEvent(ticketId, externalId);
        const doc = acceptedTicketDoc(received, `cus-${externalId}`, new Date());
        if (!doc) throw new Error("no view for a ticket.received");
        writer.accepted({ doc, threadLinks: [`ref:${ticketId}`] }, (err) => {
          throw err;
        });
        return received;
      };
      const triagedOf = (ticketId: string) =>
        newEnvelope(
          "ticketTriaged",
          ticketId,
          { ...TicketTriaged.fromJSON({}), language: "en", intent: "billing", priority: Priority.P3, group: "billing", retriage: false, channel: Channel.API, customerId: "c-wb" },
          "triage",
        );
      // Another ticket's event opens a flush interval; the new ticket is accepted a third of it later.
      const other = writer.project([triagedOf(randomUUID())]);
      await new Promise((r) => setTimeout(r, 100));
      const ticketId = randomUUID();
      const received = accept(ticketId, "av-10");
      // That flush landed without the view (younger than an interval then): held back, in memory.
      await other;
      expect(await storedView(ticketId)).toBeNull();
      expect(writer.pendingView(ticketId)?._id).toBe(ticketId);
      const [inserts, updates] = [await count("insert"), await count("update")];
      // Its events come meanwhile: the next flush inserts the view with them folded in.
      await writer.project([received, triagedOf(ticketId)]);
      const view = await storedView(ticketId);
      expect(view?.history.map((h) => h.type)).toEqual(["ticket.received", "ticket.triaged", "notification"]);
      expect((await count("insert")) - inserts).toBe(2); // the thread link and the view
      expect((await count("update")) - updates).toBe(0);
      // A view nothing more comes for is written once an interval old.
      const quiet = randomUUID();
      accept(quiet, "av-11");
      await waitFor(async () => (await storedView(quiet)) ?? undefined, { what: "the quiet ticket's view" });
      expect(writer.pendingView(quiet)).toBeUndefined();
      await writer.close();
    } finally {
      await counted.close();
    }
  });

  it("writes the view of a ticket.received it commits even when the new view is held in memory for a later flush", async () => {
    // The pipeline handed the view over after the flush holding the ticket's event began: the event is
    // committed once this flush lands, so this flush must write the view (a crash before the next would
    // otherwise leave the ticket without one).
    const store = new TicketStore(conn.db);
    const views = new TicketViews(store);
    const ticketId = randomUUID();
    const received = ticketReceivedEvent(ticketId, "av-9");
    const doc = acceptedTicketDoc(received, "cus-av9", new Date());
    if (!doc) throw new Error("no view for a ticket.received");
    views.remember(doc); // in memory only, as the pipeline leaves it until the next flush
    await projectBatch(store, [received], undefined, views, (id) => id === ticketId);
    expect((await storedView(ticketId))?.messages.map((m) => m.externalId)).toEqual(["av-9"]);
  });

  it("lets another instance find a ticket named by id once the instance that accepted it has flushed", async () => {
    const a = await intake(1_000);
    const b = await intake(1_000);
    const { ticketId } = (await (
      await postJson(a.httpUrl, "/v1/tickets", { channel: "chat", externalId: "av-6", customer: { id: "c-av6" }, subject: "Hello", body: "First message." })
    ).json()) as { ticketId: string };
    // At once, on the other instance: not stored yet, so it looks again after the flush interval.
    const followUp = await postJson(b.httpUrl, "/v1/tickets", { channel: "chat", externalId: "av-7", ticketId, customer: { id: "c-av6" }, body: "Second message." });
    expect(followUp.status).toBe(202);
    expect(await followUp.json()).toMatchObject({ ticketId, followUp: true });
    const missing = await postJson(b.httpUrl, "/v1/tickets", { channel: "chat", externalId: "av-8", ticketId: "no-such-ticket", customer: { id: "c-av6" }, body: "Hello?" });
    expect(missing.status).toBe(404);
    await stop(a, b);
  });
});
