// Starts what a bench phase measures: Steward's real services as separate processes with simulated
// agents, or the floor's pass-through stages with their observer. Both expose the same surface to the
// conductor: HTTP targets for the load generator, and a child that reports arrivals.
import { createSigningKeySet } from "@steward/auth/dev-keys";
import { spawn, type ChildProcess } from "node:child_process";
import { open } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { forkBenchChild, stopProcess, type BenchChild } from "./ipc.ts";
import { sleep } from "./clock.ts";
import type { AgentsSpec } from "./agent-simulator.ts";
import type { KafkaClientName } from "@steward/messaging";
import { MongoClient } from "mongodb";
import { Kafka, logLevel } from "kafkajs";

const root = fileURLToPath(new URL("../../", import.meta.url));
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
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, what: string, logFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready; see ${logFile}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms; see ${logFile}`);
    await sleep(250);
  }
}

/** A bench leaves nothing behind in the broker or store it measured: later runs start from the same state. */
async function dropDatabase(uri: string, database: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
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

const portVars: Record<string, string[]> = {
  intake: ["INTAKE_HTTP_PORT", "INTAKE_GRPC_PORT"],
  triage: ["TRIAGE_HTTP_PORT"],
  routing: ["ROUTING_HTTP_PORT", "ROUTING_GRPC_PORT"],
  escalation: ["ESCALATION_HTTP_PORT"],
};

export async function startSteward(opts: StewardOptions, log: (m: string) => void): Promise<RunningSystem> {
  const database = `bench_${opts.runId.replace(/-/g, "_")}`.slice(0, 60);
  // The run's own key set: services verify every agent's token, as in production.
  const keys = createSigningKeySet();
  const common = {
    STEWARD_AUTH_JWKS: JSON.stringify(keys.publicJwks),
    INTAKE_DEV_MODE: "true",
    INTAKE_ALLOW_ANONYMOUS_DEV: "true",
    KAFKA_BROKERS: opts.infra.brokers.join(","),
    MONGODB_URI: opts.infra.mongoUri,
    MONGODB_DATABASE: database,
    STEWARD_TOPIC_PREFIX: `bench-${opts.runId}.`,
    // Read by services once they select their Kafka client from config; ignored before that.
    STEWARD_KAFKA_CLIENT: opts.client,
    LOG_LEVEL: "warn",
    OTEL_TRACES_EXPORTER: "none",
  };
  const children: Array<{ name: string; child: ChildProcess }> = [];
  const urls: Record<string, string[]> = { intake: [], triage: [], routing: [], escalation: [] };
  const stopAll = async () => {
    await Promise.allSettled(children.map((c) => stopProcess(c.child, 20_000)));
  };
  try {
    // Routing and triage first: their consumer groups exist before the first ticket arrives.
    for (const svc of ["routing", "triage", "escalation", "intake"] as const) {
      for (let i = 0; i < opts.instances[svc]; i += 1) {
        const name = opts.instances[svc] > 1 ? `${svc}-${i + 1}` : svc;
        const ports: Record<string, string> = {};
        for (const v of portVars[svc] ?? []) ports[v] = String(await freePort());
        const httpPort = ports[(portVars[svc] ?? [])[0] as string] as string;
        const logFile = join(opts.logDir, `${name}.log`);
        const out = await open(logFile, "a");
        const child = spawn(process.execPath, [...(opts.execArgv?.[svc] ?? []), join(root, "services", svc, "src", "main.ts")], {
          env: { ...process.env, ...common, ...ports, STEWARD_INSTANCE_ID: `${opts.runId}-${name}` },
          stdio: ["ignore", out.fd, out.fd],
          cwd: root,
        });
        await out.close();
        children.push({ name, child });
        const url = `http://127.0.0.1:${httpPort}`;
        urls[svc]?.push(url);
        await waitReady(`${url}/health/ready`, child, name, logFile);
        log(`${name} ready at ${url} (pid ${child.pid})`);
      }
    }
    const agents = await forkBenchChild("agents", join(here, "agent-simulator.ts"), { logFile: join(opts.logDir, "agents.log") });
    children.push({ name: "agents", child: agents.process });
    await agents.call("start", { ...opts.agents, gateways: urls["routing"], idPrefix: `bench-${opts.runId}`, signingKey: keys.privateJwk });
    log(`${opts.agents.agents} agents online (capacity ${opts.agents.capacityPerChannel} per channel)`);
    return {
      targets: urls["intake"] ?? [],
      observer: agents,
      processes: children.map((c) => ({ name: c.name, pid: c.child.pid as number })),
      async stop() {
        await agents.call("close").catch(() => undefined);
        await stopAll();
        await dropDatabase(opts.infra.mongoUri, database).catch((err: unknown) => log(`could not drop ${database}: ${String(err)}`));
        await deleteTopics(opts.infra.brokers, common.STEWARD_TOPIC_PREFIX).catch((err: unknown) => log(`could not delete topics: ${String(err)}`));
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
        started.push(await forkBenchChild(n, script, { env: { ...base, BENCH_ROLE: "relay", BENCH_FROM: from, BENCH_TO: to }, logFile: join(opts.logDir, `floor-${opts.client}-${n}.log`) }));
      }
    }
    for (let i = 0; i < opts.instances.http; i += 1) {
      const n = opts.instances.http > 1 ? `http-${i + 1}` : "http";
      const port = await freePort();
      started.push(await forkBenchChild(n, script, { env: { ...base, BENCH_ROLE: "http", BENCH_PORT: String(port) }, logFile: join(opts.logDir, `floor-${opts.client}-${n}.log`) }));
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
