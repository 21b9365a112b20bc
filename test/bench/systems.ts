// Starts what a bench phase measures: Steward's real services as separate processes with simulated
// agents, or the floor's pass-through stages with their observer. Both expose the same surface to the
// conductor: HTTP targets for the load generator, and a child that reports arrivals.
import { createSigningKeySet } from "@steward/auth/dev-keys";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { forkBenchChild, stopProcess, type BenchChild } from "./ipc.ts";
export { freePort };
import { freePort, startServiceProcess, type ServiceProcess } from "./service-process.ts";
import type { AgentsSpec } from "./agent-simulator.ts";
import type { KafkaClientName } from "@steward/messaging";
import { MongoClient } from "mongodb";
import { Kafka, logLevel } from "kafkajs";

const here = fileURLToPath(new URL("./", import.meta.url));

export interface Infra {
  brokers: string[];
  mongoUri: string;
}

export interface RunningSystem {
  /** Base URLs answering POST /v1/tickets. */
  targets: string[];
  /** Reports arrivals (offers seen by agents, or records seen by the floor's observer). */
  observer: BenchChild;
  /** Every process of this system, by name, for CPU and memory accounting. */
  processes: Array<{ name: string; pid: number }>;
  /** Services whose GET /metrics counts their Kafka requests (Steward's; the floor has none). */
  metrics?: Array<{ name: string; url: string }>;
  /** Steward's: where its topics are, for the hop profile read before they are deleted. */
  kafka?: { brokers: string[]; topicPrefix: string };
  stop(): Promise<void>;
}

/** A bench leaves nothing behind in the broker or store it measured: later runs start from the same state. */
export async function dropDatabase(uri: string, database: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: "steward-bench", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

export interface StewardOptions {
  infra: Infra;
  runId: string;
  logDir: string;
  client: KafkaClientName;
  instances: { intake: number; triage: number; routing: number; escalation: number };
  agents: Omit<AgentsSpec, "gateways" | "idPrefix" | "signingKey">;
  /** Service name -> extra node flags (e.g. --cpu-prof), for every instance of it. */
  execArgv?: Record<string, string[]>;
}

/**
 * The environment every Steward service of a run gets: one topic prefix, the run's key set, and the run's
 * database name, which each service suffixes with its own name (serviceDatabase) as deployments do.
 */
export function stewardEnvironment(opts: { infra: Infra; runId: string; client: KafkaClientName; publicJwks: unknown; prefix?: string }): Record<string, string> {
  return {
    STEWARD_AUTH_JWKS: JSON.stringify(opts.publicJwks),
    INTAKE_DEV_MODE: "true",
    INTAKE_ALLOW_ANONYMOUS_DEV: "true",
    KAFKA_BROKERS: opts.infra.brokers.join(","),
    MONGODB_URI: opts.infra.mongoUri,
    MONGODB_DATABASE: `${opts.prefix ?? "bench"}_${opts.runId.replace(/-/g, "_")}`.slice(0, 60),
    STEWARD_TOPIC_PREFIX: `${opts.prefix ?? "bench"}-${opts.runId}.`,
    // Read by services once they select their Kafka client from config; ignored before that.
    STEWARD_KAFKA_CLIENT: opts.client,
    LOG_LEVEL: "warn",
    OTEL_TRACES_EXPORTER: "none",
  };
}

/** A service's own database in a run (MONGODB_DATABASE allows 64 characters; the run's name is at most 60). */
export function serviceDatabase(runDatabase: string, service: string): string {
  return `${runDatabase.slice(0, 60 - service.length - 1)}_${service}`;
}

export async function startSteward(opts: StewardOptions, log: (m: string) => void): Promise<RunningSystem> {
  // The run's own key set: services verify every agent's token, as in production.
  const keys = createSigningKeySet();
  const common = stewardEnvironment({ infra: opts.infra, runId: opts.runId, client: opts.client, publicJwks: keys.publicJwks });
  const database = common["MONGODB_DATABASE"] as string;
  const databases = (["routing", "triage", "escalation", "intake"] as const).map((svc) => serviceDatabase(database, svc));
  const services: ServiceProcess[] = [];
  const urls: Record<string, string[]> = { intake: [], triage: [], routing: [], escalation: [] };
  let agentsChild: BenchChild | undefined;
  const stopAll = async () => {
    await Promise.allSettled([...services.map((s) => stopProcess(s.child, 20_000)), ...(agentsChild ? [agentsChild.stop(20_000)] : [])]);
  };
  try {
    // Routing and triage first: their consumer groups exist before the first ticket arrives.
    for (const svc of ["routing", "triage", "escalation", "intake"] as const) {
      for (let i = 0; i < opts.instances[svc]; i += 1) {
        const name = opts.instances[svc] > 1 ? `${svc}-${i + 1}` : svc;
        const proc = await startServiceProcess({
          name,
          service: svc,
          env: { ...common, MONGODB_DATABASE: serviceDatabase(database, svc), STEWARD_INSTANCE_ID: `${opts.runId}-${name}` },
          logDir: opts.logDir,
          ...(opts.execArgv?.[svc] ? { execArgv: opts.execArgv[svc] } : {}),
        });
        services.push(proc);
        urls[svc]?.push(proc.url);
        log(`${name} ready at ${proc.url} (pid ${proc.child.pid})`);
      }
    }
    const agents = await forkBenchChild("agents", join(here, "agent-simulator.ts"), { logFile: join(opts.logDir, "agents.log") });
    agentsChild = agents;
    await agents.call("start", { ...opts.agents, gateways: urls["routing"], idPrefix: `bench-${opts.runId}`, signingKey: keys.privateJwk });
    log(`${opts.agents.agents} agents online (capacity ${opts.agents.capacityPerChannel} per channel)`);
    return {
      targets: urls["intake"] ?? [],
      observer: agents,
      processes: [...services.map((s) => ({ name: s.name, pid: s.child.pid as number })), { name: "agents", pid: agents.pid }],
      metrics: services.map((s) => ({ name: s.name, url: s.url })),
      kafka: { brokers: opts.infra.brokers, topicPrefix: common["STEWARD_TOPIC_PREFIX"] as string },
      async stop() {
        await agents.call("close").catch(() => undefined);
        await stopAll();
        for (const db of databases) await dropDatabase(opts.infra.mongoUri, db).catch((err: unknown) => log(`could not drop ${db}: ${String(err)}`));
        await deleteTopics(opts.infra.brokers, common["STEWARD_TOPIC_PREFIX"] as string).catch((err: unknown) => log(`could not delete topics: ${String(err)}`));
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface FloorOptions {
  infra: Infra;
  runId: string;
  logDir: string;
  client: KafkaClientName;
  /** Same counts as Steward's: http stages like intake, first relays like triage, second like routing. */
  instances: { http: number; stage1: number; stage2: number };
}

export async function startFloor(opts: FloorOptions, log: (m: string) => void): Promise<RunningSystem> {
  const prefix = `benchfloor-${opts.client}-${opts.runId}.`;
  const base = { KAFKA_BROKERS: opts.infra.brokers.join(","), STEWARD_TOPIC_PREFIX: prefix, BENCH_CLIENT: opts.client };
  const script = join(here, "floor-node.ts");
  const started: BenchChild[] = [];
  const targets: string[] = [];
  try {
    const observer = await forkBenchChild("observer", script, { env: { ...base, BENCH_ROLE: "observer" }, logFile: join(opts.logDir, `floor-${opts.client}-observer.log`) });
    started.push(observer);
    const relays: Array<[string, string, string, number]> = [
      ["stage2", "triaged", "routing", opts.instances.stage2],
      ["stage1", "received", "triaged", opts.instances.stage1],
    ];
    for (const [name, from, to, count] of relays) {
      for (let i = 0; i < count; i += 1) {
        const n = count > 1 ? `${name}-${i + 1}` : name;
        started.push(
          await forkBenchChild(n, script, { env: { ...base, BENCH_ROLE: "relay", BENCH_FROM: from, BENCH_TO: to }, logFile: join(opts.logDir, `floor-${opts.client}-${n}.log`) }),
        );
      }
    }
    for (let i = 0; i < opts.instances.http; i += 1) {
      const n = opts.instances.http > 1 ? `http-${i + 1}` : "http";
      const port = await freePort();
      started.push(
        await forkBenchChild(n, script, { env: { ...base, BENCH_ROLE: "http", BENCH_PORT: String(port) }, logFile: join(opts.logDir, `floor-${opts.client}-${n}.log`) }),
      );
      targets.push(`http://127.0.0.1:${port}`);
    }
    log(`floor (${opts.client}) ready: ${started.map((c) => `${c.name}=${c.pid}`).join(" ")}`);
    return {
      targets,
      observer,
      processes: started.map((c) => ({ name: `floor-${opts.client}-${c.name}`, pid: c.pid })),
      stop: async () => {
        await Promise.allSettled(started.map((c) => c.stop()));
        await deleteTopics(opts.infra.brokers, prefix).catch((err: unknown) => log(`could not delete topics: ${String(err)}`));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw err;
  }
}
