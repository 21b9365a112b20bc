// ./steward start — the whole system on one machine: Kafka and the store, every service, a handful of
// sample agents that take work live and answer before resolving, simulated channel traffic through sample
// integrations (.steward/dev-integrations.json), and a sample receiver that verifies and prints what each
// integration's webhook is pushed. Ctrl-C or ./steward stop ends it all.
//   --duration <s>       stop by itself after s seconds (default: run until interrupted)
//   --rate <n>           simulated tickets per second (default 0.5; 0 sends none)
//   --no-sample-agents   start with an empty desk (connect your own agents to the gateway)
//   --keep-data          keep the previous run's Kafka topics and store (default: start from a clean slate,
//                        so a demo never replays events written by an older version of the services)
// Pid files go to .steward/run and service logs to .steward/logs, for ./steward stop | status | logs.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { mkdir, rm } from "node:fs/promises";
import { stopFerretDb, stopKafka } from "@steward/infra";
import { generalistAgent, provisionInfra } from "@steward/testkit";
import { loadOrCreateSigningKeySet, signToken } from "@steward/auth/dev-keys";
import { runSampleAgents, runSimulatedTraffic } from "./simulation.ts";
import { SAMPLE_INTEGRATIONS, startSampleReceiver, writeSampleIntegrations } from "./sample-receiver.ts";
import { parseStartOptions } from "./start-options.ts";
import {
  devAuthDir,
  devIntegrationsFile,
  ferretDbDir,
  forgetPid,
  infraDir,
  kafkaDir,
  logDir,
  recordPid,
  root,
  runningPid,
  serviceEntry,
  serviceLog,
  services,
  stopRecorded,
} from "./local-run.ts";

const log = (m: string) => process.stdout.write(`[steward] ${m}\n`);
let options: ReturnType<typeof parseStartOptions>;
try {
  options = parseStartOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
const { duration, rate } = options;

const previous = await runningPid("start");
if (previous !== undefined) {
  process.stderr.write(`steward is already running (pid ${previous}); ./steward status shows it, ./steward stop ends it\n`);
  process.exit(1);
}
await recordPid("start", process.pid);
// Services left behind by a start that was killed would hold the fixed ports.
for (const s of services) if (await stopRecorded(s.name, 15_000)) log(`stopped ${s.name} left running by an earlier start`);

await mkdir(logDir, { recursive: true });
if (!options.keepData) {
  await Promise.all([stopKafka(kafkaDir), stopFerretDb(ferretDbDir)]);
  await rm(infraDir, { recursive: true, force: true });
}
// The console's page is built from source on every start (a few seconds), so it never lags the code.
log("building the console page");
const { build } = await import("vite");
await build({ configFile: join(root, "services", "console", "web", "vite.config.ts"), logLevel: "warn" });
const infra = await provisionInfra({ purpose: "dev", stateDir: infraDir, kafkaPort: 9092, mongoPort: 27017, log: (m) => log(`infra: ${m}`) });

// Identity for the demo: this checkout's own key set (`./steward token` signs with the same one). The
// services get only its public half. Intake reads the sample integrations file (below), as in production.
const keys = loadOrCreateSigningKeySet(devAuthDir);
// Outbound delivery for the demo: the sample integrations push to a local receiver that prints each message.
// With an integrations file intake authenticates every caller as in production (the dev key still works).
const receiver = await startSampleReceiver(log);
await writeSampleIntegrations(devIntegrationsFile, receiver.url);
const devEnv = {
  STEWARD_AUTH_JWKS_FILE: keys.jwksFile,
  INTAKE_INTEGRATIONS_FILE: devIntegrationsFile,
  INTAKE_OUTBOUND_RETRY_BASE_MS: "500",
  INTAKE_OUTBOUND_RETRY_MAX_MS: "10000",
};
const sign = (subject: string, roles: Array<"agent" | "supervisor" | "admin">, groups: string[] = []) => signToken(keys.privateJwk, { subject, roles, groups });

const children: ChildProcess[] = [];
for (const s of services) {
  const out = openSync(serviceLog(s.name), "a");
  const child = spawn(process.execPath, [serviceEntry(s.name)], {
    env: { ...process.env, ...devEnv, ...s.env, KAFKA_BROKERS: infra.brokers.join(","), MONGODB_URI: infra.mongoUri },
    stdio: ["ignore", out, out],
  });
  if (child.pid !== undefined) await recordPid(s.name, child.pid);
  child.on("exit", (code) => {
    if (!stopping) log(`${s.name} exited with ${code}; see ${serviceLog(s.name)}`);
  });
  children.push(child);
}

let stopping = false;
async function stop(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    log("stopping");
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once("exit", r)))));
    await Promise.all(services.map((s) => forgetPid(s.name)));
    await infra.stop();
    await receiver.close();
    await forgetPid("start");
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

for (const s of services) {
  const url = `http://127.0.0.1:${s.port}/health/ready`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      log(`${s.name} did not become ready; see ${serviceLog(s.name)}`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

const adminToken = await sign("admin", ["admin"]);
const agents = options.sampleAgents
  ? await runSampleAgents({ gateway: "http://127.0.0.1:8081", tokens: { admin: adminToken, agent: (id) => sign(id, ["agent"]) }, log })
  : undefined;
// The demo supervisor oversees every group the shipped triage policy routes to.
const supervisorGroups = generalistAgent("any", ["en"]).groups;
const supervisorToken = await sign("sam", ["supervisor"], supervisorGroups);
const keyOf = (id: string) => SAMPLE_INTEGRATIONS.find((i) => i.id === id)?.apiKey;
const traffic = runSimulatedTraffic({
  intake: "http://127.0.0.1:8080",
  ratePerSecond: rate,
  log,
  apiKeyFor: (channel) => keyOf(channel === "email" ? "sample-mail" : channel === "chat" ? "sample-chat" : "dev"),
});

log("Steward is running:");
log(`  intake API        http://127.0.0.1:8080/docs   (POST /v1/tickets, GET /v1/tickets/{id}, GET /v1/tickets?reference=ST-…)`);
log(`  integrations      ${devIntegrationsFile}: ${SAMPLE_INTEGRATIONS.map((i) => `${i.id} (API key ${i.apiKey})`).join(", ")}`);
log(`  sample receiver   ${receiver.url}/steward/<integration> prints each outbound push`);
log(`  agent gateway     http://127.0.0.1:8081/docs   (live work: GET /v1/agents/{id}/work)`);
log(`  triage            http://127.0.0.1:8082/health/ready`);
log(`  escalation        http://127.0.0.1:8083/health/ready`);
log(`  console           http://127.0.0.1:8084/   (agent desk and supervisor dashboard; API at /docs)`);
if (agents) for (const a of agents.ids) log(`  agent ${a.padEnd(10)} http://127.0.0.1:8081/v1/agents/${a}/work`);
else log("  no sample agents (--no-sample-agents): the desk is empty");
log(rate > 0 ? `  simulated traffic ${rate} tickets/s` : "  no simulated traffic (--rate 0)");
log("Sign in with a bearer token (Authorization: Bearer <token>); ./steward token --agent|--supervisor|--admin <id> makes more:");
if (agents) for (const a of agents.ids) log(`  agent ${a.padEnd(10)} ${await sign(a, ["agent"])}`);
log(`  supervisor sam    ${supervisorToken}   (groups: ${supervisorGroups.join(", ")})`);
log(`  admin             ${adminToken}`);
log("Sign in to the console (each link carries a development token for that person):");
if (agents) for (const a of agents.ids) log(`  agent ${a.padEnd(10)} http://127.0.0.1:8084/?token=${await sign(a, ["agent"])}`);
log(`  supervisor sam    http://127.0.0.1:8084/?token=${supervisorToken}`);
log(`  kafka ${infra.brokers.join(",")}   store ${infra.mongoUri}   logs ${logDir}`);
log("Ctrl-C (or ./steward stop) stops everything; ./steward status and ./steward logs work from another terminal.");

if (duration > 0) {
  setTimeout(() => {
    traffic.stop();
    agents?.stop();
    const pushed = receiver.counts();
    log(`ran ${duration}s: ${traffic.sent()} tickets sent, ${agents?.accepted() ?? 0} offers accepted, ${agents?.replied() ?? 0} replied, ${agents?.resolved() ?? 0} resolved`);
    log(
      `outbound pushes received: ${
        Object.entries(pushed)
          .map(([id, n]) => `${id} ${n}`)
          .join(", ") || "none"
      } (${receiver.duplicates()} re-deliveries, ${receiver.refused()} refused)`,
    );
    // The smoke check (a simulated ticket reached an agent) only means something when both are on.
    const checked = rate > 0 && agents !== undefined;
    void stop(!checked || (traffic.sent() > 0 && agents.accepted() > 0) ? 0 : 1);
  }, duration * 1000);
}
