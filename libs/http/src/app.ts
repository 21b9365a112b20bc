// A fastify app with Steward's common behaviour; services add their routes to it.
import Fastify, { type FastifyInstance, type FastifyError, type FastifyReply, type RouteOptions } from "fastify";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { Logger } from "pino";
import { Histogram, LATENCY_BUCKETS, metricOnce, type Registry } from "@steward/telemetry";
import { ERROR_RESPONSE_SCHEMA, HttpError, errorBody } from "./errors.ts";

export interface HttpAppOptions {
  service: string;
  version?: string;
  description?: string;
  logger?: Logger;
  /** Largest accepted request body in bytes (default 256 KiB). */
  bodyLimit?: number;
  /** Time to receive a whole request, headers and body (default 30 s); slower clients get a 408. */
  requestTimeoutMs?: number;
  /** Readiness: resolves true when the service can do its work (broker and store reachable). */
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Domain error codes and the HTTP status each maps to. Unknown codes are 500 and logged. */
  errorStatus?: Record<string, number>;
  /** The service's metrics: served at GET /metrics, and every request is counted and timed into it. */
  metrics?: Registry;
  /** OpenAPI security schemes the routes name (see @steward/auth). */
  securitySchemes?: Record<string, Record<string, unknown>>;
  /**
   * Recognises errors raised below the adapters (e.g. @steward/store's classifyStoreError) and gives them a
   * status, stable code and headers; undefined leaves the error to the mapping below.
   */
  classifyError?: (err: unknown) => { statusCode: number; code: string; message: string; headers?: Record<string, string> } | undefined;
}

/**
 * Stable codes for what the framework itself refuses, by HTTP status: fastify's own FST_* codes are its
 * internals and change between versions, so clients see these instead.
 */
const FRAMEWORK_CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  404: "ROUTE_NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  408: "REQUEST_TIMEOUT",
  413: "PAYLOAD_TOO_LARGE",
  414: "URI_TOO_LONG",
  415: "UNSUPPORTED_MEDIA_TYPE",
  431: "HEADERS_TOO_LARGE",
  503: "SERVICE_UNAVAILABLE",
};

/** A route pattern ("/v1/agents/:id", "/docs/*") as a matcher of concrete paths, to tell 405 from 404. */
function pathMatcher(pattern: string): RegExp {
  const parts = pattern.split(/(:[A-Za-z0-9_]+|\*)/).map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${parts.join("")}/?$`);
}

/**
 * Errors Node's HTTP parser raises before fastify sees a request (a request not received in time, headers
 * too large, a malformed request line): answered on the raw socket, in the same envelope.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "the request was not received in time"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "the request line and headers are too large"]
        : [400, "the request is not valid HTTP"];
  const body = JSON.stringify(errorBody(FRAMEWORK_CODES[status] ?? "BAD_REQUEST", message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

const described = (description: string) => ({ description, ...ERROR_RESPONSE_SCHEMA });

/**
 * OpenAPI lists every answer a route can give: besides what the route documents itself (its success, its
 * domain refusals), the answers any route of its shape can get from this app — a bad URL or invalid input,
 * a missing resource and an over-long path segment where it has path parameters, a body too large or of the
 * wrong type where it takes one, a request not received in time, and the service being unavailable.
 */
function documentCommonAnswers(route: RouteOptions): void {
  const schema = (route.schema ??= {}) as Record<string, unknown>;
  if (schema["hide"] === true) return;
  const response = (schema["response"] ??= {}) as Record<string, unknown>;
  const add = (status: number, description: string) => {
    response[String(status)] ??= described(description);
  };
  const hasParams = route.url.includes(":");
  const takesBody = [route.method].flat().some((m) => m === "POST" || m === "PUT" || m === "PATCH");
  add(400, "The request is not valid: its URL, parameters or body break the documented schema (VALIDATION_FAILED, INVALID_JSON, BAD_REQUEST)");
  if (hasParams) {
    add(404, "No such resource");
    add(414, "A path segment is too long (URI_TOO_LONG)");
  }
  if (takesBody) {
    add(413, "The body is larger than this route accepts (PAYLOAD_TOO_LARGE)");
    add(415, "The body's content type is not one this route reads (UNSUPPORTED_MEDIA_TYPE)");
  }
  add(408, "The request was not received in time (REQUEST_TIMEOUT)");
  // A route that documents no success answer still says it answers JSON (an object; see its summary).
  if (!Object.keys(response).some((code) => code.startsWith("2"))) response["200"] = { description: "OK", type: "object", additionalProperties: true };
  add(503, "A dependency (Kafka, the store) cannot take the request, or the instance is shutting down; see Retry-After");
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    // Requests are not logged one by one (they carry personal data and would flood at load);
    // errors are logged by the error handler below with the service's redacting logger.
    logger: false,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Every refusal below comes out as {error: {code, message}}: fastify's own answers for a closing server,
    // an undecodable URL and an over-long path parameter, and Node's for unparseable requests, do not.
    return503OnClosing: false,
    // Time to receive a whole request (headers and body): a client that trickles one gets a 408. Given to
    // Node's server at construction (it ignores a later change), checked often enough to come on time.
    requestTimeout,
    http: { requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(requestTimeout / 3))) },
    clientErrorHandler: answerClientError,
    frameworkErrors: (err, _request, reply) => {
      const status = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? 414 : err.code === "FST_ERR_BAD_URL" ? 400 : 500;
      const message =
        status === 414
          ? "a path segment is too long"
          : status === 400
            ? "the URL is not valid (bad percent-encoding)"
            : "something went wrong on our side; the request can be retried";
      void (reply as FastifyReply).code(status).send(errorBody(status === 500 ? "INTERNAL" : (FRAMEWORK_CODES[status] ?? "BAD_REQUEST"), message));
    },
  });

  // Which methods each route pattern answers, so a known path with another method is a 405, not a 404.
  const routes: Array<{ path: RegExp; methods: string[] }> = [];
  app.addHook("onRoute", (route) => {
    routes.push({ path: pathMatcher(route.url), methods: [route.method].flat() });
    documentCommonAnswers(route);
  });
  // The server is closing: new requests get a 503 in the envelope (Retry-After: another instance takes them).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (closing) return reply.code(503).headers({ "retry-after": "1", connection: "close" }).send(errorBody("SERVICE_UNAVAILABLE", "this instance is shutting down; retry"));
    return undefined;
  });

  await app.register(swagger, {
    openapi: {
      info: { title: `Steward ${opts.service}`, version: opts.version ?? "0.1.0", description: opts.description },
      // The schemes are plain OpenAPI objects declared by @steward/auth; swagger checks their shape.
      ...(opts.securitySchemes ? { components: { securitySchemes: opts.securitySchemes as never } } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  if (opts.metrics) serveMetrics(app, opts.metrics);

  app.setErrorHandler((err: FastifyError | HttpError | Error, request, reply) => {
    if (err instanceof HttpError) {
      void reply
        .code(err.statusCode)
        .headers(err.headers)
        .send(errorBody(err.code, err.message, err.details));
      return;
    }
    const classified = opts.classifyError?.(err);
    if (classified) {
      void reply
        .code(classified.statusCode)
        .headers(classified.headers ?? {})
        .send(errorBody(classified.code, classified.message));
      return;
    }
    const fe = err as FastifyError & { code?: string; validation?: unknown };
    if (fe.validation) {
      void reply.code(400).send(errorBody("VALIDATION_FAILED", fe.message, fe.validation));
      return;
    }
    const known = fe.code ? opts.errorStatus?.[fe.code] : undefined;
    if (known) {
      // A 503 is temporary by definition (a dependency, a change of leader): say when to try again.
      if (known === 503) void reply.header("retry-after", "1");
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
      case "FST_ERR_BAD_URL":
        void reply.code(400).send(errorBody("BAD_REQUEST", "the URL is not valid (bad percent-encoding)"));
        return;
      default:
        break;
    }
    if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.code === undefined || fe.code.startsWith("FST_") ? (FRAMEWORK_CODES[fe.statusCode] ?? "BAD_REQUEST") : fe.code;
      void reply.code(fe.statusCode).send(errorBody(code, fe.message));
      return;
    }
    opts.logger?.error({ err, method: request.method, route: request.routeOptions.url }, "unhandled error");
    void reply.code(500).send(errorBody("INTERNAL", "something went wrong on our side; the request can be retried"));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).flatMap((r) => r.methods))];
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header("allow", allowed.join(", "))
        .send(errorBody("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}`));
      return;
    }
    void reply.code(404).send(errorBody("ROUTE_NOT_FOUND", `no route ${request.method} ${path}`));
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
      new Histogram({
        name: "steward_http_request_duration_seconds",
        help: "HTTP requests by route pattern, method and status",
        labelNames: ["route", "method", "status"],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
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
