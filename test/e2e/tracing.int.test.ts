// One trace per ticket: intake's HTTP request -> Kafka -> triage -> Kafka -> routing and escalation, with
// W3C trace context in the records' headers, recorded by an in-memory exporter in this process. Also
// checks that no span carries the customer's name, e-mail or message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { startTelemetry } from "@steward/telemetry";
import type { SseReader } from "@steward/testkit";

// The instrumentations patch only modules loaded after the SDK starts: the services are imported after it.
const exporter = new InMemorySpanExporter();
const stopTelemetry = await startTelemetry("system-test", process.env, { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
// (The testkit too: it loads the mongodb driver.)
const { bearer, generalistAgent, isolatedEnv, readSse, tokens, waitFor } = await import("@steward/testkit");
const { loadIntakeConfig } = await import("../../services/intake/src/config.ts");
const { startIntake } = await import("../../services/intake/src/service.ts");
const { loadTriageConfig } = await import("../../services/triage/src/config.ts");
const { startTriage } = await import("../../services/triage/src/service.ts");
const { loadRoutingConfig } = await import("../../services/routing/src/config.ts");
const { startRouting } = await import("../../services/routing/src/service.ts");
const { loadEscalationConfig } = await import("../../services/escalation/src/config.ts");
const { startEscalation } = await import("../../services/escalation/src/service.ts");

const t = isolatedEnv("tracing");
let services: Array<{ httpUrl: string; close(): Promise<void> }> = [];
let work: SseReader;

const json = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

beforeAll(async () => {
  services = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
  const routing = services[2] as { httpUrl: string };
  expect((await fetch(`${routing.httpUrl}/v1/agents/ana`, json("PUT", generalistAgent("Ana", ["en"]), await bearer(tokens.admin())))).status).toBe(200);
  work = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await bearer(tokens.agent("ana")));
  expect((await fetch(`${routing.httpUrl}/v1/agents/ana/presence`, json("POST", { status: "available" }, await bearer(tokens.agent("ana"))))).status).toBe(200);
});

afterAll(async () => {
  work?.close();
  await Promise.allSettled(services.map((s) => s.close()));
  await stopTelemetry();
});

const traceOf = (s: ReadableSpan) => s.spanContext().traceId;
const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe("tracing", () => {
  it("follows one ticket from intake's HTTP request through Kafka to triage, routing and escalation in one trace", async () => {
    const intake = services[0] as { httpUrl: string };
    const res = await fetch(
      `${intake.httpUrl}/v1/tickets`,
      json("POST", {
        channel: "email",
        externalId: "tr-1",
        customer: { id: "cust-tr", name: "Robin Tracer", email: "robin.tracer@example.com" },
        subject: "Refund",
        body: "Charged twice for order 4242, please refund.",
      }),
    );
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };
    await work.next((e) => e.event === "offer" && e.data.includes(ticketId), 60_000);

    const spans = await waitFor(
      () => {
        const all = exporter.getFinishedSpans();
        const ticketSpans = all.filter((s) => s.attributes["steward.ticket_id"] === ticketId);
        const names = new Set(ticketSpans.map((s) => s.name));
        const done = ["send ticket.received", "process ticket.received", "send ticket.triaged", "process ticket.triaged", "send offer.made"].every((n) => names.has(n));
        const escalated = ticketSpans.some((s) => s.name === "process ticket.triaged" && s.attributes["messaging.consumer.group.name"] === "escalation");
        return done && escalated ? all : undefined;
      },
      { what: "the ticket's spans", timeoutMs: 30_000 },
    ).catch((err: unknown) => {
      const seen = exporter
        .getFinishedSpans()
        .map(
          (s) =>
            `${s.name} ${JSON.stringify(s.attributes["steward.ticket_id"] ?? "")} ${JSON.stringify(s.attributes["messaging.consumer.group.name"] ?? "")} ${s.instrumentationScope.name}`,
        );
      throw new Error(`${String(err)}; spans seen: ${[...new Set(seen)].join(" | ")}`);
    });
    const ticketSpans = spans.filter((s) => s.attributes["steward.ticket_id"] === ticketId);
    const traceId = traceOf(ticketSpans[0] as ReadableSpan);
    // One trace: every span about the ticket, in every service, shares it.
    expect(new Set(ticketSpans.map(traceOf))).toEqual(new Set([traceId]));
    const inTrace = spans.filter((s) => traceOf(s) === traceId);

    // It starts at intake's HTTP server span (the http instrumentation), the root of the trace.
    const server = inTrace.find((s) => s.instrumentationScope.name === "@opentelemetry/instrumentation-http" && s.parentSpanContext === undefined);
    expect(server?.attributes["http.request.method"] ?? server?.attributes["http.method"]).toBe("POST");

    // Each consumer's span is the child of the producer span whose traceparent its record carried.
    const sent = named(ticketSpans, "send ticket.received")[0] as ReadableSpan;
    const triaged = named(ticketSpans, "process ticket.received");
    expect(triaged.length).toBeGreaterThanOrEqual(1);
    for (const p of triaged) expect(p.parentSpanContext?.spanId).toBe(sent.spanContext().spanId);
    const sentTriaged = named(ticketSpans, "send ticket.triaged").map((s) => s.spanContext().spanId);
    const consumers = named(ticketSpans, "process ticket.triaged");
    expect(consumers.map((s) => s.attributes["messaging.consumer.group.name"])).toEqual(expect.arrayContaining([`${t.topicPrefix}routing-matcher`, "escalation"]));
    for (const c of consumers) expect(sentTriaged).toContain(c.parentSpanContext?.spanId);

    // Store calls show in the trace (the mongodb instrumentation), with the command's shape only.
    const store = inTrace.filter((s) => s.instrumentationScope.name === "@opentelemetry/instrumentation-mongodb");
    expect(store.length).toBeGreaterThanOrEqual(1);

    // Nothing personal in any span: not the name, the e-mail, nor the message.
    const everything = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events.map((e) => e.attributes)]));
    for (const secret of ["Robin Tracer", "robin.tracer@example.com", "order 4242"]) expect(everything).not.toContain(secret);
  });
});
