// Starts triage: the engine (policy reloaded on edit, model shipped in the repo), the consumer of
// received tickets and follow-ups, and a small HTTP app for health and the policy in force.
import { SECURITY_SCHEMES, createTokenVerifier, installAccessControl, verifierSettingsOf } from "@steward/auth";
import { triageHttpAccess } from "./access.ts";
import { connectStore } from "@steward/store";
import { kafkaSettings } from "@steward/config";
import { createEventBus } from "@steward/messaging";
import { Topics } from "@steward/proto";
import { buildHttpApp } from "@steward/http";
import { createLogger, createMetricsRegistry } from "@steward/telemetry";
import type { TriageConfig } from "./config.ts";
import { createTriageEngine, eldLanguageScorer, type TriageEngine } from "./domain/index.ts";
import { readIntentModelFile, watchTriagePolicy } from "./policy/triage-files.ts";
import { TriageStore } from "./triage-store.ts";
import { handleReceivedBatch } from "./triage-worker.ts";

export interface RunningTriage {
  httpUrl: string;
  close(): Promise<void>;
}

export async function startTriage(config: TriageConfig): Promise<RunningTriage> {
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const log = createLogger("triage", config.LOG_LEVEL);
  const model = readIntentModelFile(config.TRIAGE_MODEL_FILE);
  let engine: TriageEngine | undefined;
  const policies = watchTriagePolicy({
    path: config.TRIAGE_POLICY_FILE,
    onReload: (policy) => {
      try {
        engine = createTriageEngine({ policy, model, languageScorer: eldLanguageScorer });
        log.info({ version: policy.version }, "triage policy reloaded");
      } catch (err) {
        log.error({ err }, "reloaded triage policy does not fit the model; the previous one stays in force");
      }
    },
    onInvalid: (err) => log.error({ err }, "edited triage policy is invalid; the previous one stays in force"),
  });
  engine = createTriageEngine({ policy: policies.current(), model, languageScorer: eldLanguageScorer });
  const current = (): TriageEngine => engine as TriageEngine;

  const metrics = createMetricsRegistry("triage");
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-triage", metrics, log, diagnose: config.STEWARD_STORE_SDAM_DEBUG });
  const store = new TriageStore(storeConn.db);
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    encoding: config.STEWARD_KAFKA_ENCODING,
    ...kafkaSettings(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-triage",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
    metrics,
  });
  await bus.ensureTopics();
  const deps = { store, bus, engine: current, repeatWindowMs: config.TRIAGE_REPEAT_WINDOW_DAYS * 86_400_000, log };
  const consumer = await bus.subscribe({
    groupId: "triage",
    topics: [Topics.received],
    partitionsConsumedConcurrently: 6,
    // A partition's events at a time: one insert for its new tickets, store calls of different tickets at once.
    batchHandler: async (events) =>
      handleReceivedBatch(
        deps,
        events.map((e) => e.envelope),
      ),
  });

  const app = await buildHttpApp({
    service: "triage",
    description: "Language, intent, priority and the right group, with reasons.",
    logger: log,
    metrics,
    ready: async () => {
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      const checks = { kafka: kafka.status === "fulfilled" ? "ok" : "unreachable", store: db.status === "fulfilled" ? "ok" : "unreachable" };
      return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
    },
    securitySchemes: SECURITY_SCHEMES,
  });
  installAccessControl(app, { realm: "steward-triage", verifier, rules: triageHttpAccess });
  app.get("/v1/triage/policy", { schema: { summary: "The triage policy in force" } }, async () => ({
    version: current().policy.version,
    modelVersion: model.modelVersion,
  }));
  const address = await app.listen({ host: config.TRIAGE_HTTP_HOST, port: config.TRIAGE_HTTP_PORT });
  log.info({ address, policyVersion: current().policy.version }, "triage listening");
  return {
    httpUrl: address,
    async close() {
      await app.close();
      policies.close();
      await consumer.stop();
      await bus.close();
      await storeConn.close();
    },
  };
}
