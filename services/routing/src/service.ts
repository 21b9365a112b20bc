// Starts routing: store, event bus, the router fed by triage, the live work hub and the HTTP gateway.
import { randomBytes } from "node:crypto";
import { connectStore } from "@steward/store";
import { createKafkaJsBus } from "@steward/messaging";
import { Topics, channelFromProto } from "@steward/proto";
import { createLogger, startTelemetry } from "@steward/telemetry";
import type { RoutingConfig } from "./config.ts";
import { RoutingStore, type ChannelName } from "./routing-store.ts";
import { Router } from "./router.ts";
import { AgentDirectory } from "./agents.ts";
import { WorkHub } from "./work-hub.ts";
import { buildRoutingApp } from "./app.ts";

export interface RunningRouting {
  httpUrl: string;
  close(): Promise<void>;
}

export async function startRouting(config: RoutingConfig): Promise<RunningRouting> {
  const stopTelemetry = startTelemetry("routing");
  const instanceId = config.STEWARD_INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString("hex")}`;
  const log = createLogger("routing", config.LOG_LEVEL).child({ instanceId });
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-routing" });
  const store = new RoutingStore(storeConn.db);
  await store.init();
  const bus = createKafkaJsBus({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? "steward-routing", topicPrefix: config.STEWARD_TOPIC_PREFIX, log });
  await bus.ensureTopics();
  const router = new Router({
    store,
    bus,
    offerTimeoutMs: (ch: ChannelName) => 1000 * (ch === "chat" || ch === "phone" ? config.ROUTING_OFFER_TIMEOUT_REALTIME_S : config.ROUTING_OFFER_TIMEOUT_ASYNC_S),
    reopenWindowMs: config.ROUTING_REOPEN_WINDOW_DAYS * 86_400_000,
  });
  await router.recoverOpenOffers();
  const agents = new AgentDirectory(store, bus);
  const hub = new WorkHub();

  const triaged = await bus.subscribe({
    groupId: "routing",
    topics: [Topics.triaged],
    handler: async ({ envelope }) => {
      if (envelope.payload?.$case !== "ticketTriaged") return;
      const t = envelope.payload.value;
      await router.onTriaged({
        ticketId: envelope.ticketId,
        eventId: envelope.eventId,
        channel: channelFromProto(t.channel) ?? "api",
        group: t.group,
        overflowGroup: t.overflowGroup,
        language: t.language,
        priority: t.priority || 3,
        requiredSkills: t.requiredSkills.map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional })),
        subject: "",
        retriage: t.retriage,
      });
    },
  });
  // Every instance hears every routing event, to push live work to the agents connected to it.
  const desk = await bus.subscribe({
    groupId: `routing-desk-${instanceId}`,
    topics: [Topics.routing],
    fromBeginning: false,
    handler: async ({ envelope }) => hub.onEvent(envelope),
  });

  const app = await buildRoutingApp({
    router,
    agents,
    store,
    hub,
    logger: log,
    ready: async () => {
      const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
      const checks = { kafka: kafka.status === "fulfilled" ? "ok" : "unreachable", store: db.status === "fulfilled" ? "ok" : "unreachable" };
      return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
    },
  });
  const address = await app.listen({ host: config.ROUTING_HTTP_HOST, port: config.ROUTING_HTTP_PORT });
  log.info({ address }, "agent gateway listening");
  return {
    httpUrl: address,
    async close() {
      await app.close();
      router.stop();
      await triaged.stop();
      await desk.stop();
      await bus.close();
      await storeConn.close();
      await stopTelemetry();
    },
  };
}
