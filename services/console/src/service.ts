// Starts the console from its config: its own database, the projector under its own consumer group,
// and the HTTP server (page, console API, proxy to the public APIs).
import { connectStore } from "@steward/store";
import { kafkaSettings } from "@steward/config";
import { createEventBus } from "@steward/messaging";
import { createLogger, createMetricsRegistry } from "@steward/telemetry";
import { createTokenVerifier, kafkaAuditSink, verifierSettingsOf } from "@steward/auth";
import { consoleDatabase, type ConsoleConfig } from "./config.ts";
import { ConsoleStore } from "./console-store.ts";
import { CONSUMER_GROUP, startProjector } from "./projector.ts";
import { buildConsoleApp } from "./app.ts";

export interface RunningConsole {
  httpUrl: string;
  close(): Promise<void>;
}

export async function startConsole(config: ConsoleConfig, opts: { groupId?: string } = {}): Promise<RunningConsole> {
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const log = createLogger("console", config.LOG_LEVEL);
  const metrics = createMetricsRegistry("console");
  const storeConn = await connectStore(config.MONGODB_URI, consoleDatabase(config), { appName: "steward-console", metrics, log, diagnose: config.STEWARD_STORE_SDAM_DEBUG });
  const store = new ConsoleStore(storeConn.db);
  await store.init();
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    encoding: config.STEWARD_KAFKA_ENCODING,
    ...kafkaSettings(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-console",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
    metrics,
  });
  await bus.ensureTopics();
  const projector = await startProjector(bus, store, opts.groupId ?? CONSUMER_GROUP);
  const app = await buildConsoleApp({
    store,
    verifier,
    upstreams: { intake: config.CONSOLE_INTAKE_URL, routing: config.CONSOLE_ROUTING_URL, escalation: config.CONSOLE_ESCALATION_URL },
    webDir: config.CONSOLE_WEB_DIR,
    atRiskWithinMs: config.CONSOLE_AT_RISK_WITHIN_MS,
    ...(config.STEWARD_OIDC_ISSUER && config.CONSOLE_OIDC_CLIENT_ID
      ? { oidc: { issuer: config.STEWARD_OIDC_ISSUER, clientId: config.CONSOLE_OIDC_CLIENT_ID, scope: config.CONSOLE_OIDC_SCOPE } }
      : {}),
    audit: kafkaAuditSink(bus, "console", log),
    logger: log,
    metrics,
    ready: async () => {
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      return {
        ok: kafka.status === "fulfilled" && db.status === "fulfilled",
        checks: { kafka: kafka.status === "fulfilled" ? "ok" : "unreachable", store: db.status === "fulfilled" ? "ok" : "unreachable" },
      };
    },
  });
  const address = await app.listen({ host: config.CONSOLE_HTTP_HOST, port: config.CONSOLE_HTTP_PORT });
  log.info({ address }, "console listening");
  return {
    httpUrl: address,
    async close() {
      await app.close();
      await projector.stop();
      await bus.close();
      await storeConn.close();
    },
  };
}
