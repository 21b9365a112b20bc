// A fastify app with Steward's common behaviour; services add their routes to it.
import Fastify, { type FastifyInstance, type FastifyError } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { Logger } from "pino";
import { Histogram, LATENCY_BUCKETS, metricOnce, type Registry } from "@steward/telemetry";
import { HttpError, errorBody } from "./errors.ts";

export interface HttpAppOptions {
  service: string;
  version?: string;
  description?: string;
  logger?: Logger;
  /** Largest accepted request body in bytes (default 256 KiB). */
  bodyLimit?: number;
  /** Readiness: resolves true when the service can do its work (broker and store reachable). */
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Domain error codes and the HTTP status each maps to. Unknown codes are 500 and logged. */
  errorStatus?: Record<string, number>;
  /** The service's metrics: served at GET /metrics, and every request is counted and timed into it. */
  metrics?: Registry;
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests are not logged one by one (they carry personal data and would flood at load);
    // errors are logged by the error handler below with the service's redacting logger.
    logger: false,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
  });

  await app.register(swagger, {
    openapi: {
      info: { title: `Steward ${opts.service}`, version: opts.version ?? "0.1.0", description: opts.description },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  if (opts.metrics) serveMetrics(app, opts.metrics);

  app.setErrorHandler((err: FastifyError | HttpError | Error, request, reply) => {
    if (err instanceof HttpError) {
      void reply.code(err.statusCode).headers(err.headers).send(errorBody(err.code, err.message, err.details));
      return;
    }
    const fe = err as FastifyError & { code?: string; validation?: unknown };
    if (fe.validation) {
      void reply.code(400).send(errorBody("VALIDATION_FAILED", fe.message, fe.validation));
      return;
    }
    const known = fe.code ? opts.errorStatus?.[fe.code] : undefined;
    if (known) {
      void reply.code(known).send(errorBody(fe.code ?? "ERROR", fe.message));
      return;
    }
    switch (fe.code) {
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        void reply.code(400).send(errorBody("INVALID_JSON", "the request body is not valid JSON"));
        return;
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        void reply.code(413).send(errorBody("PAYLOAD_TOO_LARGE", `the request body is larger than ${app.initialConfig.bodyLimit} bytes`));
        return;
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        void reply.code(415).send(errorBody("UNSUPPORTED_MEDIA_TYPE", "send application/json"));
        return;
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        void reply.code(400).send(errorBody("INVALID_CONTENT_LENGTH", "the Content-Length header does not match the body"));
        return;
      default:
        break;
    }
    if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
      void reply.code(fe.statusCode).send(errorBody(fe.code ?? "BAD_REQUEST", fe.message));
      return;
    }
    opts.logger?.error({ err, method: request.method, route: request.routeOptions.url }, "unhandled error");
    void reply.code(500).send(errorBody("INTERNAL", "something went wrong on our side; the request can be retried"));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody("ROUTE_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`));
  });

  app.get("/health/live", { schema: { hide: true } }, async () => ({ status: "ok", service: opts.service }));
  app.get("/health/ready", { schema: { hide: true } }, async (_req, reply) => {
    const result = await opts.ready().catch((err: unknown) => ({ ok: false, checks: { error: err instanceof Error ? err.message : "unknown" } }));
    void reply.code(result.ok ? 200 : 503);
    return { status: result.ok ? "ready" : "not_ready", service: opts.service, checks: result.checks };
  });

  return app;
}

/** GET /metrics in Prometheus text format, and the request histogram (its _count is the request rate). */
function serveMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = metricOnce(
    registry,
    "steward_http_request_duration_seconds",
    (registers) =>
      new Histogram({ name: "steward_http_request_duration_seconds", help: "HTTP requests by route pattern, method and status", labelNames: ["route", "method", "status"], buckets: LATENCY_BUCKETS, registers }),
  );
  app.addHook("onResponse", async (request, reply) => {
    // The route pattern (/v1/tickets/:id), never the raw URL: one series per route, not per ticket.
    const route = request.routeOptions.url ?? "unmatched";
    requests.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
    void reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}
