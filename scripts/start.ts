// ./steward start — the whole system on one machine: Kafka and the store, every service, a handful of
// sample agents that take work live, and simulated channel traffic. Ctrl-C stops everything.
//   --duration <s>   stop by itself after s seconds (default: run until interrupted)
//   --rate <n>       simulated tickets per second (default 0.5)
//   --keep-data      keep the previous run's Kafka topics and store (default: start from a clean slate,
//                    so a demo never replays events written by an older version of the services)
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { stopFerretDb, stopKafka } from "@steward/infra";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { provisionInfra } from "@steward/testkit";
import { loadOrCreateSigningKeySet, signToken } from "@steward/auth/dev-keys";
import { runSampleAgents, runSimulatedTraffic } from "./simulation.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const duration = Number(flag("--duration") ?? 0);
const rate = Number(flag("--rate") ?? 0.5);
const log = (m: string) => process.stdout.write(`[steward] ${m}\n`);

const logDir = join(root, ".steward", "logs");
await mkdir(logDir, { recursive: true });
const stateDir = join(root, ".steward", "infra");
if (!args.includes("--keep-data")) {
  await Promise.all([stopKafka(join(stateDir, "kafka")), stopFerretDb(join(stateDir, "ferretdb"))]);
  await rm(stateDir, { recursive: true, force: true });
}
const infra = await provisionInfra({ purpose: "dev", stateDir, kafkaPort: 9092, mongoPort: 27017, log: (m) => log(`infra: ${m}`) });

// Identity for the demo: this checkout's own key set (`./steward token` signs with the same one). The
// services get only its public half; intake runs in development mode, explicitly.
const keys = loadOrCreateSigningKeySet(join(root, ".steward", "dev-auth"));
const devEnv = { STEWARD_AUTH_JWKS_FILE: keys.jwksFile, INTAKE_DEV_MODE: "true", INTAKE_ALLOW_ANONYMOUS_DEV: "true" };
const sign = (subject: string, roles: Array<"agent" | "supervisor" | "admin">, groups: string[] = []) => signToken(keys.privateJwk, { subject, roles, groups });

const services = [
  { name: "intake", port: 8080, env: { INTAKE_HTTP_PORT: "8080" } },
  { name: "triage", port: 8082, env: { TRIAGE_HTTP_PORT: "8082" } },
  { name: "routing", port: 8081, env: { ROUTING_HTTP_PORT: "8081" } },
  { name: "escalation", port: 8083, env: { ESCALATION_HTTP_PORT: "8083" } },
];
const children: ChildProcess[] = [];
for (const s of services) {
  const out = openSync(join(logDir, `${s.name}.log`), "a");
  const child = spawn(process.execPath, [join(root, "services", s.name, "src", "main.ts")], {
    env: { ...process.env, ...devEnv, ...s.env, KAFKA_BROKERS: infra.brokers.join(","), MONGODB_URI: infra.mongoUri },
    stdio: ["ignore", out, out],
  });
  child.on("exit", (code) => {
    if (!stopping) log(`${s.name} exited with ${code}; see ${join(logDir, `${s.name}.log`)}`);
  });
  children.push(child);
}

let stopping = false;
async function stop(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    log("stopping");
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
    await infra.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

for (const s of services) {
  const url = `http://127.0.0.1:${s.port}/health/ready`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      log(`${s.name} did not become ready; see ${join(logDir, `${s.name}.log`)}`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

const adminToken = await sign("admin", ["admin"]);
const agents = await runSampleAgents({ gateway: "http://127.0.0.1:8081", tokens: { admin: adminToken, agent: (id) => sign(id, ["agent"]) }, log });
const supervisorGroups = agents.groups;
const supervisorToken = await sign("sam", ["supervisor"], supervisorGroups);
const traffic = runSimulatedTraffic({ intake: "http://127.0.0.1:8080", ratePerSecond: rate, log });

log("Steward is running:");
log(`  intake API        http://127.0.0.1:8080/docs   (POST /v1/tickets, GET /v1/tickets/{id})`);
log(`  agent gateway     http://127.0.0.1:8081/docs   (live work: GET /v1/agents/{id}/work)`);
log(`  triage            http://127.0.0.1:8082/health/ready`);
log(`  escalation        http://127.0.0.1:8083/health/ready`);
for (const a of agents.ids) log(`  agent ${a.padEnd(10)} http://127.0.0.1:8081/v1/agents/${a}/work`);
log("Sign in with a bearer token (Authorization: Bearer <token>); ./steward token --agent|--supervisor|--admin <id> makes more:");
for (const a of agents.ids) log(`  agent ${a.padEnd(10)} ${await sign(a, ["agent"])}`);
log(`  supervisor sam    ${supervisorToken}   (groups: ${supervisorGroups.join(", ")})`);
log(`  admin             ${adminToken}`);
log(`  kafka ${infra.brokers.join(",")}   store ${infra.mongoUri}   logs ${logDir}`);
log("Ctrl-C stops everything.");

if (duration > 0) {
  setTimeout(() => {
    traffic.stop();
    agents.stop();
    log(`ran ${duration}s: ${traffic.sent()} tickets sent, ${agents.accepted()} offers accepted, ${agents.resolved()} resolved`);
    void stop(traffic.sent() > 0 && agents.accepted() > 0 ? 0 : 1);
  }, duration * 1000);
}
