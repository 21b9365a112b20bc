// The EventBus contract, run against every Kafka client implementation over the real broker.
import { afterAll, describe, expect, it } from "vitest";
import { Envelope, Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { createKafkaJsBus } from "./kafkajs-bus.ts";
import { createPlatformaticBus } from "./platformatic-bus.ts";
import { newEnvelope } from "./envelope.ts";
import type { BusOptions, EventBus, IncomingEvent } from "./event-bus.ts";
import { KafkaUnavailableError } from "./errors.ts";

const implementations: Array<[string, (o: BusOptions) => EventBus]> = [
  ["kafkajs", createKafkaJsBus],
  ["platformatic", createPlatformaticBus],
];

describe.each(implementations)("EventBus over %s", (_name, create) => {
  const t = isolatedEnv("bus");
  const buses: EventBus[] = [];
  const bus = (extra: Partial<BusOptions> = {}) => {
    const b = create({ brokers: t.brokers, clientId: "bus-test", topicPrefix: t.topicPrefix, partitions: 3, ...extra });
    buses.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
  });

  it("creates its topics idempotently and answers a metadata ping", async () => {
    const b = bus();
    await b.ensureTopics();
    await b.ensureTopics();
    await b.ping();
    expect(b.topicName(Topics.received)).toBe(`${t.topicPrefix}${Topics.received}`);
  });

  it("delivers every published event once a publish resolves, keyed by ticket, in order per ticket", async () => {
    const producer = bus();
    await producer.ensureTopics();
    const got: IncomingEvent[] = [];
    const consumer = bus();
    await consumer.subscribe({ groupId: "order-check", topics: [Topics.received], handler: async (e) => void got.push(e) });
    const tickets = ["t-a", "t-b", "t-c", "t-d"];
    const sent: Envelope[] = [];
    for (let i = 0; i < 40; i += 1) {
      const ticketId = tickets[i % tickets.length] as string;
      sent.push(newEnvelope("ticketQueued", ticketId, { group: "g", priority: 1, reason: String(i) }, "test"));
    }
    await Promise.all(sent.map((envelope) => producer.publish({ topic: Topics.received, envelope })));
    await waitFor(() => got.length >= sent.length, { what: "all 40 events", timeoutMs: 30_000 });
    for (const ticketId of tickets) {
      const reasons = got.filter((e) => e.envelope.ticketId === ticketId).map((e) => (e.envelope.payload?.$case === "ticketQueued" ? Number(e.envelope.payload.value.reason) : -1));
      expect(reasons).toEqual([...reasons].sort((a, b) => a - b));
      expect(got.find((e) => e.envelope.ticketId === ticketId)?.key).toBe(ticketId);
    }
    const first = got[0] as IncomingEvent;
    expect(first.envelope.producer).toBe("test");
    expect(first.envelope.occurredAt).toBeInstanceOf(Date);
    expect(first.headers["traceparent"] ?? "").toMatch(/^$|^00-/);
  });

  it("retries a failing handler and then dead-letters the event without blocking the next one", async () => {
    const b = bus();
    await b.ensureTopics();
    let attempts = 0;
    const handled: string[] = [];
    await b.subscribe({
      groupId: "dlq-check",
      topics: [Topics.triaged],
      maxAttempts: 3,
      handler: async (e) => {
        if (e.envelope.ticketId === "poison") {
          attempts += 1;
          throw new Error("cannot handle this one");
        }
        handled.push(e.envelope.ticketId);
      },
    });
    const dead: IncomingEvent[] = [];
    await b.subscribe({ groupId: "dlq-reader", topics: [Topics.deadLetter], handler: async (e) => void dead.push(e) });
    await b.publish({ topic: Topics.triaged, envelope: newEnvelope("ticketQueued", "poison", { group: "g", priority: 1, reason: "x" }, "test") });
    await b.publish({ topic: Topics.triaged, key: "poison", envelope: newEnvelope("ticketQueued", "after-poison", { group: "g", priority: 1, reason: "y" }, "test") });
    await waitFor(() => handled.includes("after-poison"), { what: "the event after the poison one", timeoutMs: 30_000 });
    expect(attempts).toBe(3);
    await waitFor(() => dead.some((e) => e.envelope.ticketId === "poison"), { what: "poison event in dead letters", timeoutMs: 30_000 });
    expect(dead.find((e) => e.envelope.ticketId === "poison")?.headers["steward-dlq-reason"]).toBe("handler");
  });

  it("hands a group over after a clean stop: the next consumer starts after the last handled event", async () => {
    const producer = bus();
    await producer.ensureTopics();
    const publishBatch = (from: number) =>
      producer.publish(Array.from({ length: 10 }, (_, i) => ({ topic: Topics.routing, envelope: newEnvelope("ticketQueued", `h-${from + i}`, { group: "g", priority: 1, reason: "" }, "test") })));
    const first: string[] = [];
    const sub = await bus().subscribe({ groupId: "handover-check", topics: [Topics.routing], handler: async (e) => void first.push(e.envelope.ticketId) });
    await publishBatch(0);
    await waitFor(() => first.length >= 10, { what: "the first ten events", timeoutMs: 30_000 });
    await sub.stop();
    await publishBatch(10);
    const second: string[] = [];
    await bus().subscribe({ groupId: "handover-check", topics: [Topics.routing], handler: async (e) => void second.push(e.envelope.ticketId) });
    const later = Array.from({ length: 10 }, (_, i) => `h-${10 + i}`);
    await waitFor(() => later.every((id) => second.includes(id)), { what: "the ten events published after the stop", timeoutMs: 30_000 });
    expect(second.filter((id) => first.includes(id))).toEqual([]);
  });

  it("fails a publish with KafkaUnavailableError when no broker answers", async () => {
    const b = create({ brokers: ["127.0.0.1:1"], clientId: "nobody", publishTimeoutMs: 1_500 });
    buses.push(b);
    await expect(b.publish({ topic: Topics.received, envelope: newEnvelope("ticketQueued", "x", { group: "g", priority: 1, reason: "" }, "test") })).rejects.toBeInstanceOf(KafkaUnavailableError);
  });
});

describe("EventBus clients side by side", () => {
  const t = isolatedEnv("bus-mixed");
  const buses: EventBus[] = [];
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
  });

  it("lets a kafkajs and a platformatic consumer share one group without losing an event", async () => {
    const make = (create: (o: BusOptions) => EventBus) => {
      const b = create({ brokers: t.brokers, clientId: "bus-mixed", topicPrefix: t.topicPrefix, partitions: 6 });
      buses.push(b);
      return b;
    };
    const producer = make(createKafkaJsBus);
    await producer.ensureTopics();
    const seen: Array<{ by: string; id: string }> = [];
    const subscribe = (by: string, b: EventBus) => b.subscribe({ groupId: "mixed", topics: [Topics.escalation], handler: async (e) => void seen.push({ by, id: e.envelope.ticketId }) });
    await subscribe("kafkajs", make(createKafkaJsBus));
    await subscribe("platformatic", make(createPlatformaticBus));
    // Keep publishing until both members have been given partitions (the group settles after a rebalance).
    const ids: string[] = [];
    await waitFor(
      async () => {
        const batch = Array.from({ length: 12 }, (_, i) => `m-${ids.length + i}`);
        ids.push(...batch);
        await producer.publish(batch.map((id) => ({ topic: Topics.escalation, envelope: newEnvelope("ticketQueued", id, { group: "g", priority: 1, reason: "" }, "test") })));
        await new Promise((r) => setTimeout(r, 500));
        return new Set(seen.map((s) => s.by)).size === 2;
      },
      { what: "events handled by both clients", timeoutMs: 45_000 },
    );
    await waitFor(() => ids.every((id) => seen.some((s) => s.id === id)), { what: "every event handled", timeoutMs: 30_000 });
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
    // At least once: a rebalance may repeat a few events, never lose one.
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
  });
});
