// Intake over the real broker and store: a 202 means the event is on Kafka, re-deliveries are
// answered with the original ticket, follow-ups thread onto their ticket in order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, type EventBus, type IncomingEvent } from "@steward/messaging";
import { Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";

const t = isolatedEnv("intake");
let intake: RunningIntake;
let bus: EventBus;
const received: IncomingEvent[] = [];

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "intake-test", topicPrefix: t.topicPrefix });
  await bus.subscribe({ groupId: "intake-test-reader", topics: [Topics.received], handler: async (e) => void received.push(e) });
});

afterAll(async () => {
  await intake?.close();
  await bus?.close();
});

const post = (path: string, body: unknown) => fetch(`${intake.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("intake", () => {
  it("accepts a ticket, publishes ticket.received and shows the ticket", async () => {
    const res = await post("/v1/tickets", {
      channel: "email",
      externalId: "mail-1",
      customer: { id: "c-1", name: "Ana", email: "ana@example.com" },
      subject: "Refund for order 1234",
      body: "Hello, I was charged twice for order 1234. Please refund one payment.",
    });
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };
    const event = await waitFor(() => received.find((e) => e.envelope.ticketId === ticketId), { what: "ticket.received on Kafka" });
    expect(event.envelope.type).toBe("ticket.received");
    expect(event.key).toBe(ticketId);
    expect(event.envelope.producer).toBe("intake");
    const got = await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`);
    expect(got.status).toBe(200);
    const ticket = (await got.json()) as { id: string; channel: string; messages: Array<{ body: string }>; status: string };
    expect(ticket.id).toBe(ticketId);
    expect(ticket.channel).toBe("email");
    expect(ticket.messages[0]?.body).toContain("charged twice");
  });

  it("answers a re-delivered externalId with the original ticket and creates nothing new", async () => {
    const body = { channel: "chat", externalId: "chat-42", customer: { id: "c-2" }, body: "my app crashes on start" };
    const first = (await (await post("/v1/tickets", body)).json()) as { ticketId: string };
    const second = await post("/v1/tickets", { ...body, body: "a changed body must not make a new ticket" });
    expect(second.status).toBe(202);
    const dup = (await second.json()) as { ticketId: string; duplicate: boolean };
    expect(dup.ticketId).toBe(first.ticketId);
    expect(dup.duplicate).toBe(true);
    await waitFor(() => received.some((e) => e.envelope.ticketId === first.ticketId), { what: "first event" });
    // Give a wrongly published second event time to arrive before counting.
    await new Promise((r) => setTimeout(r, 1500));
    const events = received.filter((e) => e.envelope.ticketId === first.ticketId);
    expect(new Set(events.map((e) => e.envelope.eventId)).size).toBe(1);
  });

  it("answers one delivery racing into two instances with one ticket, and every event published for it is the same event", async () => {
    // A new ticket's delivery record and its event go out side by side (ADR 0019): requests that lose the
    // record's race may have published too, so their events must be the winner's, id for id.
    const second = await startIntake(loadIntakeConfig(t.env));
    try {
      const body = { channel: "social", externalId: "race-1", customer: { id: "c-race" }, body: "both of you got this" };
      const urls = [intake.httpUrl, second.httpUrl];
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fetch(`${urls[i % 2]}/v1/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
      const ids = new Set(await Promise.all(answers.map(async (a) => ((await a.json()) as { ticketId: string }).ticketId)));
      expect(ids.size).toBe(1);
      const ofDelivery = () => received.filter((e) => e.envelope.payload?.$case === "ticketReceived" && e.envelope.payload.value.externalId === "race-1");
      await waitFor(() => ofDelivery().length > 0 || undefined, { what: "the race's ticket.received" });
      await new Promise((r) => setTimeout(r, 1500));
      expect(new Set(ofDelivery().map((e) => e.envelope.ticketId))).toEqual(ids);
      expect(new Set(ofDelivery().map((e) => e.envelope.eventId)).size).toBe(1);
      const [ticketId] = [...ids];
      const view = await waitFor(
        async () => {
          const res = await fetch(`${second.httpUrl}/v1/tickets/${ticketId}`);
          return res.status === 200 ? ((await res.json()) as { messages: unknown[] }) : undefined;
        },
        { what: "the race's ticket view" },
      );
      expect(view.messages).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("threads follow-ups onto the ticket in order", async () => {
    const first = (await (
      await post("/v1/tickets", { channel: "web", externalId: "form-7", customer: { id: "c-3" }, subject: "Delivery late", body: "where is my parcel?" })
    ).json()) as { ticketId: string };
    const reply = await post(`/v1/tickets/${first.ticketId}/messages`, { externalId: "form-7-r1", from: "customer", body: "still nothing today" });
    expect(reply.status).toBe(202);
    const byEmail = await post("/v1/tickets", { channel: "email", externalId: "mail-88", customer: { id: "c-3" }, subject: "RE: Delivery late", body: "any news?" });
    const joined = (await byEmail.json()) as { ticketId: string; followUp: boolean };
    expect(joined.ticketId).toBe(first.ticketId);
    expect(joined.followUp).toBe(true);
    const ticket = (await (await fetch(`${intake.httpUrl}/v1/tickets/${first.ticketId}`)).json()) as { messages: Array<{ body: string; sequence: number; channel: string }> };
    expect(ticket.messages.map((m) => m.body)).toEqual(["where is my parcel?", "still nothing today", "any news?"]);
    expect(ticket.messages.map((m) => m.channel)).toEqual(["web", "web", "email"]);
  });

  it("rejects bad input with a stable code", async () => {
    const unknownChannel = await post("/v1/tickets", { channel: "fax", externalId: "x", customer: { id: "c" }, body: "hi" });
    expect(unknownChannel.status).toBe(400);
    expect(((await unknownChannel.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    const badJson = await fetch(`${intake.httpUrl}/v1/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe("INVALID_JSON");
    const missing = await fetch(`${intake.httpUrl}/v1/tickets/does-not-exist`);
    expect(missing.status).toBe(404);
  });
});
