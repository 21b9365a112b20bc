// OpenTelemetry set-up and the helpers that carry trace context across Kafka.
// HTTP, gRPC and MongoDB spans come from the maintained instrumentations; Kafka context is carried by
// libs/messaging itself (docs/adr/0008-trace-context-in-the-event-bus.md says why not by the kafkajs instrumentation).
import { context, createContextKey, propagation, trace, ROOT_CONTEXT, SpanStatusCode, type Context, type Link, type Span, type SpanKind } from "@opentelemetry/api";
import type { NodeSDK } from "@opentelemetry/sdk-node";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { register } from "node:module";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { MongoDBInstrumentation } from "@opentelemetry/instrumentation-mongodb";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";

let sdk: NodeSDK | undefined;

/** Probes and scrapes would be most of the HTTP spans and say nothing about a ticket. */
const UNTRACED_PATHS = /^\/(health\/|metrics$|docs)/;

/** The statement recorded on a store span: the command's top-level keys only, never a value (personal data). */
export function commandShape(command: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(command).map((k) => [k, "?"])));
}

const INSTRUMENTED_PACKAGES = ["@grpc/grpc-js", "mongodb"];

function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test((req.url ?? "").split("?")[0] ?? ""),
      // Outgoing calls of this process (OTLP export itself, tests' fetches) are not Steward's work.
      ignoreOutgoingRequestHook: () => true,
    }),
    new MongoDBInstrumentation({ enhancedDatabaseReporting: false, dbStatementSerializer: commandShape }),
    new GrpcInstrumentation(),
  ];
}

/**
 * Starts the SDK once per process. Exporters follow the standard OTEL_* variables
 * (OTEL_TRACES_EXPORTER=otlp|console|none, OTEL_EXPORTER_OTLP_ENDPOINT); with none set, spans are
 * not recorded (nothing to send them to), but context still propagates. Instrumentations patch only
 * modules loaded after this runs, so each service's main.ts awaits it before importing the service.
 * `spanProcessors` (tests) replaces the exporters named by the environment.
 */
export async function startTelemetry(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
  opts: { spanProcessors?: SpanProcessor[] } = {},
): Promise<() => Promise<void>> {
  if (sdk) return async () => {};
  if (!env["OTEL_TRACES_EXPORTER"]) process.env["OTEL_TRACES_EXPORTER"] = "none";
  if (!env["OTEL_METRICS_EXPORTER"]) process.env["OTEL_METRICS_EXPORTER"] = "none";
  if (!env["OTEL_LOGS_EXPORTER"]) process.env["OTEL_LOGS_EXPORTER"] = "none";
  if (!env["OTEL_SERVICE_NAME"]) process.env["OTEL_SERVICE_NAME"] = serviceName;
  // Instrumentations first, the SDK after: its OTLP/gRPC exporter loads @grpc/grpc-js, which must be
  // patched as it loads. (Spans reach the SDK's provider once it is registered below.)
  // ESM imports (the services' own, of CommonJS packages too) reach the instrumentations only through
  // import-in-the-middle's loader; require-in-the-middle sees require() calls alone. Only the
  // instrumented packages are wrapped, so every other module loads as before.
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, { data: { include: INSTRUMENTED_PACKAGES } });
  registerInstrumentations({ instrumentations: instrumentations() });
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  sdk = new NodeSDK({ serviceName, ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}) });
  sdk.start();
  const started = sdk;
  return async () => {
    await started.shutdown().catch(() => undefined);
    sdk = undefined;
  };
}

export const tracer = () => trace.getTracer("steward");

/** Writes the current (or given) context's traceparent/tracestate into Kafka-style headers. */
export function injectTraceHeaders(headers: Record<string, string> = {}, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

export function extractTraceContext(headers: Record<string, string | Buffer | undefined | (string | Buffer)[]>): Context {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) carrier[k] = first.toString();
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

const TICKET_CONTEXTS = createContextKey("steward.ticket-contexts");

/**
 * A batch handler works for several tickets at once; each ticket's trace must go on through what the
 * handler publishes for it. The batch's context carries ticketId -> that ticket's context, and
 * `ticketContext` picks it when an event for the ticket is published.
 */
export function withTicketContexts(ctx: Context, byTicket: ReadonlyMap<string, Context>): Context {
  return ctx.setValue(TICKET_CONTEXTS, byTicket);
}

/** The context an event about this ticket continues: its own in a batch, else the active one. */
export function ticketContext(ticketId: string, ctx: Context = context.active()): Context {
  const byTicket = ctx.getValue(TICKET_CONTEXTS) as ReadonlyMap<string, Context> | undefined;
  return byTicket?.get(ticketId) ?? ctx;
}

/** Runs fn inside a span that ends (with error status on throw) when fn settles. */
export async function withSpan<T>(
  name: string,
  opts: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context; links?: Link[] },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: opts.kind, attributes: opts.attributes, links: opts.links }, parent);
  // The parent's values (the batch's ticket contexts) stay visible inside.
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : "error" });
      throw err;
    } finally {
      span.end();
    }
  });
}
