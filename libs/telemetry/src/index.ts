// One place that sets up logs and traces for every Steward process.
// Logs: pino, a constant message plus fields; personal data is redacted, message bodies never logged.
// Traces: OpenTelemetry; W3C trace context travels in Kafka headers so a ticket's path is one trace.
// Metrics: prom-client, one registry per service, scraped at GET /metrics.
export { createLogger, redactText, type Logger } from "./logger.ts";
export { startTelemetry, tracer, injectTraceHeaders, extractTraceContext, withSpan, withTicketContexts, ticketContext, commandShape } from "./tracing.ts";
export { createMetricsRegistry, metricOnce, LATENCY_BUCKETS, Counter, Gauge, Histogram, Registry } from "./metrics.ts";
