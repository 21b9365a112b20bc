// Starts escalation from its config: store, event bus, active policy, the consumer of triage, routing
// and intake events, the durable timers and the HTTP server.
import { randomBytes } from "node:crypto";
import { connectStore } from "@steward/store";
import { kafkaSettings } from "@steward/config";
import { createEventBus } from "@steward/messaging";
import { Topics } from "@steward/proto";
import { createLogger, createMetricsRegistry } from "@steward/telemetry";
import type { EscalationConfig } from "./config.ts";
import { SlaStore } from "./sla-store.ts";
import { PolicyRegistry } from "./policy-registry.ts";
import { SlaLedger } from "./sla-ledger.ts";
import { SlaTimers } from "./sla-timers.ts";
import { TicketLocks } from "./ticket-locks.ts";
import { slaInputOf } from "./inbound-events.ts";
import { buildEscalationApp } from "./app.ts";
import { createTokenVerifier, kafkaAuditSink, verifierSettingsOf } from "@steward/auth";
import { createEscalationMetrics } from "./escalation-metrics.ts";

export interface RunningEscalation {
  httpUrl: string;
  instanceId: string;
  close(): Promise<void>;
}

/** Every instance joins this group: each event is applied by one of them. */
export const CONSUMER_GROUP = "escalation";

export async function startEscalation(config: EscalationConfig): Promise<RunningEscalation> {
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const instanceId = config.STEWARD_INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString("hex")}`;
  const log = createLogger("escalation", config.LOG_LEVEL).child({
    instanceId,
  });
  const metrics = createMetricsRegistry("escalation");
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-escalation", metrics, log, diagnose: config.STEWARD_STORE_SDAM_DEBUG });
  const store = new SlaStore(storeConn.db);
  await store.init();
  const policies = new PolicyRegistry({
    store,
    file: config.ESCALATION_POLICY_FILE,
    instanceId,
    log,
  });
  await policies.init();
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    encoding: config.STEWARD_KAFKA_ENCODING,
    ...kafkaSettings(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-escalation",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
    metrics,
  });
  await bus.ensureTopics();

  // The ledger tells the timer about wake-ups it writes; the timer needs the ledger: tie them here.
  let wakeTimers: (ticketId: string, at: Date | null) => void = () => undefined;
  const ledger = new SlaLedger({
    store,
    policies,
    bus,
    locks: new TicketLocks(),
    log,
    instanceId,
    leaseMs: config.ESCALATION_LEASE_MS,
    onWake: (ticketId, at) => wakeTimers(ticketId, at),
    metrics: createEscalationMetrics(metrics),
    flushMs: config.ESCALATION_COALESCE_MS,
  });
  const timers = new SlaTimers({
    store,
    ledger,
    policies,
    log,
    instanceId,
    pollMs: config.ESCALATION_TIMER_POLL_MS,
    leaseMs: config.ESCALATION_LEASE_MS,
    policyPollMs: config.ESCALATION_POLICY_POLL_MS,
    sweepMs: config.ESCALATION_TIMER_SWEEP_MS,
  });
  wakeTimers = (ticketId, at) => timers.track(ticketId, at);
  timers.start();

  // A ticket's events come on three topics within moments: the ledger decides each in memory at once
  // and writes the changed documents of all tickets together every ESCALATION_COALESCE_MS. An input
  // settles once that write is done, and the bus commits a batch's offsets only when all its inputs
  // have settled: a crash before the write leaves them uncommitted, so they are consumed again.
  const events = await bus.subscribe({
    groupId: CONSUMER_GROUP,
    topics: [Topics.triaged, Topics.routing, Topics.received],
    partitionsConsumedConcurrently: "all",
    batchHandler: async (batch) => {
      const now = new Date();
      // In offset order: one ticket's inputs queue on its lock in the order they are handed over.
      const applied = batch.map(async ({ envelope }) => {
        const timed = slaInputOf(envelope, now);
        if (timed !== null) await ledger.applyEvent(envelope.ticketId, envelope.eventId, timed);
      });
      // Every event settles before the batch does; any failure fails it (the bus retries, then event by event).
      const results = await Promise.allSettled(applied);
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    },
  });

  const app = await buildEscalationApp({
    ledger,
    policies,
    verifier,
    audit: kafkaAuditSink(bus, "escalation", log),
    logger: log,
    metrics,
    ready: async () => {
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      const checks = {
        kafka: kafka.status === "fulfilled" ? "ok" : "unreachable",
        store: db.status === "fulfilled" ? "ok" : "unreachable",
      };
      return {
        ok: kafka.status === "fulfilled" && db.status === "fulfilled",
        checks,
      };
    },
  });
  const address = await app.listen({
    host: config.ESCALATION_HTTP_HOST,
    port: config.ESCALATION_HTTP_PORT,
  });
  log.info({ address, policy: policies.active().policy.version }, "escalation listening");
  return {
    httpUrl: address,
    instanceId,
    async close() {
      await app.close();
      await events.stop();
      await timers.stop();
      await ledger.close();
      await bus.close();
      await storeConn.close();
    },
  };
}
