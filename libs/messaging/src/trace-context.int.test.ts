// Trace context over the real broker, for both clients: a record carries its producer span's
// traceparent, the consumer's span is that span's child, and a batch handler working for several
// tickets at once publishes each ticket's next event in that ticket's own trace.
import { afterAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { Topics } from "@steward/proto";
import { startTelemetry, withSpan } from "@steward/telemetry";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { createKafkaJsBus } from "./kafkajs-bus.ts";
import { createPlatformaticBus } from "./platformatic-bus.ts";
import { newEnvelope } from "./envelope.ts";
import type { BusOptions, EventBus, IncomingEvent } from "./event-bus.ts";

const exporter = new InMemorySpanExporter();
const stopTelemetry = await startTelemetry("trace-test", process.env, { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
afterAll(() => stopTelemetry());

const implementations: Array<[string, (o: BusOptions) => EventBus]> = [
  ["kafkajs", createKafkaJsBus],
  ["platformatic", createPlatformaticBus],
];

const spansOf = (ticketId: string, name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name && s.attributes["steward.ticket_id"] === ticketId);

describe.each(implementations)("trace context over %s", (client, create) => {
  const t = isolatedEnv(`trace-${client}`);
  const buses: EventBus[] = [];
  const bus = () => {
    const b = create({ brokers: t.brokers, clientId: "trace-test", topicPrefix: t.topicPrefix, partitions: 1 });
    buses.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
  });

  it("sends traceparent in the record's headers and makes the consumer's span the producer span's child", async () => {
    const producer = bus();
    await producer.ensureTopics();
    const got: IncomingEvent[] = [];
    await bus().subscribe({ groupId: "trace-one", topics: [Topics.received], handler: async (e) => void got.push(e) });
    const ticketId = `${client}-one`;
    await withSpan("request", {}, () =>
      producer.publish({ topic: Topics.received, envelope: newEnvelope("ticketQueued", ticketId, { group: "g", priority: 1, reason: "r" }, "test") }),
    );
    await waitFor(() => got.length >= 1 && spansOf(ticketId, "process ticket.queued").length >= 1, { what: "the consumer's span" });

    const [sent] = spansOf(ticketId, "send ticket.queued");
    const [processed] = spansOf(ticketId, "process ticket.queued");
    const request = exporter.getFinishedSpans().find((s) => s.name === "request" && s.spanContext().traceId === sent?.spanContext().traceId);
    expect(sent?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(got[0]?.headers["traceparent"]).toBe(`00-${sent?.spanContext().traceId}-${sent?.spanContext().spanId}-01`);
    expect(processed?.parentSpanContext?.spanId).toBe(sent?.spanContext().spanId);
    expect(processed?.spanContext().traceId).toBe(sent?.spanContext().traceId);
  });

  it("keeps each ticket of a batch in its own trace through what the batch handler publishes", async () => {
    const producer = bus();
    await producer.ensureTopics();
    const relay = bus();
    const tickets = [`${client}-a`, `${client}-b`, `${client}-c`];
    // Published before the consumer starts, on one partition: they arrive together in one batch.
    for (const ticketId of tickets) {
      await withSpan(`intake ${ticketId}`, {}, () =>
        producer.publish({ topic: Topics.received, envelope: newEnvelope("ticketQueued", ticketId, { group: "g", priority: 1, reason: "r" }, "test") }),
      );
    }
    const batches: number[] = [];
    await relay.subscribe({
      groupId: "trace-batch",
      topics: [Topics.received],
      batchHandler: async (events) => {
        batches.push(events.length);
        await relay.publish(
          events.map((e) => ({ topic: Topics.triaged, envelope: newEnvelope("ticketQueued", e.envelope.ticketId, { group: "g", priority: 1, reason: "next" }, "test") })),
        );
      },
    });
    await waitFor(() => tickets.every((id) => spansOf(id, "send ticket.queued").length >= 2), { what: "each ticket's relayed event", timeoutMs: 30_000 });

    expect(Math.max(...batches)).toBeGreaterThan(1);
    for (const ticketId of tickets) {
      const intake = exporter.getFinishedSpans().find((s) => s.name === `intake ${ticketId}`) as ReadableSpan;
      const traceId = intake.spanContext().traceId;
      const sends = spansOf(ticketId, "send ticket.queued");
      const processed = spansOf(ticketId, "process ticket.queued");
      // Every span about this ticket (first send, its processing in the batch, the relayed send) is in its trace.
      expect(new Set([...sends, ...processed].map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
      const relayed = sends.find((s) => s.parentSpanContext?.spanId !== intake.spanContext().spanId);
      expect(processed.map((p) => p.spanContext().spanId)).toContain(relayed?.parentSpanContext?.spanId);
    }
  });
});
