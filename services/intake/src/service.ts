// Starts intake from its config: store, event bus, pipeline, projector and the HTTP server.
import { connectStore } from "@steward/store";
import { createKafkaJsBus } from "@steward/messaging";
import { createLogger, startTelemetry } from "@steward/telemetry";
import type { IntakeConfig } from "./config.ts";
import { TicketStore } from "./ticket-store.ts";
import { IntakePipeline } from "./intake-pipeline.ts";
import { startProjector } from "./projector.ts";
import { buildIntakeApp } from "./app.ts";

export interface RunningIntake {
  httpUrl: string;
  close(): Promise<void>;
}

export async function startIntake(config: IntakeConfig): Promise<RunningIntake> {
  const stopTelemetry = startTelemetry("intake");
  const log = createLogger("intake", config.LOG_LEVEL);
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-intake" });
  const store = new TicketStore(storeConn.db);
  await store.init();
  const bus = createKafkaJsBus({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-intake",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
  });
  await bus.ensureTopics();
  const pipeline = new IntakePipeline({ store, bus, followUpWindowMs: config.INTAKE_FOLLOW_UP_WINDOW_HOURS * 3_600_000 });
  const projector = await startProjector(bus, store);
  const app = await buildIntakeApp({
    pipeline,
    store,
    logger: log,
    bodyLimit: config.INTAKE_JSON_LIMIT,
    ready: async () => {
      const checks: Record<string, string> = {};
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      checks["kafka"] = kafka.status === "fulfilled" ? "ok" : "unreachable";
      checks["store"] = db.status === "fulfilled" ? "ok" : "unreachable";
      return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
    },
  });
  const address = await app.listen({ host: config.INTAKE_HTTP_HOST, port: config.INTAKE_HTTP_PORT });
  log.info({ address }, "intake listening");
  return {
    httpUrl: address,
    async close() {
      await app.close();
      await projector.stop();
      await bus.close();
      await storeConn.close();
      await stopTelemetry();
    },
  };
}
