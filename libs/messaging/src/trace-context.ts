// Trace context across Kafka, the same for both clients: each published event gets a producer span (in
// its ticket's trace) whose W3C traceparent rides in the record's headers; a consumed event's span is
// that producer span's child. Batched sends and batched handlers keep every ticket in its own trace.
import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT, type Context, type Span } from "@opentelemetry/api";
import { extractTraceContext, injectTraceHeaders, ticketContext, tracer, withSpan, withTicketContexts } from "@steward/telemetry";
import type { IncomingEvent, OutgoingEvent } from "./event-bus.ts";

/** Starts one producer span per event; returns each event's headers and a function that ends the spans. */
export function producerSpans(events: readonly OutgoingEvent[]): { headers: Array<Record<string, string>>; end: (err?: unknown) => void } {
  const spans: Span[] = [];
  const headers = events.map((e) => {
    const parent = ticketContext(e.envelope.ticketId);
    const span = tracer().startSpan(
      `send ${e.envelope.type}`,
      { kind: SpanKind.PRODUCER, attributes: { "messaging.system": "kafka", "messaging.destination.name": e.topic, "steward.ticket_id": e.envelope.ticketId } },
      parent,
    );
    spans.push(span);
    return injectTraceHeaders({}, trace.setSpan(parent, span));
  });
  return {
    headers,
    end(err) {
      for (const span of spans) {
        if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : "error" });
        span.end();
      }
    },
  };
}

function processAttributes(e: IncomingEvent, group: string) {
  return { "messaging.system": "kafka", "messaging.destination.name": e.topic, "messaging.consumer.group.name": group, "steward.ticket_id": e.envelope.ticketId };
}

/** Runs a handler for one event in a `process` span, the child of the event's producer span. */
export function withProcessSpan<T>(event: IncomingEvent, group: string, fn: () => Promise<T>): Promise<T> {
  return withSpan(`process ${event.envelope.type}`, { kind: SpanKind.CONSUMER, parent: extractTraceContext(event.headers), attributes: processAttributes(event, group) }, fn);
}

/**
 * Runs a batch handler for consecutive events of one partition. Each event gets a `process` span, the
 * child of its producer span; the handler runs in a span linked to all of them, whose context maps each
 * ticket to its own span, so what the handler publishes for a ticket continues that ticket's trace. With
 * one ticket in the batch the handler's span sits in that ticket's trace (store calls show there too).
 */
export async function withBatchSpans<T>(events: readonly IncomingEvent[], group: string, fn: () => Promise<T>): Promise<T> {
  const processing = events.map((e) => {
    const parent = extractTraceContext(e.headers);
    const span = tracer().startSpan(`process ${e.envelope.type}`, { kind: SpanKind.CONSUMER, attributes: processAttributes(e, group) }, parent);
    return { ticketId: e.envelope.ticketId, span, ctx: trace.setSpan(parent, span) };
  });
  const byTicket = new Map<string, Context>(processing.map((p) => [p.ticketId, p.ctx]));
  const only = byTicket.size === 1 ? processing[0]?.ctx : undefined;
  try {
    return await withSpan(
      `consume batch ${events[0]?.topic ?? ""}`,
      {
        parent: withTicketContexts(only ?? ROOT_CONTEXT, byTicket),
        links: processing.map((p) => ({ context: p.span.spanContext() })),
        attributes: { "messaging.batch.message_count": events.length, "messaging.consumer.group.name": group },
      },
      fn,
    );
  } catch (err) {
    for (const p of processing) p.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : "error" });
    throw err;
  } finally {
    for (const p of processing) p.span.end();
  }
}
