// Starts escalation from its config: store, event bus, active policy, the consumer of triage, routing
// and intake events, the durable timers and the HTTP server.
import { randomBytes } from "node:crypto";
import { connectStore } from "@steward/store";
import { createEventBus } from "@steward/messaging";
import { Topics } from "@steward/proto";
import { createLogger, startTelemetry } from "@steward/telemetry";
import type { EscalationConfig } from "./config.ts";
import { SlaStore } from "./sla-store.ts";
import { PolicyRegistry } from "./policy-registry.ts";
import { SlaLedger } from "./sla-ledger.ts";
import { SlaTimers } from "./sla-timers.ts";
import { TicketLocks } from "./ticket-locks.ts";
import { slaInputOf } from "./inbound-events.ts";
import { buildEscalationApp } from "./app.ts";

export interface RunningEscalation {
  httpUrl: string;
  instanceId: string;
  close(): Promise<void>;
}

/** Every instance joins this group: each event is applied by one of them. */
export const CONSUMER_GROUP = "escalation";

export async function startEscalation(config: EscalationConfig): Promise<RunningEscalation> {
  const stopTelemetry = startTelemetry("escalation");
  const instanceId = config.STEWARD_INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString("hex")}`;
  const log = createLogger("escalation", config.LOG_LEVEL).child({ instanceId });
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-escalation" });
  const store = new SlaStore(storeConn.db);
  await store.init();
  const policies = new PolicyRegistry({ store, file: config.ESCALATION_POLICY_FILE, instanceId, log });
  await policies.init();
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-escalation",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
  });
  await bus.ensureTopics();

  // The ledger tells the timer about wake-ups it writes; the timer needs the ledger: tie them here.
  let wakeTimers: (at: Date) => void = () => undefined;
  const ledger = new SlaLedger({
    store,
    policies,
    bus,
    locks: new TicketLocks(),
    log,
    instanceId,
    leaseMs: config.ESCALATION_LEASE_MS,
    onWake: (at) => wakeTimers(at),
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
  });
  wakeTimers = (at) => timers.wake(at);
  timers.start();

  const events = await bus.subscribe({
    groupId: CONSUMER_GROUP,
    topics: [Topics.triaged, Topics.routing, Topics.received],
    partitionsConsumedConcurrently: 6,
    handler: async ({ envelope }) => {
      const timed = slaInputOf(envelope, new Date());
      if (timed === null) return;
      await ledger.applyEvent(envelope.ticketId, envelope.eventId, timed);
    },
  });

  const app = await buildEscalationApp({
    ledger,
    policies,
    logger: log,
    ready: async () => {
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      const checks = { kafka: kafka.status === "fulfilled" ? "ok" : "unreachable", store: db.status === "fulfilled" ? "ok" : "unreachable" };
      return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
    },
  });
  const address = await app.listen({ host: config.ESCALATION_HTTP_HOST, port: config.ESCALATION_HTTP_PORT });
  log.info({ address, policy: policies.active().policy.version }, "escalation listening");
  return {
    httpUrl: address,
    instanceId,
    async close() {
      await app.close();
      await events.stop();
      await timers.stop();
      await bus.close();
      await storeConn.close();
      await stopTelemetry();
    },
  };
}
