// OpenTelemetry set-up and the helpers that carry trace context across Kafka.
import { context, propagation, trace, SpanStatusCode, type Context, type Span, type SpanKind } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";

let sdk: NodeSDK | undefined;

/**
 * Starts the SDK once per process. Exporters follow the standard OTEL_* variables
 * (OTEL_TRACES_EXPORTER=otlp|console|none, OTEL_EXPORTER_OTLP_ENDPOINT); with none set, spans are
 * created and context propagates, but nothing is exported.
 */
export function startTelemetry(serviceName: string, env: Record<string, string | undefined> = process.env): () => Promise<void> {
  if (sdk) return async () => {};
  if (!env["OTEL_TRACES_EXPORTER"]) process.env["OTEL_TRACES_EXPORTER"] = "none";
  if (!env["OTEL_METRICS_EXPORTER"]) process.env["OTEL_METRICS_EXPORTER"] = "none";
  if (!env["OTEL_LOGS_EXPORTER"]) process.env["OTEL_LOGS_EXPORTER"] = "none";
  if (!env["OTEL_SERVICE_NAME"]) process.env["OTEL_SERVICE_NAME"] = serviceName;
  sdk = new NodeSDK({ serviceName, instrumentations: [] });
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
  return propagation.extract(context.active(), carrier);
}

/** Runs fn inside a span that ends (with error status on throw) when fn settles. */
export async function withSpan<T>(
  name: string,
  opts: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: opts.kind, attributes: opts.attributes }, parent);
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
