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
import { startAgentDeskServer, type DeskOperations } from "./agent-desk-grpc.ts";
import type { WorkItem } from "./work-hub.ts";

export interface RunningRouting {
  httpUrl: string;
  grpcPort: number;
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
  const deskEvents = await bus.subscribe({
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
  const desk: DeskOperations = {
    accept: (offerId, agentId) => router.accept(offerId, agentId),
    decline: (offerId, agentId, reason) => router.decline(offerId, agentId, reason),
    resolve: (ticketId, agentId) => router.resolve(ticketId, agentId),
    setPresence: async (agentId, presence) => {
      const agent = await agents.setPresence(agentId, presence);
      if (agent && presence === "available") await router.dispatchForAgent(agentId);
      return agent !== null;
    },
    agentExists: async (agentId) => (await store.agents.findOne({ _id: agentId })) !== null,
    openWork: async (agentId) => {
      const items: WorkItem[] = [];
      const offers = await store.offers.find({ agentId, status: "open", expiresAt: { $gt: new Date() } }).toArray();
      for (const o of offers) items.push({ kind: "offer", ticketId: o.ticketId, offerId: o._id, expiresAt: o.expiresAt.toISOString(), channel: o.channel });
      const owned = await store.tickets.find({ ownerId: agentId, state: "assigned" }).toArray();
      for (const t of owned) items.push({ kind: "assignment", ticketId: t._id, channel: t.channel, subject: t.subject });
      return items;
    },
    listen: (agentId, onItem) => hub.listen(agentId, onItem),
  };
  const grpc = await startAgentDeskServer(desk, config.ROUTING_HTTP_HOST, config.ROUTING_GRPC_PORT);
  log.info({ address, grpcPort: grpc.port }, "agent gateway listening");
  return {
    httpUrl: address,
    grpcPort: grpc.port,
    async close() {
      await grpc.close();
      await app.close();
      router.stop();
      await triaged.stop();
      await deskEvents.stop();
      await bus.close();
      await storeConn.close();
      await stopTelemetry();
    },
  };
}
