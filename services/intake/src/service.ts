// Starts intake from its config: store, event bus, pipeline, the three ways in (HTTP, gRPC, the
// submissions topic), and the projector that keeps the ticket view current and sends acknowledgements.
import { connectStore } from "@steward/store";
import { kafkaSettings } from "@steward/config";
import { createEventBus } from "@steward/messaging";
import { createLogger, createMetricsRegistry } from "@steward/telemetry";
import { DEV_CUSTOMER_KEY_SECRET, type IntakeConfig } from "./config.ts";
import { TicketStore } from "./ticket-store.ts";
import { CustomerStore } from "./customer-store.ts";
import { IntakePipeline } from "./intake-pipeline.ts";
import { startProjector, ViewWriter } from "./projector.ts";
import { TicketViews } from "./ticket-views.ts";
import { startOutboundWorker } from "./outbound-worker.ts";
import { OutboundDeliveries } from "./outbound-deliveries.ts";
import { smtpSender } from "./outbound-mail.ts";
import { buildIntakeApp } from "./app.ts";
import { addStandardServices } from "@steward/proto/grpc-standard";
import { bindGrpc, buildIntakeGrpcServer, closeGrpc } from "./grpc-server.ts";
import { startSubmissionConsumer } from "./submission-consumer.ts";
import { WebhookReplays } from "./webhook-replays.ts";
import { DEV_INTEGRATION_ID, IntegrationRegistry } from "./domain/integrations.ts";
import { TokenBuckets } from "./domain/rate-limiter.ts";
import { createTokenVerifier, kafkaAuditSink, verifierSettingsOf } from "@steward/auth";

export interface RunningIntake {
  httpUrl: string;
  /** host:port of the gRPC IntakeService. */
  grpcAddress: string;
  close(): Promise<void>;
}

const REPLAY_SWEEP_MS = 60_000;

export async function startIntake(config: IntakeConfig): Promise<RunningIntake> {
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const log = createLogger("intake", config.LOG_LEVEL);
  const registry = new IntegrationRegistry({
    ...(config.integrations ? { integrations: config.integrations } : {}),
    devRateLimit: config.devRateLimit,
    allowAnonymousDev: config.INTAKE_ALLOW_ANONYMOUS_DEV,
  });
  if (registry.devMode) {
    log.warn(
      { integration: DEV_INTEGRATION_ID, anonymous: registry.anonymousAllowed },
      "no integrations configured: the development API key is active (set INTAKE_INTEGRATIONS_FILE in production)",
    );
  } else {
    log.info({ integrations: config.integrations?.map((i) => i.id) }, "integrations loaded");
  }

  const metrics = createMetricsRegistry("intake");
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-intake", metrics, log, diagnose: config.STEWARD_STORE_SDAM_DEBUG });
  const store = new TicketStore(storeConn.db);
  await store.init();
  // One in-memory copy of recent views for the pipeline, the projector and the reads (ADR 0015).
  const views = new TicketViews(store, { maxAgeMs: config.INTAKE_VIEW_READ_LAG_MS });
  const customers = new CustomerStore(storeConn.db);
  const replays = new WebhookReplays(storeConn.db);
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    encoding: config.STEWARD_KAFKA_ENCODING,
    ...kafkaSettings(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-intake",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    publishTimeoutMs: config.INTAKE_PUBLISH_TIMEOUT_MS,
    log,
    metrics,
  });
  await bus.ensureTopics();
  if (config.INTAKE_CUSTOMER_KEY_SECRET === undefined && !registry.devMode) {
    log.warn({}, "INTAKE_CUSTOMER_KEY_SECRET is not set: customers' keys are hashed with the public development secret");
  }
  // The view's write-behind, shared by the pipeline (new tickets) and the projector (everyone's events).
  const viewFlushMs = config.INTAKE_VIEW_FLUSH_MS;
  const writer = new ViewWriter({ store, views, customers, bus }, { flushMs: viewFlushMs });
  const pipeline = new IntakePipeline({
    store,
    views,
    bus,
    customers,
    writer,
    viewLagMs: writer.lagMs,
    log,
    customerKeySecret: config.INTAKE_CUSTOMER_KEY_SECRET ?? DEV_CUSTOMER_KEY_SECRET,
    followUpWindowMs: config.INTAKE_FOLLOW_UP_WINDOW_HOURS * 3_600_000,
  });
  const limiter = new TokenBuckets();
  const now = () => Date.now();
  const toleranceMs = config.INTAKE_SIGNATURE_TOLERANCE_SECONDS * 1000;

  const projector = await startProjector(bus, store, "intake-projector", { writer });
  const submissions = await startSubmissionConsumer({ bus, pipeline, registry, log });
  // One readiness check for HTTP /health/ready and gRPC health.
  const ready = async () => {
    const checks: Record<string, string> = {};
    const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
    checks["kafka"] = kafka.status === "fulfilled" ? "ok" : "unreachable";
    checks["store"] = db.status === "fulfilled" ? "ok" : "unreachable";
    return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
  };
  // In intake, not a service of its own: it needs intake's integrations and ticket view, and runs wherever intake runs.
  const mailSender = config.INTAKE_OUTBOUND_ENABLED && config.OUTBOUND_SMTP_URL ? smtpSender(config.OUTBOUND_SMTP_URL, config.INTAKE_OUTBOUND_TIMEOUT_MS) : undefined;
  const outbound = config.INTAKE_OUTBOUND_ENABLED
    ? await startOutboundWorker({
        bus,
        tickets: views,
        deliveries: new OutboundDeliveries(storeConn.db),
        integration: (id) => registry.get(id),
        policy: { maxAttempts: config.INTAKE_OUTBOUND_MAX_ATTEMPTS, baseDelayMs: config.INTAKE_OUTBOUND_RETRY_BASE_MS, maxDelayMs: config.INTAKE_OUTBOUND_RETRY_MAX_MS },
        requestTimeoutMs: config.INTAKE_OUTBOUND_TIMEOUT_MS,
        groupId: `${config.STEWARD_TOPIC_PREFIX}intake-outbound`,
        log,
        ...(mailSender ? { mail: { sender: mailSender, from: config.OUTBOUND_MAIL_FROM } } : {}),
      })
    : undefined;
  const app = await buildIntakeApp({
    pipeline,
    store: views,
    logger: log,
    metrics,
    bodyLimit: config.INTAKE_JSON_LIMIT,
    mimeLimit: config.INTAKE_MIME_LIMIT,
    auth: { registry, limiter, replays, signatureToleranceMs: toleranceMs, now, log },
    verifier,
    audit: kafkaAuditSink(bus, "intake", log),
    ready,
  });
  const grpc = buildIntakeGrpcServer({ pipeline, registry, limiter, now, log, messageLimit: config.INTAKE_GRPC_MESSAGE_LIMIT, batchMax: config.INTAKE_GRPC_BATCH_MAX });
  const grpcStandard = addStandardServices(grpc, { services: ["steward.v1.IntakeService"], ready: async () => (await ready()).ok });
  const address = await app.listen({ host: config.INTAKE_HTTP_HOST, port: config.INTAKE_HTTP_PORT });
  const grpcPort = await bindGrpc(grpc, config.INTAKE_GRPC_HOST, config.INTAKE_GRPC_PORT);
  const grpcAddress = `${config.INTAKE_GRPC_HOST}:${grpcPort}`;
  log.info({ address, grpc: grpcAddress }, "intake listening");

  // Seen signed deliveries only matter within the signature window (both sides of our clock).
  const sweeper = setInterval(() => {
    replays.sweep(new Date(Date.now() - 2 * toleranceMs)).catch((err: unknown) => log.warn({ err }, "sweeping seen webhook deliveries failed"));
  }, REPLAY_SWEEP_MS);
  sweeper.unref();

  return {
    httpUrl: address,
    grpcAddress,
    async close() {
      clearInterval(sweeper);
      grpcStandard.stop();
      await Promise.all([app.close(), closeGrpc(grpc)]);
      await submissions.stop();
      await Promise.all([projector.stop(), outbound?.stop()]);
      mailSender?.close();
      await bus.close();
      await storeConn.close();
    },
  };
}
