// Starts one routing instance: every instance serves the agent gateway (HTTP + gRPC) and pushes live work
// to its connected agents; the one holding the matcher lease leads: it decides in memory, appends every
// change to the routing log and writes the store behind (docs/adr/0014); the others forward agent commands
// to it through its peer endpoint.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { connectStore } from "@steward/store";
import { kafkaSettings } from "@steward/config";
import { createEventBus, createKafkaLog } from "@steward/messaging";
import { Topics } from "@steward/proto";
import { createLogger, createMetricsRegistry } from "@steward/telemetry";
import { DEFAULT_ROUTING_CONFIG, type Channel, type RoutingConfig as EngineConfig } from "./domain/index.ts";
import { DEV_PEER_SECRET, type RoutingConfig } from "./config.ts";
import { LoggedState, ROUTING_LOG_TOPIC } from "./logged-state.ts";
import { LeaderCommands, startPeerServer } from "./leader-commands.ts";
import type { RoutingState } from "./routing-state.ts";
import { RoutingStore } from "./routing-store.ts";
import { AgentDirectory } from "./agents.ts";
import { WorkHub } from "./work-hub.ts";
import { buildRoutingApp } from "./app.ts";
import { startAgentDeskServer, type DeskOperations } from "./agent-desk-grpc.ts";
import { Outbox } from "./outbox.ts";
import { TicketLedger } from "./ticket-ledger.ts";
import { TicketCache } from "./ticket-cache.ts";
import { Matcher } from "./matcher.ts";
import { MatcherLease } from "./matcher-lease.ts";
import { RoutingGateway } from "./gateway.ts";
import { StreamPresence } from "./stream-presence.ts";
import { createTokenVerifier, kafkaAuditSink, verifierSettingsOf } from "@steward/auth";
import { agentDeskAccess, type RoutingFacts } from "./access.ts";
import { createRoutingMetrics } from "./routing-metrics.ts";

export interface RunningRouting {
  httpUrl: string;
  grpcPort: number;
  instanceId: string;
  close(): Promise<void>;
}

/** The engine's settings from the service's configuration. */
export function engineConfigOf(config: RoutingConfig): EngineConfig {
  const realtime = config.ROUTING_OFFER_TIMEOUT_REALTIME_S * 1000;
  const asynchronous = config.ROUTING_OFFER_TIMEOUT_ASYNC_S * 1000;
  const offerTimeoutMs: Record<Channel, number> = {
    chat: realtime,
    phone: realtime,
    social: config.ROUTING_OFFER_TIMEOUT_SOCIAL_S * 1000,
    email: asynchronous,
    web: asynchronous,
    api: asynchronous,
  };
  return {
    ...DEFAULT_ROUTING_CONFIG,
    maxParallelOffers: config.ROUTING_MAX_PARALLEL_OFFERS,
    offerTimeoutMs,
    reopenWindowMs: config.ROUTING_REOPEN_WINDOW_DAYS * 86_400_000,
    defaultRelaxation: {
      ...DEFAULT_ROUTING_CONFIG.defaultRelaxation,
      dropOptionalSkillsAfterMs: config.ROUTING_RELAX_OPTIONAL_SKILLS_AFTER_S * 1000,
      addOverflowGroupAfterMs: config.ROUTING_RELAX_OVERFLOW_GROUP_AFTER_S * 1000,
    },
  };
}

export async function startRouting(config: RoutingConfig): Promise<RunningRouting> {
  // Identity first: a gateway that could not tell who is calling must not start at all.
  const verifier = createTokenVerifier(verifierSettingsOf(config));
  const instanceId = config.STEWARD_INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString("hex")}`;
  const log = createLogger("routing", config.LOG_LEVEL).child({ instanceId });
  const metrics = createMetricsRegistry("routing");
  const routingMetrics = createRoutingMetrics(metrics);
  const storeConn = await connectStore(config.MONGODB_URI, config.MONGODB_DATABASE, { appName: "steward-routing", metrics, log, diagnose: config.STEWARD_STORE_SDAM_DEBUG });
  const store = new RoutingStore(storeConn.db);
  await store.init();
  const bus = createEventBus({
    client: config.STEWARD_KAFKA_CLIENT,
    encoding: config.STEWARD_KAFKA_ENCODING,
    ...kafkaSettings(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? "steward-routing",
    topicPrefix: config.STEWARD_TOPIC_PREFIX,
    log,
    metrics,
  });
  await bus.ensureTopics();

  // The lease decides who leads; the logged state acts only while it is held (with its safety margin).
  let leading = (): boolean => false;
  let logged: LoggedState | null = null;
  let routingLog: ReturnType<typeof createKafkaLog> | null = null;
  if (config.ROUTING_STATE === "log") {
    routingLog = createKafkaLog({
      ...kafkaSettings(config),
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? "steward-routing",
      topicPrefix: config.STEWARD_TOPIC_PREFIX,
      name: ROUTING_LOG_TOPIC,
      retentionMs: config.ROUTING_LOG_RETENTION_MS,
      log,
      metrics,
    });
    await routingLog.ensure();
    logged = new LoggedState({
      store,
      log: routingLog,
      logger: log,
      snapshotMs: config.ROUTING_SNAPSHOT_MS,
      followHoldMs: config.ROUTING_FOLLOW_HOLD_MS,
      isLeader: () => leading(),
      onFlush: (tickets, agents, ms) => routingMetrics.snapshotWritten(tickets, agents, ms),
    });
  }
  const state: RoutingState = logged ?? store;
  if (logged !== null && config.ROUTING_PEER_SECRET === undefined) log.warn("ROUTING_PEER_SECRET is not set: using the development secret; set it outside development");

  const engineConfig = engineConfigOf(config);
  const outbox = new Outbox(bus, state, log);
  const ledger = new TicketLedger({
    store: state,
    outbox,
    cache: new TicketCache(),
    offerTimeoutMs: (channel) => engineConfig.offerTimeoutMs[channel],
    maxParallelOffers: engineConfig.maxParallelOffers,
    reopenWindowMs: engineConfig.reopenWindowMs,
    metrics: routingMetrics,
  });
  const agents = new AgentDirectory(store, bus);
  const hub = new WorkHub();
  // The leader's own events reach the agents connected here, and its matcher, without waiting for Kafka
  // (the hub deduplicates; the matcher skips what it already holds).
  outbox.deliverLocally((events) => {
    for (const e of events) hub.onEvent(e);
    matcher.noticeOwnEvents(events);
  });
  // Group ids carry the topic prefix, so test runs (and systems) sharing a cluster never share a group.
  let restarting = false;
  const matcher: Matcher = new Matcher({
    store: state,
    ledger,
    outbox,
    bus,
    log,
    engineConfig,
    groupId: `${config.STEWARD_TOPIC_PREFIX}routing-matcher`,
    tickMs: config.ROUTING_TICK_MS,
    sweepMs: config.ROUTING_OUTBOX_SWEEP_MS,
    holdGraceMs: config.ROUTING_HOLD_GRACE_MS,
    metrics: routingMetrics,
    followTicketEvents: logged === null,
    ...(logged === null
      ? {}
      : {
          takeOver: async (term: number) => ({ ...(await logged.takeOver(term, instanceId)) }),
          handBack: () => logged.handBack(),
          onDeposed: (err: Error) => {
            // The log refused an append: what this instance holds in memory may be ahead of the record.
            // Start over from the snapshot and the log, as a new leader would.
            if (restarting) return;
            restarting = true;
            log.error({ err }, "routing state deposed; rebuilding from the snapshot and the log");
            setImmediate(() => {
              void (async () => {
                await matcher.stop();
                if (lease.isHeld()) await matcher.start(lease.term);
              })()
                .catch((e: unknown) => log.error({ err: e }, "routing rebuild after a failed append failed"))
                .finally(() => {
                  restarting = false;
                });
            });
          },
        }),
  });
  const peerSecret = config.ROUTING_PEER_SECRET ?? DEV_PEER_SECRET;
  const commands = new LeaderCommands({ ledger, state: logged, store, secret: peerSecret, log });
  const peerHost = config.ROUTING_PEER_HOST ?? config.ROUTING_HTTP_HOST;
  const peer = logged === null ? null : await startPeerServer({ commands, host: peerHost, port: config.ROUTING_PEER_PORT, secret: peerSecret, log });
  const advertiseHost = config.ROUTING_ADVERTISE_HOST ?? (peerHost === "0.0.0.0" || peerHost === "::" ? hostname() : peerHost);
  const peerUrl = peer === null ? undefined : `http://${advertiseHost.includes(":") ? `[${advertiseHost}]` : advertiseHost}:${peer.port}`;
  routingMetrics.watchQueues(() => matcher.queues(Date.now()));
  const lease = new MatcherLease({
    store,
    owner: instanceId,
    leaseMs: config.ROUTING_LEASE_MS,
    renewMs: config.ROUTING_LEASE_RENEW_MS,
    log,
    url: () => peerUrl,
    events: { acquired: (term) => matcher.start(term), lost: () => matcher.stop(), holderLate: () => logged?.prepare() },
  });
  leading = () => lease.isHeld();
  routingMetrics.watchLeadership(() => lease.isHeld());

  // Every instance hears every routing event, to push live work to the agents connected to it, and
  // escalation's actions, to tell owners about their tickets' SLA warnings and breaches.
  const deskEvents = await bus.subscribe({
    groupId: `${config.STEWARD_TOPIC_PREFIX}routing-desk-${instanceId}`,
    topics: [Topics.routing, Topics.escalation],
    fromBeginning: false,
    handler: async ({ envelope }) => hub.onEvent(envelope),
  });
  logged?.follow(); // standing by until the lease says otherwise
  await lease.start();

  const presence = new StreamPresence({ agents, bus, log, graceMs: config.ROUTING_DISCONNECT_GRACE_MS });
  const gateway = new RoutingGateway({ store, state, commands, ledger, agents, hub, presence, matcher, lease, instanceId, bus });
  const audit = kafkaAuditSink(bus, "routing", log);
  const facts: RoutingFacts = { ticket: (id) => gateway.ticketDoc(id), agent: (id) => gateway.agentDoc(id), offerAgent: (id) => gateway.offerAgent(id) };
  // One readiness check for HTTP /health/ready and gRPC health.
  const ready = async () => {
    const [kafka, db] = await Promise.allSettled([bus.ping(), storeConn.ping()]);
    const checks = { kafka: kafka.status === "fulfilled" ? "ok" : "unreachable", store: db.status === "fulfilled" ? "ok" : "unreachable" };
    return { ok: kafka.status === "fulfilled" && db.status === "fulfilled", checks };
  };
  const app = await buildRoutingApp({
    gateway,
    verifier,
    audit,
    logger: log,
    metrics,
    ready,
  });
  const address = await app.listen({ host: config.ROUTING_HTTP_HOST, port: config.ROUTING_HTTP_PORT });
  const desk: DeskOperations = {
    accept: (offerId, agentId) => gateway.accept(offerId, agentId),
    decline: (offerId, agentId, reason) => gateway.decline(offerId, agentId, reason),
    resolve: (ticketId, agentId) => gateway.resolve(ticketId, agentId),
    reply: (ticketId, agentId, input) => gateway.reply(ticketId, agentId, input),
    setPresence: async (agentId, presence) => {
      // StreamWork and SetPresence act as the token's subject only (actingAsSelf): the agent is the actor.
      await gateway.setPresence(agentId, presence, agentId);
      return true;
    },
    agentExists: async (agentId) => (await store.getAgent(agentId)) !== null,
    openWork: (agentId) => gateway.openWork(agentId),
    listen: (agentId, onItem) => gateway.listen(agentId, onItem),
  };
  const grpc = await startAgentDeskServer(
    desk,
    config.ROUTING_HTTP_HOST,
    config.ROUTING_GRPC_PORT,
    { rules: agentDeskAccess(facts), verifier, audit },
    async () => (await ready()).ok,
  );
  log.info({ address, grpcPort: grpc.port, matcher: lease.isHeld() }, "agent gateway listening");
  return {
    httpUrl: address,
    grpcPort: grpc.port,
    instanceId,
    async close() {
      await grpc.close();
      await app.close();
      await presence.close();
      // Consumers leave their groups in parallel: each waits for its fetch in flight to return.
      logged?.retire(); // a hand-back at shutdown does not start following again
      await Promise.all([lease.stop().then(() => matcher.stop()), deskEvents.stop(), logged?.stopFollowing()]);
      await outbox.idle();
      await peer?.app.close();
      await routingLog?.close();
      await bus.close();
      await storeConn.close();
    },
  };
}
