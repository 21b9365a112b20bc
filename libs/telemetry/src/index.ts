// One place that sets up logs and traces for every Steward process.
// Logs: pino, a constant message plus fields; personal data is redacted, message bodies never logged.
// Traces: OpenTelemetry; W3C trace context travels in Kafka headers so a ticket's path is one trace.
export { createLogger, redactText, type Logger } from "./logger.ts";
export { startTelemetry, tracer, injectTraceHeaders, extractTraceContext, withSpan } from "./tracing.ts";
