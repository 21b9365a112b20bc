// `npm run faults`: the fault campaign. A three-node Kafka, FerretDB, every service as its own process
// (two intake and two routing instances), simulated agents and an open-loop load of 20 tickets/s; then,
// in turn, kill -9 of each service, of the routing leader, of one broker and of the store, each started
// again after a few seconds as a supervisor would. After each fault the campaign waits for the system to
// settle and judges every ticket answered 202 (invariants.ts): offered, owned or visibly waiting; never two
// owners; no agent over capacity; no offer after resolve; and how long recovery took. Results go to
// test/faults/results/ (JSON and Markdown). Not part of `./steward test`: it takes 15-20 minutes.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { loadavg, cpus } from "node:os";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { createSigningKeySet, signToken } from "@steward/auth/dev-keys";
import { prepareKafka, startKafka, stopKafka, type KafkaCluster } from "@steward/infra/kafka";
import { prepareFerretDb, startFerretDb, stopFerretDb, type RunningStore } from "@steward/infra/ferretdb";
import { Envelope, Topics, channelFromProto } from "@steward/proto";
import { nowMs, sleep } from "../bench/clock.ts";
import { forkBenchChild, type BenchChild } from "../bench/ipc.ts";
import { startServiceProcess, type ServiceProcess } from "../bench/service-process.ts";
import { serviceDatabase, stewardEnvironment } from "../bench/systems.ts";
import { summarize } from "../bench/stats.ts";
import { agentLanguages } from "../bench/triage-languages.ts";
import type { Arrivals } from "../bench/agent-simulator.ts";
import type { GeneratorResult } from "../bench/load-generator.ts";
import { foldRoutingLog, judge, lostStages, takeOver, type LostStages, type RoutingRecord, type TakeOver, type Verdict } from "./invariants.ts";
import { createKafkaLog } from "@steward/messaging";
import { checkRoutingLog, ROUTING_LOG_TOPIC, type LogEntry } from "@steward/routing/log-check";

const root = fileURLToPath(new URL("../../", import.meta.url));
const benchDir = join(root, "test", "bench");

const FAULTS = ["intake", "triage", "routing-leader", "routing-follower", "escalation", "broker", "store"] as const;
type Fault = (typeof FAULTS)[number];

interface Options {
  rate: number;
  /** Seconds of load before the kill, while the target is down, and after it is back. */
  beforeS: number;
  downS: number;
  afterS: number;
  /** Longest wait for every accepted ticket to be owned once the load stops. */
  settleS: number;
  /**
   * After the settle window, the longest further wait for every accepted ticket to reach routing's log: a
   * ticket still upstream (a backlog in Kafka on a saturated machine) is late, not lost, and is only counted
   * lost once this is over; where each stopped is reported.
   */
  drainS: number;
  faults: Fault[];
  agents: number;
  capacity: number;
  resolveAfterMs: number;
  outDir: string;
}

function parse(argv: string[]): Options {
  const o: Options = {
    rate: 20,
    beforeS: 15,
    downS: 5,
    afterS: 30,
    settleS: 90,
    drainS: 120,
    faults: [...FAULTS],
    agents: 10,
    capacity: 2,
    resolveAfterMs: 4000,
    outDir: join(root, "test", "faults", "results"),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number, got ${value ?? "nothing"}`);
      i += 1;
      return n;
    };
    if (flag === "--rate") o.rate = num();
    else if (flag === "--before") o.beforeS = num();
    else if (flag === "--down") o.downS = num();
    else if (flag === "--after") o.afterS = num();
    else if (flag === "--settle") o.settleS = num();
    else if (flag === "--drain") o.drainS = num();
    else if (flag === "--agents") o.agents = num();
    else if (flag === "--capacity") o.capacity = num();
    else if (flag === "--out") o.outDir = ((i += 1), value ?? o.outDir);
    else if (flag === "--faults") {
      const list = (value ?? "").split(",").filter(Boolean);
      const bad = list.filter((f) => !(FAULTS as readonly string[]).includes(f));
      if (bad.length > 0 || list.length === 0) throw new Error(`--faults takes a comma list of ${FAULTS.join(", ")}; got ${value ?? "nothing"}`);
      o.faults = list as Fault[];
      i += 1;
    } else throw new Error(`unknown option ${flag}; options: --rate --before --down --after --settle --drain --agents --capacity --faults --out`);
  }
  return o;
}

const opts = (() => {
  try {
    return parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
})();

const runId = `${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
const infraDir = process.env["STEWARD_FAULTS_INFRA_DIR"] ?? join(root, ".steward", "faults-infra");
const logDir = join(root, ".steward", "faults", runId, "logs");
const log = (m: string) => process.stdout.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
await mkdir(logDir, { recursive: true });
await mkdir(opts.outDir, { recursive: true });

let cluster: KafkaCluster | undefined;
let store: RunningStore | undefined;
const services: ServiceProcess[] = [];
let agents: BenchChild | undefined;
let generator: BenchChild | undefined;
let consumer: Consumer | undefined;

let cleaning: Promise<void> | undefined;
async function cleanUp(): Promise<void> {
  // Every step is bounded: a clean-up that waits on a hung client would leave three brokers running.
  const bounded = (p: Promise<unknown> | undefined, ms = 10_000) => Promise.race([p?.catch(() => undefined), sleep(ms)]);
  cleaning ??= (async () => {
    await bounded(consumer?.disconnect());
    await bounded(agents?.call("close"));
    await bounded(Promise.allSettled([agents?.stop(), generator?.stop(), ...services.map((s) => s.kill("SIGTERM"))]), 20_000);
    for (const s of services) s.child.kill("SIGKILL");
    await bounded(cluster?.stop(), 30_000);
    await bounded(store?.stop(), 15_000);
  })();
  await cleaning;
}
process.on("SIGINT", () => void cleanUp().then(() => process.exit(130)));
process.on("SIGTERM", () => void cleanUp().then(() => process.exit(143)));

/** Routing's announced decisions, read all along from the start of the topic. */
const routingLog: RoutingRecord[] = [];
/** Tickets seen on the topics upstream of routing: where a ticket routing never mentioned stopped. */
const seen = { received: new Set<string>(), triaged: new Set<string>() };

function toRecord(env: Envelope): RoutingRecord | undefined {
  const p = env.payload;
  const base = { eventId: env.eventId, ticketId: env.ticketId, at: env.occurredAt?.getTime() ?? 0 };
  switch (p?.$case) {
    case "offerMade":
      return { ...base, kind: "offered", agentId: p.value.agentId };
    case "ticketAssigned":
      return { ...base, kind: "assigned", agentId: p.value.agentId, channel: channelFromProto(p.value.channel) ?? "?" };
    case "ownerReassigned":
      return { ...base, kind: "reassigned", agentId: p.value.toAgentId };
    case "ticketResolved":
      return { ...base, kind: "resolved" };
    case "ticketReopened":
      return { ...base, kind: "reopened", agentId: p.value.ownerId };
    case "ticketQueued":
    case "noEligibleAgent":
      return { ...base, kind: "waiting" };
    default:
      return undefined;
  }
}

let topicPrefix = "";
/** An admin's bearer token, for routing's status (the take-over's own report). */
let adminAuth = "";

/** Routing's own record (`steward.routing.log`) from its start, as a take-over reads it. */
async function readRoutingRecordLog(): Promise<LogEntry[]> {
  if (!cluster) throw new Error("not started");
  const recordLog = createKafkaLog({ brokers: cluster.brokers, clientId: "steward-faults", topicPrefix, name: ROUTING_LOG_TOPIC, retentionMs: 86_400_000 });
  const entries: LogEntry[] = [];
  try {
    await recordLog.read(0, ({ value }) => void entries.push(JSON.parse(value.toString("utf8")) as LogEntry));
  } finally {
    await recordLog.close();
  }
  return entries;
}

/** The leader's take-over and rebuild reports, as it tells a supervisor or admin. */
async function leaderStatus(): Promise<unknown> {
  const leader = await routingLeader();
  if (!leader) return undefined;
  const body = await fetch(`${leader.url}/v1/routing/status`, { headers: { authorization: adminAuth } }).then(
    (r) => (r.ok ? (r.json() as Promise<{ matcher?: { takeOver?: unknown; rebuild?: unknown; since?: unknown } }>) : undefined),
    () => undefined,
  );
  return body?.matcher ? { instance: leader.name, since: body.matcher.since, takeOver: body.matcher.takeOver, rebuild: body.matcher.rebuild } : undefined;
}

/** The routing instance that holds the lease, by its own /metrics (steward_routing_leader). */
async function routingLeader(): Promise<ServiceProcess | undefined> {
  for (const s of services.filter((x) => x.service === "routing")) {
    const text = await fetch(`${s.url}/metrics`).then(
      (r) => r.text(),
      () => "",
    );
    if (/^steward_routing_leader(\{[^}]*\})? 1$/m.test(text)) return s;
  }
  return undefined;
}

interface FaultResult {
  fault: Fault;
  target: string;
  sent: number;
  answered202: number;
  refused: Record<string, number>;
  /** When the refused requests were sent, seconds after the kill (first, last); absent when none was refused. */
  refusedWindowS?: [number, number];
  verdict: Omit<Verdict, "lost" | "doubleOwners" | "offersAfterResolve" | "overCapacity"> & {
    lost: number;
    doubleOwners: number;
    offersAfterResolve: number;
    overCapacity: string[];
    lostIds: string[];
    /** The lost tickets by the last topic that carried them. */
    lostAt: { intake: number; triage: number; routing: number };
  };
  /** Tickets not in routing's log when the settle window ended, and how long the drain then took. */
  lateAtSettle: number;
  drainedS: number;
  /** Routing-leader fault: the new epoch's marker and its first decision, from routing's own log. */
  takeOver?: TakeOver;
  /** Routing-leader fault: the new leader's own account (`GET /v1/routing/status`): snapshot and replay, then the rebuild. */
  leaderReport?: unknown;
  /** Kill to "ready again" of the restarted target (or of the new leader deciding, for the routing leader). */
  restartS: number;
  /** Kill to the offer of the last ticket that waited more than 1 s for it: when the backlog had cleared. */
  recoveryS: number;
  /** Intake-to-offer of tickets sent before the kill and after recovery. */
  offerP50BeforeMs: number | null;
  offerP99AfterMs: number | null;
  agentReconnects: number;
  settledS: number;
}

const offers = new Map<string, number>();
const owned: Array<{ ticketId: string; agentId: string }> = [];
const peakLoad = new Map<string, number>();
let reconnects = 0;
function absorb(a: Arrivals): void {
  for (const [t, at] of a.offers) if (!offers.has(t)) offers.set(t, at);
  owned.push(...a.owned);
  for (const [slot, n] of a.peakLoad) peakLoad.set(slot, Math.max(n, peakLoad.get(slot) ?? 0));
  reconnects += a.reconnects;
}

async function runFault(fault: Fault): Promise<FaultResult> {
  if (!agents || !generator || !cluster || !store) throw new Error("not started");
  const ag = agents;
  const intakeUrls = services.filter((s) => s.service === "intake").map((s) => s.url);
  const tag = `f-${runId}-${fault}`;
  const reconnectsBefore = reconnects;
  // What arrived before this fault belongs to the one before: taken in, then forgotten.
  await ag.call<Arrivals>("collect").then(absorb);
  peakLoad.clear();
  const poll = setInterval(() => void ag.call<Arrivals>("collect").then(absorb, () => undefined), 1000);
  const gen = generator.call<GeneratorResult>("run", {
    targets: intakeUrls,
    rate: opts.rate,
    warmupS: 0,
    durationS: opts.beforeS + opts.downS + opts.afterS,
    timeoutMs: 10_000,
    tag,
  });
  await sleep(opts.beforeS * 1000);

  let target = "";
  let restart: () => Promise<void>;
  if (fault === "broker") {
    // Node 1 is a controller and broker; its partitions fail over to the other two (RF 3, min.insync 2).
    target = "kafka node 1";
    await cluster.killNode(1, "SIGKILL");
    restart = () => (cluster as KafkaCluster).startNode(1);
  } else if (fault === "store") {
    target = "ferretdb";
    await store.kill("SIGKILL");
    restart = () => (store as RunningStore).restart();
  } else {
    let proc: ServiceProcess | undefined;
    if (fault === "routing-leader") proc = await routingLeader();
    else if (fault === "routing-follower") {
      const leader = await routingLeader();
      proc = services.find((s) => s.service === "routing" && s !== leader);
    } else proc = services.find((s) => s.service === fault);
    if (!proc) throw new Error(`no process for ${fault}`);
    target = `${proc.name} (pid ${proc.child.pid})`;
    await proc.kill("SIGKILL");
    restart = () => proc.restart();
  }
  const killedAt = nowMs();
  const killedAtWall = Date.now();
  log(`${fault}: killed ${target}`);
  let newLeaderS: number | undefined;
  if (fault === "routing-leader") {
    // The other instance takes the lease on its own; measured before the killed one is restarted.
    for (const deadline = Date.now() + opts.downS * 1000; Date.now() < deadline && newLeaderS === undefined; await sleep(200)) {
      if (await routingLeader()) newLeaderS = (nowMs() - killedAt) / 1000;
    }
  }
  const remaining = opts.downS * 1000 - (nowMs() - killedAt);
  if (remaining > 0) await sleep(remaining);
  await restart();
  const readyS = (nowMs() - killedAt) / 1000;
  log(`${fault}: ${target} back after ${readyS.toFixed(1)} s${newLeaderS === undefined ? "" : `; a new leader held the lease after ${newLeaderS.toFixed(1)} s`}`);
  const g = await gen;

  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  let refusedWindowS: [number, number] | undefined;
  for (let i = 0; i < g.status.length; i += 1) {
    const status = g.status[i] as number;
    if (status === 202 && g.ticketIds[i]) accepted.push(g.ticketIds[i] as string);
    else {
      const key = status === -1 ? "timeout" : status === -2 || status === 0 ? "connection" : String(status);
      refused[key] = (refused[key] ?? 0) + 1;
      const at = Math.round(((g.sentAt[i] as number) - killedAt) / 100) / 10;
      refusedWindowS = refusedWindowS ? [Math.min(refusedWindowS[0], at), Math.max(refusedWindowS[1], at)] : [at, at];
    }
  }
  // Settle: every accepted ticket owned by an agent, or the time is up.
  const settleStart = Date.now();
  const ownedSet = () => new Set(owned.map((o) => o.ticketId));
  while (Date.now() - settleStart < opts.settleS * 1000) {
    absorb(await ag.call<Arrivals>("collect"));
    const have = ownedSet();
    if (accepted.every((t) => have.has(t))) break;
    await sleep(500);
  }
  const settledS = (Date.now() - settleStart) / 1000;
  // Drain: a ticket routing has not mentioned yet may still be upstream (Kafka holds it; a saturated machine
  // is behind). Wait for it a bounded time; only then is it lost, and the report says where it stopped.
  const unmentioned = () => {
    const mentioned = new Set(routingLog.map((r) => r.ticketId));
    return accepted.filter((t) => !mentioned.has(t));
  };
  const lateAtSettle = unmentioned().length;
  const drainStart = Date.now();
  for (let left = lateAtSettle, lastLog = 0; left > 0 && Date.now() - drainStart < opts.drainS * 1000; left = unmentioned().length) {
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`${fault}: ${left} accepted tickets not in routing's log yet (upstream: ${lostStages(unmentioned(), seen).notTriaged.length} not triaged)`);
    }
    await sleep(1000);
  }
  const drainedS = lateAtSettle === 0 ? 0 : (Date.now() - drainStart) / 1000;
  clearInterval(poll);
  absorb(await ag.call<Arrivals>("collect"));
  await sleep(2000); // the last events reach the log reader

  // The whole log so far: an agent's load carries over from one fault to the next.
  const verdict = judge(accepted, foldRoutingLog(routingLog), { owned, peakLoad }, opts.capacity);
  const stages: LostStages = lostStages(verdict.lost, seen);
  const taken = fault === "routing-leader" ? takeOver(await readRoutingRecordLog(), killedAtWall) : undefined;
  const leaderReport = fault === "routing-leader" ? await leaderStatus() : undefined;
  let lastLate = killedAt;
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < g.status.length; i += 1) {
    const t = g.ticketIds[i];
    if (g.status[i] !== 202 || !t) continue;
    const intended = g.intended[i] as number;
    const offered = offers.get(t);
    const latency = offered === undefined ? Number.POSITIVE_INFINITY : offered - intended;
    if (intended < killedAt) before.push(latency);
    if (latency > 1000 && offered !== undefined) lastLate = Math.max(lastLate, offered);
  }
  const recoveredAt = lastLate;
  for (let i = 0; i < g.status.length; i += 1) {
    const t = g.ticketIds[i];
    if (g.status[i] !== 202 || !t || (g.intended[i] as number) <= recoveredAt) continue;
    const offered = offers.get(t);
    after.push(offered === undefined ? Number.POSITIVE_INFINITY : offered - (g.intended[i] as number));
  }
  const result: FaultResult = {
    fault,
    target,
    sent: g.status.length,
    answered202: accepted.length,
    refused,
    ...(refusedWindowS ? { refusedWindowS } : {}),
    verdict: {
      ...verdict,
      lost: verdict.lost.length,
      lostIds: verdict.lost.slice(0, 20),
      lostAt: { intake: stages.notReceived.length, triage: stages.notTriaged.length, routing: stages.notRouted.length },
      doubleOwners: verdict.doubleOwners.length,
      offersAfterResolve: verdict.offersAfterResolve.length,
    },
    restartS: Math.round((newLeaderS ?? readyS) * 10) / 10,
    recoveryS: Math.round(((recoveredAt - killedAt) / 1000) * 10) / 10,
    offerP50BeforeMs: summarize(before).p50,
    offerP99AfterMs: summarize(after).p99,
    agentReconnects: reconnects - reconnectsBefore,
    settledS: Math.round(settledS),
    lateAtSettle,
    drainedS: Math.round(drainedS),
    ...(taken ? { takeOver: taken } : {}),
    ...(leaderReport ? { leaderReport } : {}),
  };
  log(
    `${fault}: ${result.answered202}/${result.sent} answered 202 (refused ${JSON.stringify(refused)}${refusedWindowS ? `, sent ${refusedWindowS[0]} to ${refusedWindowS[1]} s after the kill` : ""}); owned ${verdict.owned}, offered ${verdict.offeredNotOwned}, waiting ${verdict.waiting}, ` +
      `lost ${verdict.lost.length} (${JSON.stringify(result.verdict.lostAt)}; ${lateAtSettle} not in routing's log at the settle's end, drained in ${result.drainedS} s), double owners ${verdict.doubleOwners.length}, over capacity ${verdict.overCapacity.length}, offers after resolve ${verdict.offersAfterResolve.length}; recovery ${result.recoveryS} s` +
      (leaderReport ? `; leader's report ${JSON.stringify(leaderReport)}` : "") +
      (taken
        ? `; new epoch ${(taken.epochAfterMs / 1000).toFixed(1)} s, first decision ${taken.firstDecisionAfterMs === null ? "none" : `${(taken.firstDecisionAfterMs / 1000).toFixed(1)} s`} after the kill (${taken.leader})`
        : ""),
  );
  return result;
}

function markdown(results: FaultResult[], meta: Record<string, unknown>): string {
  const rows = results.map(
    (r) =>
      `| ${r.fault} | ${r.target} | ${r.answered202} / ${r.sent} | ${
        (Object.entries(r.refused)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ") || "–") + (r.refusedWindowS ? ` (${r.refusedWindowS[0]} to ${r.refusedWindowS[1]} s)` : "")
      } | ${r.verdict.owned} | ${r.verdict.offeredNotOwned + r.verdict.waiting} | ${r.lateAtSettle}${r.lateAtSettle > 0 ? ` (${r.drainedS} s)` : ""} | **${r.verdict.lost}**${
        r.verdict.lost > 0 ? ` (intake ${r.verdict.lostAt.intake}, triage ${r.verdict.lostAt.triage}, routing ${r.verdict.lostAt.routing})` : ""
      } | **${r.verdict.doubleOwners}** | ${r.verdict.overCapacity.length} | ${r.verdict.offersAfterResolve} | ${r.restartS} s | ${
        r.takeOver
          ? `${(r.takeOver.epochAfterMs / 1000).toFixed(1)} / ${r.takeOver.firstDecisionAfterMs === null ? "–" : (r.takeOver.firstDecisionAfterMs / 1000).toFixed(1)} s`
          : "–"
      } | ${r.recoveryS} s | ${r.offerP50BeforeMs ?? "–"} / ${r.offerP99AfterMs ?? "–"} ms |`,
  );
  return [
    `# Fault campaign ${String(meta["generatedAt"])}`,
    "",
    `Machine: ${String(meta["machine"])}. Load ${opts.rate} tickets/s for ${opts.beforeS + opts.downS + opts.afterS} s per fault; the target is killed with SIGKILL after ${opts.beforeS} s and started again ${opts.downS} s later. ` +
      `Three Kafka nodes (RF 3, min.insync.replicas 2), FerretDB, intake ×2, triage ×1, routing ×2, escalation ×1; ${opts.agents} agents with capacity ${opts.capacity} per channel, resolving ${opts.resolveAfterMs} ms after accepting.`,
    "",
    "| fault | killed | 202 / sent | refused | owned | offered or waiting | late at settle (drained in) | lost | double owners | agents over capacity | offers after resolve | back / new leader | new epoch / first decision | recovery | offer p50 before / p99 after |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "- *lost*: answered 202, then neither offered, owned nor visibly waiting once the system settled and drained; in brackets the last stage that carried them (intake: never published to `steward.tickets.received`; triage: never triaged; routing: triaged, never in routing's events).",
    `- *late at settle*: not in routing's events when the ${opts.settleS} s settle window ended (still upstream, in Kafka, on a saturated machine); the campaign then waits up to ${opts.drainS} s more for them before counting any as lost.`,
    "- *new epoch / first decision*: from the kill to the new leader's epoch marker in routing's own log (lease taken, the old leader fenced) and to the first ticket record it appended (its first decision), by the leaders' clocks.",
    "- *recovery*: from the kill to the offer of the last ticket that waited more than 1 s for its offer (0 when none did).",
    "- *refused*: answers other than 202 (e.g. 503 while Kafka or the store is unreachable) and connection errors to the killed intake, with when the first and last of them were sent (seconds after the kill); callers retry these, nothing was accepted.",
    "",
    `Routing's own log (\`steward.routing.log\`) replayed by its checker after the last fault, as a take-over would: ${JSON.stringify(meta["routingLogCheck"])}.`,
  ].join("\n");
}

const started = Date.now();
try {
  log(`run ${runId}: infra in ${infraDir}, logs in ${logDir}`);
  await stopKafka(join(infraDir, "kafka")).catch(() => undefined);
  await stopFerretDb(join(infraDir, "ferretdb")).catch(() => undefined);
  await rm(infraDir, { recursive: true, force: true });
  await prepareKafka({ log });
  await prepareFerretDb({ log });
  cluster = await startKafka({ stateDir: join(infraDir, "kafka"), nodes: 3, heapMb: 256, startupTimeoutMs: 180_000, log });
  store = await startFerretDb({ stateDir: join(infraDir, "ferretdb"), log });
  log(`kafka ${cluster.brokers.join(",")}; store ${store.uri}`);

  const keys = createSigningKeySet();
  adminAuth = `Bearer ${await signToken(keys.privateJwk, { subject: "faults-admin", roles: ["admin"] })}`;
  const env = { ...stewardEnvironment({ infra: { brokers: cluster.brokers, mongoUri: store.uri }, runId, client: "kafkajs", publicJwks: keys.publicJwks, prefix: "faults" }) };
  const prefix = env["STEWARD_TOPIC_PREFIX"] as string;
  topicPrefix = prefix;
  const topology: Array<[ServiceProcess["service"], number]> = [
    ["routing", 2],
    ["triage", 1],
    ["escalation", 1],
    ["intake", 2],
  ];
  for (const [svc, count] of topology) {
    for (let i = 1; i <= count; i += 1) {
      const name = count > 1 ? `${svc}-${i}` : svc;
      services.push(
        await startServiceProcess({
          name,
          service: svc,
          env: { ...env, MONGODB_DATABASE: serviceDatabase(env["MONGODB_DATABASE"] as string, svc), STEWARD_INSTANCE_ID: `${runId}-${name}` },
          logDir,
        }),
      );
      log(`${name} ready`);
    }
  }
  const kafka = new Kafka({ clientId: "steward-faults", brokers: cluster.brokers, logLevel: logLevel.NOTHING });
  consumer = kafka.consumer({ groupId: `faults-${runId}` });
  await consumer.connect();
  const upstream: Record<string, Set<string>> = { [`${prefix}${Topics.received}`]: seen.received, [`${prefix}${Topics.triaged}`]: seen.triaged };
  await consumer.subscribe({ topics: [`${prefix}${Topics.routing}`, ...Object.keys(upstream)], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (!message.value) return;
      const env = Envelope.decode(message.value);
      const stage = upstream[topic];
      if (stage) {
        if (env.ticketId) stage.add(env.ticketId);
        return;
      }
      const r = toRecord(env);
      if (r) routingLog.push(r);
    },
  });

  agents = await forkBenchChild("agents", join(benchDir, "agent-simulator.ts"), { logFile: join(logDir, "agents.log") });
  const gateways = services.filter((s) => s.service === "routing").map((s) => s.url);
  await agents.call("start", {
    agents: opts.agents,
    capacityPerChannel: opts.capacity,
    resolveAfterMs: opts.resolveAfterMs,
    languages: await agentLanguages(),
    gateways,
    idPrefix: `faults-${runId}`,
    signingKey: keys.privateJwk,
  });
  generator = await forkBenchChild("generator", join(benchDir, "load-generator.ts"), { logFile: join(logDir, "generator.log") });
  log(`${opts.agents} agents on ${gateways.length} gateways; load ${opts.rate}/s`);

  const results: FaultResult[] = [];
  for (const fault of opts.faults) {
    results.push(await runFault(fault));
    await sleep(3000);
  }
  // Routing's own record, replayed by its checker as a take-over would (ADR 0014).
  const entries = await readRoutingRecordLog();
  const logCheck = checkRoutingLog(entries, () => opts.capacity);
  const routingLogCheck = {
    records: logCheck.records,
    epochs: entries.filter((e) => e.type === "epoch").length,
    fenced: logCheck.fenced,
    doubleOwners: logCheck.doubleOwners.length,
    overCapacity: logCheck.overCapacity.length,
    offersAfterResolve: logCheck.offersAfterResolve.length,
    lastStates: Object.fromEntries(["waiting", "owned", "resolved"].map((s) => [s, [...logCheck.last.values()].filter((l) => l.status === s).length])),
  };
  log(`routing log: ${JSON.stringify(routingLogCheck)}`);
  const generatedAt = new Date().toISOString();
  const meta = {
    routingLogCheck,
    generatedAt,
    runId,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} at the end`,
    wallClockS: Math.round((Date.now() - started) / 1000),
    options: opts,
  };
  await writeFile(join(opts.outDir, "latest.json"), JSON.stringify({ ...meta, results }, null, 2));
  await writeFile(join(opts.outDir, "latest.md"), `${markdown(results, meta)}\n`);
  log(`results in ${opts.outDir}/latest.md (${meta.wallClockS} s)`);
  const bad = results.filter((r) => r.verdict.lost > 0 || r.verdict.doubleOwners > 0 || r.verdict.overCapacity.length > 0 || r.verdict.offersAfterResolve > 0);
  if (routingLogCheck.doubleOwners + routingLogCheck.overCapacity + routingLogCheck.offersAfterResolve > 0) bad.push(...results.slice(0, 1));
  await cleanUp();
  process.exit(bad.length > 0 ? 1 : 0);
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await cleanUp();
  process.exit(2);
}
