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
import { InputCoalescer } from "./input-coalescer.ts";
import { buildEscalationApp } from "./app.ts";
import { createTokenVerifier, kafkaAuditSink, verifierSettingsOf } from "@steward/auth";
import { createEscalationMetrics } from "./escalation-metrics.ts";

export interface RunningEscalation {
  httpUrl: string;
  instanceId: string;
  close(): Promise<void>;
}

/** A batch this large means the consumer is behind: its inputs are applied without waiting for more. */
const BUSY_BATCH = 64;

/** Every instance joins this group: each event is applied by one of them. */
export const CONSUMER_GROUP = "escalation";

export async function startEscalation(config: EscalationConfig): Promise<RunningEscalation> {
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const instanceId = config.STEWARD_INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString("hex")}`;
  const log = createLogger("escalation", config.LOG_LEVEL).child({
    instanceId,
  });
  const metrics = createMetricsRegistry("escalation");
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-escalation", metrics });
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

  // A ticket's events come on three topics within moments: gathered, they cost one write. The bus
  // fetches again only once a batch is handled, so the wait also paces the fetches: what arrives
  // meanwhile, on all three topics, comes in the next fetch and is coalesced there.
  const inputs = new InputCoalescer({
    lingerMs: config.ESCALATION_COALESCE_MS,
    apply: (ticketId, batch) => ledger.applyEvents(ticketId, batch),
  });
  const events = await bus.subscribe({
    groupId: CONSUMER_GROUP,
    topics: [Topics.triaged, Topics.routing, Topics.received],
    partitionsConsumedConcurrently: 6,
    batchHandler: async (batch) => {
      const now = new Date();
      // The bus fetches no more while a batch is being handled, so waiting only pays when caught up.
      const linger = batch.length < BUSY_BATCH;
      const applied = batch.map(async ({ envelope }) => {
        const timed = slaInputOf(envelope, now);
        if (timed !== null) await inputs.submit(envelope.ticketId, { eventId: envelope.eventId, timed }, linger);
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
      inputs.flush();
      await events.stop();
      await timers.stop();
      await ledger.flushViewMarks();
      await bus.close();
      await storeConn.close();
    },
  };
}
